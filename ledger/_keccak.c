/*
 * ledger._keccak — Keccak-256 and OpenZeppelin standard Merkle trees in bulk.
 *
 * This is the fast path of ledger/merkle.py; that module documents the semantics and keeps a
 * pure-Python fallback that must give identical results (the tests compare both).
 *
 *   keccak256(data)                    Keccak-256 (original padding 0x01, not SHA3's 0x06)
 *   keccak_many(blob, item_len, threads=0)
 *                                      digests of consecutive item_len-byte items, concatenated
 *                                      (the "raw keccak floor" of the benchmark)
 *   hash_pair(a, b)                    keccak256(sorted(a, b)) — OpenZeppelin's node hash
 *   process_proof(leaf, proof)         fold a proof with hash_pair (MerkleProof.processProof)
 *   file_leaves(entries, threads=0)    [(sha256: bytes32, path: str)] -> [leaf hash]
 *   record_leaves(entries, threads=0)  [(sha256: bytes32, salt: bytes32)] -> [leaf hash]
 *   build(leaf_hashes, threads=0)      any order -> (sorted leaves blob, internal nodes blob)
 *   build_sorted(blob, threads=0)      sorted leaves blob -> internal nodes blob
 *   sort_order(blob)                 32-byte keys blob -> (sorted blob, uint32 input positions)
 *   find(sorted_blob, leaf)            index of the first equal leaf, or -1
 *   proof(sorted_blob, nodes, index)   proof of the sorted leaf ``index`` (core.js getProof)
 *   default_threads()                  worker threads used when ``threads`` is 0
 *   simd() / set_simd(enabled)         whether four hashes run at once (AVX2; on by default
 *                                      where the CPU has it), and switching it off/on
 *
 * Leaf hash = keccak256(keccak256(abi.encode(values))).  For (bytes32, string) the encoding
 * is  hash || uint256(0x40) || uint256(len) || utf8(path) zero-padded to 32 bytes;  for
 * (bytes32, bytes32) it is the 64 bytes  hash || salt.
 *
 * Tree layout (core.js makeMerkleTree): the flat array has size 2n-1, tree[0] is the root,
 * sorted leaf i sits at tree[size-1-i], and internal node t < n-1 hashes tree[2t+1] and
 * tree[2t+2].  We keep the two halves apart: ``sorted`` holds the n leaves in ascending order
 * (what gets persisted) and ``nodes`` holds tree[0 .. n-2], so tree[c] for c >= n-1 is
 * sorted[2n-2-c].
 *
 * Python objects are read (and copied into private buffers) while holding the GIL; all
 * hashing and sorting then runs with the GIL released, split over worker threads when the
 * input is large enough, and within each thread four independent hashes at a time where the
 * CPU has AVX2 (leaves are independent, and so are the nodes of one tree level).  Input errors raise TypeError/ValueError with the entry index; the
 * Python wrapper turns them into ledger errors, with the same wording as its fallback.
 */

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#ifdef __linux__
#include <sched.h>
#endif

#define RATE 136         /* Keccak-256 rate in bytes (1600 - 2*256 bits) */
#define HASH 32          /* digest and Merkle node size */
#define MAX_THREADS 16   /* upper bound on worker threads */
#define PAR_MIN 4096     /* below this many items, one thread is faster */

/* ------------------------------------------------------------------ Keccak-f[1600] */

static const uint64_t RC[24] = {
    0x0000000000000001ULL, 0x0000000000008082ULL, 0x800000000000808AULL, 0x8000000080008000ULL,
    0x000000000000808BULL, 0x0000000080000001ULL, 0x8000000080008081ULL, 0x8000000000008009ULL,
    0x000000000000008AULL, 0x0000000000000088ULL, 0x0000000080008009ULL, 0x000000008000000AULL,
    0x000000008000808BULL, 0x800000000000008BULL, 0x8000000000008089ULL, 0x8000000000008003ULL,
    0x8000000000008002ULL, 0x8000000000000080ULL, 0x000000000000800AULL, 0x800000008000000AULL,
    0x8000000080008081ULL, 0x8000000000008080ULL, 0x0000000080000001ULL, 0x8000000080008008ULL,
};

#define ROL(a, n) (((a) << (n)) | ((a) >> (64 - (n))))

/* One round from state A.. into state E.. (theta, rho, pi, chi, iota), lanes named
 * <row><column> with rows b g k m s (y = 0..4) and columns a e i o u (x = 0..4).  T is the
 * lane type: uint64_t for one state, or a vector of four lanes for four states at once (GCC
 * vector extensions apply ^ & ~ << >> element-wise and broadcast the scalar rc). */
#define ROUND(T, A, E, rc)                                                                 \
    do {                                                                                   \
        T Ca = A##ba ^ A##ga ^ A##ka ^ A##ma ^ A##sa;                                      \
        T Ce = A##be ^ A##ge ^ A##ke ^ A##me ^ A##se;                                      \
        T Ci = A##bi ^ A##gi ^ A##ki ^ A##mi ^ A##si;                                      \
        T Co = A##bo ^ A##go ^ A##ko ^ A##mo ^ A##so;                                      \
        T Cu = A##bu ^ A##gu ^ A##ku ^ A##mu ^ A##su;                                      \
        T Da = Cu ^ ROL(Ce, 1), De = Ca ^ ROL(Ci, 1), Di = Ce ^ ROL(Co, 1);                \
        T Do = Ci ^ ROL(Cu, 1), Du = Co ^ ROL(Ca, 1);                                      \
        T Ba, Be, Bi, Bo, Bu;                                                              \
        Ba = A##ba ^ Da;                                                                   \
        Be = ROL(A##ge ^ De, 44);                                                          \
        Bi = ROL(A##ki ^ Di, 43);                                                          \
        Bo = ROL(A##mo ^ Do, 21);                                                          \
        Bu = ROL(A##su ^ Du, 14);                                                          \
        E##ba = Ba ^ ((~Be) & Bi) ^ (rc);                                                  \
        E##be = Be ^ ((~Bi) & Bo);                                                         \
        E##bi = Bi ^ ((~Bo) & Bu);                                                         \
        E##bo = Bo ^ ((~Bu) & Ba);                                                         \
        E##bu = Bu ^ ((~Ba) & Be);                                                         \
        Ba = ROL(A##bo ^ Do, 28);                                                          \
        Be = ROL(A##gu ^ Du, 20);                                                          \
        Bi = ROL(A##ka ^ Da, 3);                                                           \
        Bo = ROL(A##me ^ De, 45);                                                          \
        Bu = ROL(A##si ^ Di, 61);                                                          \
        E##ga = Ba ^ ((~Be) & Bi);                                                         \
        E##ge = Be ^ ((~Bi) & Bo);                                                         \
        E##gi = Bi ^ ((~Bo) & Bu);                                                         \
        E##go = Bo ^ ((~Bu) & Ba);                                                         \
        E##gu = Bu ^ ((~Ba) & Be);                                                         \
        Ba = ROL(A##be ^ De, 1);                                                           \
        Be = ROL(A##gi ^ Di, 6);                                                           \
        Bi = ROL(A##ko ^ Do, 25);                                                          \
        Bo = ROL(A##mu ^ Du, 8);                                                           \
        Bu = ROL(A##sa ^ Da, 18);                                                          \
        E##ka = Ba ^ ((~Be) & Bi);                                                         \
        E##ke = Be ^ ((~Bi) & Bo);                                                         \
        E##ki = Bi ^ ((~Bo) & Bu);                                                         \
        E##ko = Bo ^ ((~Bu) & Ba);                                                         \
        E##ku = Bu ^ ((~Ba) & Be);                                                         \
        Ba = ROL(A##bu ^ Du, 27);                                                          \
        Be = ROL(A##ga ^ Da, 36);                                                          \
        Bi = ROL(A##ke ^ De, 10);                                                          \
        Bo = ROL(A##mi ^ Di, 15);                                                          \
        Bu = ROL(A##so ^ Do, 56);                                                          \
        E##ma = Ba ^ ((~Be) & Bi);                                                         \
        E##me = Be ^ ((~Bi) & Bo);                                                         \
        E##mi = Bi ^ ((~Bo) & Bu);                                                         \
        E##mo = Bo ^ ((~Bu) & Ba);                                                         \
        E##mu = Bu ^ ((~Ba) & Be);                                                         \
        Ba = ROL(A##bi ^ Di, 62);                                                          \
        Be = ROL(A##go ^ Do, 55);                                                          \
        Bi = ROL(A##ku ^ Du, 39);                                                          \
        Bo = ROL(A##ma ^ Da, 41);                                                          \
        Bu = ROL(A##se ^ De, 2);                                                           \
        E##sa = Ba ^ ((~Be) & Bi);                                                         \
        E##se = Be ^ ((~Bi) & Bo);                                                         \
        E##si = Bi ^ ((~Bo) & Bu);                                                         \
        E##so = Bo ^ ((~Bu) & Ba);                                                         \
        E##su = Bu ^ ((~Ba) & Be);                                                         \
    } while (0)

/* The 24 rounds on s[25] (lanes s[x + 5y]) of lane type T, with the state in locals. */
#define PERMUTE(T, s)                                                                      \
    do {                                                                                   \
        T Aba = s[0], Abe = s[1], Abi = s[2], Abo = s[3], Abu = s[4];                      \
        T Aga = s[5], Age = s[6], Agi = s[7], Ago = s[8], Agu = s[9];                      \
        T Aka = s[10], Ake = s[11], Aki = s[12], Ako = s[13], Aku = s[14];                 \
        T Ama = s[15], Ame = s[16], Ami = s[17], Amo = s[18], Amu = s[19];                 \
        T Asa = s[20], Ase = s[21], Asi = s[22], Aso = s[23], Asu = s[24];                 \
        T Eba, Ebe, Ebi, Ebo, Ebu, Ega, Ege, Egi, Ego, Egu, Eka, Eke, Eki, Eko, Eku;       \
        T Ema, Eme, Emi, Emo, Emu, Esa, Ese, Esi, Eso, Esu;                                \
        for (int round = 0; round < 24; round += 2) {                                      \
            ROUND(T, A, E, RC[round]);                                                     \
            ROUND(T, E, A, RC[round + 1]);                                                 \
        }                                                                                  \
        s[0] = Aba, s[1] = Abe, s[2] = Abi, s[3] = Abo, s[4] = Abu;                        \
        s[5] = Aga, s[6] = Age, s[7] = Agi, s[8] = Ago, s[9] = Agu;                        \
        s[10] = Aka, s[11] = Ake, s[12] = Aki, s[13] = Ako, s[14] = Aku;                   \
        s[15] = Ama, s[16] = Ame, s[17] = Ami, s[18] = Amo, s[19] = Amu;                   \
        s[20] = Asa, s[21] = Ase, s[22] = Asi, s[23] = Aso, s[24] = Asu;                   \
    } while (0)

/* The Keccak-f[1600] permutation on 25 little-endian lanes, s[x + 5y]. */
static void keccakf(uint64_t s[25]) { PERMUTE(uint64_t, s); }

static inline uint64_t load64le(const uint8_t *p) {
    uint64_t v;
    memcpy(&v, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    return v;
}

static inline void store64le(uint8_t *p, uint64_t v) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    memcpy(p, &v, 8);
}

static inline void squeeze32(const uint64_t s[25], uint8_t out[HASH]) {
    store64le(out, s[0]);
    store64le(out + 8, s[1]);
    store64le(out + 16, s[2]);
    store64le(out + 24, s[3]);
}

/* Keccak-256 of any message. */
static void keccak256(const uint8_t *in, size_t len, uint8_t out[HASH]) {
    uint64_t s[25] = {0};
    uint8_t block[RATE];
    while (len >= RATE) {
        for (int i = 0; i < RATE / 8; i++) s[i] ^= load64le(in + 8 * i);
        keccakf(s);
        in += RATE;
        len -= RATE;
    }
    memset(block, 0, RATE);
    if (len) memcpy(block, in, len);
    block[len] ^= 0x01;
    block[RATE - 1] ^= 0x80;
    for (int i = 0; i < RATE / 8; i++) s[i] ^= load64le(block + 8 * i);
    keccakf(s);
    squeeze32(s, out);
}

/* Keccak-256 of exactly 32 bytes (one block, padding placed directly in the lanes). */
static inline void keccak32(const uint8_t in[HASH], uint8_t out[HASH]) {
    uint64_t s[25] = {0};
    s[0] = load64le(in);
    s[1] = load64le(in + 8);
    s[2] = load64le(in + 16);
    s[3] = load64le(in + 24);
    s[4] = 0x01;
    s[16] = 0x8000000000000000ULL;
    keccakf(s);
    squeeze32(s, out);
}

/* Keccak-256 of the 64 bytes a || b. */
static inline void keccak_2x32(const uint8_t a[HASH], const uint8_t b[HASH], uint8_t out[HASH]) {
    uint64_t s[25] = {0};
    s[0] = load64le(a);
    s[1] = load64le(a + 8);
    s[2] = load64le(a + 16);
    s[3] = load64le(a + 24);
    s[4] = load64le(b);
    s[5] = load64le(b + 8);
    s[6] = load64le(b + 16);
    s[7] = load64le(b + 24);
    s[8] = 0x01;
    s[16] = 0x8000000000000000ULL;
    keccakf(s);
    squeeze32(s, out);
}

/* OpenZeppelin's node hash: keccak256 of the two children in ascending byte order. */
static inline void hash_pair(const uint8_t a[HASH], const uint8_t b[HASH], uint8_t out[HASH]) {
    if (memcmp(a, b, HASH) <= 0)
        keccak_2x32(a, b, out);
    else
        keccak_2x32(b, a, out);
}

/* ------------------------------------------------------------------ four states at once */
/*
 * On x86 CPUs with AVX2 (checked at run time), four independent Keccak states run side by
 * side, one per 64-bit element of 256-bit vectors: about four times the throughput of one
 * state.  Every bulk loop hashes groups of four this way and the rest one at a time;
 * set_simd(False) forces the one-at-a-time path everywhere (the tests compare the two).
 */
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
#define HAVE_X4 1
typedef uint64_t v4 __attribute__((vector_size(32)));
#define X4 __attribute__((target("avx2")))

static int simd_enabled = 0;

#define V4(x) ((v4){(x), (x), (x), (x)})
/* The 8 bytes at ``off`` of each of four buffers, as one vector. */
#define GATHER(p, off)                                                                     \
    ((v4){load64le((p)[0] + (off)), load64le((p)[1] + (off)), load64le((p)[2] + (off)),   \
          load64le((p)[3] + (off))})

X4 static inline void keccakf_x4(v4 s[25]) { PERMUTE(v4, s); }

X4 static inline void clear_x4(v4 s[25]) {
    for (int i = 0; i < 25; i++) s[i] = V4(0);
}

X4 static inline void squeeze_x4(const v4 s[25], uint8_t *const out[4]) {
    for (int k = 0; k < 4; k++)
        for (int i = 0; i < 4; i++) store64le(out[k] + 8 * i, s[i][k]);
}

/* keccak256(a[k] || b[k]) for k < 4; with ``twice``, keccak256 of that digest again (the
 * second hash of a leaf, taken straight from the state's digest lanes). */
X4 static void pair_x4(const uint8_t *const a[4], const uint8_t *const b[4], uint8_t *const out[4],
                       int twice) {
    v4 s[25];
    clear_x4(s);
    for (int i = 0; i < 4; i++) {
        s[i] = GATHER(a, 8 * i);
        s[4 + i] = GATHER(b, 8 * i);
    }
    s[8] = V4(0x01);
    s[16] = V4(0x8000000000000000ULL);
    keccakf_x4(s);
    if (twice) {
        for (int i = 4; i < 25; i++) s[i] = V4(0);
        s[4] = V4(0x01);
        s[16] = V4(0x8000000000000000ULL);
        keccakf_x4(s);
    }
    squeeze_x4(s, out);
}

/* keccak256 of four 32-byte inputs (out may be in). */
X4 static void hash32_x4(const uint8_t *const in[4], uint8_t *const out[4]) {
    v4 s[25];
    clear_x4(s);
    for (int i = 0; i < 4; i++) s[i] = GATHER(in, 8 * i);
    s[4] = V4(0x01);
    s[16] = V4(0x8000000000000000ULL);
    keccakf_x4(s);
    squeeze_x4(s, out);
}

/* keccak256 of four messages of the same number of whole blocks (len[k] / RATE equal). */
X4 static void hash_x4(const uint8_t *const msg[4], const size_t len[4], uint8_t *const out[4]) {
    v4 s[25];
    uint8_t last[4][RATE];
    const uint8_t *p[4];
    size_t blocks = len[0] / RATE;
    clear_x4(s);
    for (size_t j = 0; j < blocks; j++) {
        for (int k = 0; k < 4; k++) p[k] = msg[k] + RATE * j;
        for (int i = 0; i < RATE / 8; i++) s[i] ^= GATHER(p, 8 * i);
        keccakf_x4(s);
    }
    for (int k = 0; k < 4; k++) {
        size_t rem = len[k] - RATE * blocks;
        memset(last[k], 0, RATE);
        if (rem) memcpy(last[k], msg[k] + RATE * blocks, rem);
        last[k][rem] ^= 0x01;
        last[k][RATE - 1] ^= 0x80;
        p[k] = last[k];
    }
    for (int i = 0; i < RATE / 8; i++) s[i] ^= GATHER(p, 8 * i);
    keccakf_x4(s);
    squeeze_x4(s, out);
}
#endif /* HAVE_X4 */

/* ------------------------------------------------------------------ worker threads */

typedef void (*range_fn)(void *ctx, size_t lo, size_t hi);

typedef struct {
    range_fn fn;
    void *ctx;
    size_t lo, hi;
} chunk_t;

static void *chunk_main(void *arg) {
    chunk_t *c = (chunk_t *)arg;
    c->fn(c->ctx, c->lo, c->hi);
    return NULL;
}

static int cpu_count(void) {
#ifdef __linux__
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof(set), &set) == 0) {
        int n = CPU_COUNT(&set);
        if (n > 0) return n;
    }
#endif
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

static int resolve_threads(int requested) {
    int n = requested > 0 ? requested : cpu_count();
    if (n > MAX_THREADS) n = MAX_THREADS;
    return n < 1 ? 1 : n;
}

/* Run fn over [0, n) split into contiguous chunks, one per thread (the caller runs the
 * first).  Must be called without the GIL; fn must not touch Python objects.  If a thread
 * cannot be started, the caller runs its chunk itself. */
static void parallel_for(size_t n, int threads, range_fn fn, void *ctx) {
    if (threads <= 1 || n < PAR_MIN) {
        fn(ctx, 0, n);
        return;
    }
    if ((size_t)threads > n / (PAR_MIN / 2)) threads = (int)(n / (PAR_MIN / 2));
    if (threads <= 1) {
        fn(ctx, 0, n);
        return;
    }
    chunk_t chunks[MAX_THREADS];
    pthread_t ids[MAX_THREADS];
    int started[MAX_THREADS] = {0};
    for (int t = 0; t < threads; t++) {
        chunks[t].fn = fn;
        chunks[t].ctx = ctx;
        chunks[t].lo = n * (size_t)t / (size_t)threads;
        chunks[t].hi = n * (size_t)(t + 1) / (size_t)threads;
    }
    for (int t = 1; t < threads; t++)
        started[t] = pthread_create(&ids[t], NULL, chunk_main, &chunks[t]) == 0;
    fn(ctx, chunks[0].lo, chunks[0].hi);
    for (int t = 1; t < threads; t++) {
        if (started[t])
            pthread_join(ids[t], NULL);
        else
            fn(ctx, chunks[t].lo, chunks[t].hi);
    }
}

/* ------------------------------------------------------------------ reading Python input */

/* Where a bad value sits, for error messages: "entry 3: the salt", "leaf 7", "the leaf". */
typedef enum { AT_ENTRY, AT_LEAF, AT_PROOF, AT_NAMED } where_t;

static void describe(char *buf, size_t size, where_t where, Py_ssize_t index, const char *field) {
    switch (where) {
    case AT_ENTRY:
        PyOS_snprintf(buf, size, "entry %zd: the %s", index, field);
        break;
    case AT_LEAF:
        PyOS_snprintf(buf, size, "leaf %zd", index);
        break;
    case AT_PROOF:
        PyOS_snprintf(buf, size, "proof step %zd", index);
        break;
    default:
        PyOS_snprintf(buf, size, "the %s", field);
    }
}

/* Copy a 32-byte bytes-like object into dst.  On error sets TypeError (not bytes-like) or
 * ValueError (wrong length) naming the value's place, and returns -1.  The message is only
 * formatted on error: this runs once per leaf. */
static int read_hash32(PyObject *obj, uint8_t *dst, where_t where, Py_ssize_t index,
                       const char *field) {
    char what[96];
    Py_buffer view;
    if (PyBytes_Check(obj) && PyBytes_GET_SIZE(obj) == HASH) {
        memcpy(dst, PyBytes_AS_STRING(obj), HASH);
        return 0;
    }
    describe(what, sizeof(what), where, index, field);
    if (PyUnicode_Check(obj) || !PyObject_CheckBuffer(obj) ||
        PyObject_GetBuffer(obj, &view, PyBUF_SIMPLE) < 0) {
        PyErr_Clear();
        PyErr_Format(PyExc_TypeError, "%s must be bytes, not %.100s", what,
                     Py_TYPE(obj)->tp_name);
        return -1;
    }
    if (view.len != HASH) {
        PyErr_Format(PyExc_ValueError, "%s must be 32 bytes, not %zd", what, view.len);
        PyBuffer_Release(&view);
        return -1;
    }
    memcpy(dst, view.buf, HASH);
    PyBuffer_Release(&view);
    return 0;
}

/* The two items of entry ``i`` (a tuple or list of length 2), or -1 with TypeError. */
static int read_pair(PyObject *item, Py_ssize_t i, const char *shape, PyObject **first,
                     PyObject **second) {
    if (PyTuple_Check(item) && PyTuple_GET_SIZE(item) == 2) {
        *first = PyTuple_GET_ITEM(item, 0);
        *second = PyTuple_GET_ITEM(item, 1);
        return 0;
    }
    if (PyList_Check(item) && PyList_GET_SIZE(item) == 2) {
        *first = PyList_GET_ITEM(item, 0);
        *second = PyList_GET_ITEM(item, 1);
        return 0;
    }
    PyErr_Format(PyExc_TypeError, "entry %zd is not a pair %s", i, shape);
    return -1;
}

/* A list of n bytes objects of 32 bytes each, from a packed buffer. */
static PyObject *digest_list(const uint8_t *buf, size_t n) {
    PyObject *list = PyList_New((Py_ssize_t)n);
    if (!list) return NULL;
    for (size_t i = 0; i < n; i++) {
        PyObject *b = PyBytes_FromStringAndSize((const char *)buf + HASH * i, HASH);
        if (!b) {
            Py_DECREF(list);
            return NULL;
        }
        PyList_SET_ITEM(list, (Py_ssize_t)i, b);
    }
    return list;
}

/* ------------------------------------------------------------------ leaves */

typedef struct {
    const uint8_t *in; /* n records of 64 bytes: hash || salt */
    uint8_t *out;      /* n digests */
} record_job_t;

static void record_range(void *arg, size_t lo, size_t hi) {
    record_job_t *job = (record_job_t *)arg;
    uint8_t inner[HASH];
    size_t i = lo;
#ifdef HAVE_X4
    for (; simd_enabled && i + 4 <= hi; i += 4) {
        const uint8_t *a[4], *b[4];
        uint8_t *out[4];
        for (int k = 0; k < 4; k++) {
            a[k] = job->in + 2 * HASH * (i + k);
            b[k] = a[k] + HASH;
            out[k] = job->out + HASH * (i + k);
        }
        pair_x4(a, b, out, 1);
    }
#endif
    for (; i < hi; i++) {
        const uint8_t *rec = job->in + 2 * HASH * i;
        keccak_2x32(rec, rec + HASH, inner);
        keccak32(inner, job->out + HASH * i);
    }
}

static PyObject *py_record_leaves(PyObject *self, PyObject *args, PyObject *kwargs) {
    static char *kwlist[] = {"entries", "threads", NULL};
    PyObject *entries, *seq;
    int threads = 0;
    (void)self;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O|i:record_leaves", kwlist, &entries,
                                     &threads))
        return NULL;
    seq = PySequence_Fast(entries, "entries must be a sequence of (record hash, salt) pairs");
    if (!seq) return NULL;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    uint8_t *in = PyMem_RawMalloc((size_t)(n ? n : 1) * 2 * HASH);
    uint8_t *out = PyMem_RawMalloc((size_t)(n ? n : 1) * HASH);
    PyObject *result = NULL;
    if (!in || !out) {
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *a, *b;
        if (read_pair(PySequence_Fast_GET_ITEM(seq, i), i, "(record hash, salt)", &a, &b) < 0 ||
            read_hash32(a, in + 2 * HASH * i, AT_ENTRY, i, "record hash") < 0 ||
            read_hash32(b, in + 2 * HASH * i + HASH, AT_ENTRY, i, "salt") < 0)
            goto done;
    }
    record_job_t job = {in, out};
    int nthreads = resolve_threads(threads);
    Py_BEGIN_ALLOW_THREADS
    parallel_for((size_t)n, nthreads, record_range, &job);
    Py_END_ALLOW_THREADS
    result = digest_list(out, (size_t)n);
done:
    PyMem_RawFree(in);
    PyMem_RawFree(out);
    Py_DECREF(seq);
    return result;
}

typedef struct {
    const uint8_t *hashes; /* n content hashes */
    const uint8_t *paths;  /* UTF-8 paths, back to back */
    const size_t *offsets; /* n + 1 offsets into paths */
    size_t max_path;       /* longest path, to size the per-thread message buffer */
    uint8_t *out;
    int failed;            /* set when a worker could not allocate its buffer */
} file_job_t;

/* abi.encode(bytes32, string) of entry i into msg: hash, offset 0x40, UTF-8 length, UTF-8
 * bytes zero-padded to a multiple of 32.  Returns the message length. */
static size_t encode_file(const file_job_t *job, size_t i, uint8_t *msg) {
    size_t len = job->offsets[i + 1] - job->offsets[i];
    size_t padded = ((len + HASH - 1) / HASH) * HASH;
    memcpy(msg, job->hashes + HASH * i, HASH);
    memset(msg + HASH, 0, 2 * HASH);
    msg[2 * HASH - 1] = 0x40;
    for (int k = 0; k < 8; k++) msg[3 * HASH - 1 - k] = (uint8_t)(len >> (8 * k));
    memcpy(msg + 3 * HASH, job->paths + job->offsets[i], len);
    memset(msg + 3 * HASH + len, 0, padded - len);
    return 3 * HASH + padded;
}

#ifdef HAVE_X4
#define FILE_CHUNK 64  /* entries encoded at a time, then grouped by block count */
#define FILE_SLOT 1024 /* longest message hashed four at a time; longer ones one by one */

/* First hashes of entries [lo, hi) into out, four at a time where four messages of the same
 * block count are at hand, then the second hashes four at a time. */
static int file_range_x4(file_job_t *job, size_t lo, size_t hi, uint8_t *msg, size_t cap) {
    size_t slot = cap < FILE_SLOT ? cap : FILE_SLOT;
    uint8_t *arena = malloc(FILE_CHUNK * slot);
    size_t lens[FILE_CHUNK];
    size_t waiting[FILE_SLOT / RATE + 1][4];
    int count[FILE_SLOT / RATE + 1];
    if (!arena) return -1;
    for (size_t base = lo; base < hi; base += FILE_CHUNK) {
        size_t end = hi - base > FILE_CHUNK ? base + FILE_CHUNK : hi;
        memset(count, 0, sizeof(count));
        for (size_t i = base; i < end; i++) {
            size_t len = job->offsets[i + 1] - job->offsets[i];
            size_t msg_len = 3 * HASH + ((len + HASH - 1) / HASH) * HASH;
            if (msg_len > slot) {
                keccak256(msg, encode_file(job, i, msg), job->out + HASH * i);
                continue;
            }
            uint8_t *m = arena + slot * (i - base);
            lens[i - base] = encode_file(job, i, m);
            size_t b = msg_len / RATE;
            waiting[b][count[b]++] = i;
            if (count[b] == 4) {
                const uint8_t *group[4];
                size_t group_len[4];
                uint8_t *out[4];
                for (int k = 0; k < 4; k++) {
                    size_t j = waiting[b][k] - base;
                    group[k] = arena + slot * j;
                    group_len[k] = lens[j];
                    out[k] = job->out + HASH * waiting[b][k];
                }
                hash_x4(group, group_len, out);
                count[b] = 0;
            }
        }
        for (size_t b = 0; b <= FILE_SLOT / RATE; b++)
            for (int k = 0; k < count[b]; k++) {
                size_t j = waiting[b][k] - base;
                keccak256(arena + slot * j, lens[j], job->out + HASH * waiting[b][k]);
            }
    }
    free(arena);
    size_t i = lo;
    for (; i + 4 <= hi; i += 4) {
        const uint8_t *in[4];
        uint8_t *out[4];
        for (int k = 0; k < 4; k++) in[k] = out[k] = job->out + HASH * (i + k);
        hash32_x4(in, out);
    }
    for (; i < hi; i++) keccak32(job->out + HASH * i, job->out + HASH * i);
    return 0;
}
#endif

static void file_range(void *arg, size_t lo, size_t hi) {
    file_job_t *job = (file_job_t *)arg;
    size_t cap = 3 * HASH + ((job->max_path + HASH - 1) / HASH) * HASH;
    uint8_t *msg = malloc(cap);
    uint8_t inner[HASH];
    if (!msg) {
        job->failed = 1;
        return;
    }
#ifdef HAVE_X4
    if (simd_enabled) {
        if (file_range_x4(job, lo, hi, msg, cap) < 0) job->failed = 1;
        free(msg);
        return;
    }
#endif
    for (size_t i = lo; i < hi; i++) {
        keccak256(msg, encode_file(job, i, msg), inner);
        keccak32(inner, job->out + HASH * i);
    }
    free(msg);
}

static PyObject *py_file_leaves(PyObject *self, PyObject *args, PyObject *kwargs) {
    static char *kwlist[] = {"entries", "threads", NULL};
    PyObject *entries, *seq;
    int threads = 0;
    (void)self;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O|i:file_leaves", kwlist, &entries,
                                     &threads))
        return NULL;
    seq = PySequence_Fast(entries, "entries must be a sequence of (content hash, path) pairs");
    if (!seq) return NULL;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    size_t alloc_n = (size_t)(n ? n : 1);
    uint8_t *hashes = PyMem_RawMalloc(alloc_n * HASH);
    uint8_t *out = PyMem_RawMalloc(alloc_n * HASH);
    size_t *offsets = PyMem_RawMalloc((alloc_n + 1) * sizeof(size_t));
    const char **ptrs = PyMem_RawMalloc(alloc_n * sizeof(char *));
    uint8_t *paths = NULL;
    size_t total = 0, max_path = 0;
    PyObject *result = NULL;
    if (!hashes || !out || !offsets || !ptrs) {
        PyErr_NoMemory();
        goto done;
    }
    /* Pass 1: validate, copy the hashes, find each path's UTF-8 bytes (cached by str). */
    offsets[0] = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *h, *p;
        Py_ssize_t len;
        if (read_pair(PySequence_Fast_GET_ITEM(seq, i), i, "(content hash, path)", &h, &p) < 0 ||
            read_hash32(h, hashes + HASH * i, AT_ENTRY, i, "content hash") < 0)
            goto done;
        if (!PyUnicode_Check(p)) {
            PyErr_Format(PyExc_TypeError, "entry %zd: the path must be a str, not %.100s", i,
                         Py_TYPE(p)->tp_name);
            goto done;
        }
        ptrs[i] = PyUnicode_AsUTF8AndSize(p, &len);
        if (!ptrs[i]) {
            PyErr_Clear();
            PyErr_Format(PyExc_ValueError, "entry %zd: the path is not encodable as UTF-8", i);
            goto done;
        }
        total += (size_t)len;
        offsets[i + 1] = total;
        if ((size_t)len > max_path) max_path = (size_t)len;
    }
    /* Pass 2: copy the paths, so that nothing Python owns is read without the GIL. */
    paths = PyMem_RawMalloc(total ? total : 1);
    if (!paths) {
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t i = 0; i < n; i++)
        memcpy(paths + offsets[i], ptrs[i], offsets[i + 1] - offsets[i]);
    file_job_t job = {hashes, paths, offsets, max_path, out, 0};
    int nthreads = resolve_threads(threads);
    Py_BEGIN_ALLOW_THREADS
    parallel_for((size_t)n, nthreads, file_range, &job);
    Py_END_ALLOW_THREADS
    if (job.failed) {
        PyErr_NoMemory();
        goto done;
    }
    result = digest_list(out, (size_t)n);
done:
    PyMem_RawFree(hashes);
    PyMem_RawFree(out);
    PyMem_RawFree(offsets);
    PyMem_RawFree((void *)ptrs);
    PyMem_RawFree(paths);
    Py_DECREF(seq);
    return result;
}

/* ------------------------------------------------------------------ sorting 32-byte keys */

static int cmp32(const void *a, const void *b) { return memcmp(a, b, HASH); }

static void insertion_sort32(uint8_t *base, size_t n) {
    uint8_t key[HASH];
    for (size_t i = 1; i < n; i++) {
        if (memcmp(base + HASH * (i - 1), base + HASH * i, HASH) <= 0) continue;
        memcpy(key, base + HASH * i, HASH);
        size_t j = i;
        while (j > 0 && memcmp(base + HASH * (j - 1), key, HASH) > 0) {
            memcpy(base + HASH * j, base + HASH * (j - 1), HASH);
            j--;
        }
        memcpy(base + HASH * j, key, HASH);
    }
}

enum { BUCKETS = 65536 };

/* Scatter n keys from src into dst by bucket (a key's first two bytes), in input order within
 * a bucket: bucket b lands at dst[start[b] .. start[b + 1]).  Returns start (BUCKETS + 1
 * entries, for the caller to free), NULL when out of memory.  With order, order[k] is the
 * input position of the key put at k. */
static size_t *scatter32(const uint8_t *src, uint8_t *dst, uint32_t *order, size_t n) {
    size_t *start = calloc(BUCKETS + 1, sizeof(size_t));
    size_t *fill;
    if (!start) return NULL;
    for (size_t i = 0; i < n; i++) start[((size_t)src[HASH * i] << 8 | src[HASH * i + 1]) + 1]++;
    for (size_t b = 0; b < BUCKETS; b++) start[b + 1] += start[b];
    fill = malloc(BUCKETS * sizeof(size_t));
    if (!fill) {
        free(start);
        return NULL;
    }
    memcpy(fill, start, BUCKETS * sizeof(size_t));
    for (size_t i = 0; i < n; i++) {
        size_t k = fill[(size_t)src[HASH * i] << 8 | src[HASH * i + 1]]++;
        memcpy(dst + HASH * k, src + HASH * i, HASH);
        if (order) order[k] = (uint32_t)i;
    }
    free(fill);
    return start;
}

/* Sort n keys from src into dst (ascending memcmp order).  One counting pass on the first
 * two bytes scatters the keys into 65536 buckets; each bucket is then small for hash input
 * (about n / 65536 keys) and sorted by insertion, or by qsort when it is large, so adversarial
 * input stays O(n log n). */
static int sort32(const uint8_t *src, uint8_t *dst, size_t n) {
    size_t *start = scatter32(src, dst, NULL, n);
    if (!start) return -1;
    for (size_t b = 0; b < BUCKETS; b++) {
        size_t count = start[b + 1] - start[b];
        if (count < 2) continue;
        if (count <= 32)
            insertion_sort32(dst + HASH * start[b], count);
        else
            qsort(dst + HASH * start[b], count, HASH, cmp32);
    }
    free(start);
    return 0;
}

/* Sort n keys from src into dst like sort32, and write order[i] = the input position of
 * sorted key i (ties keep input order), for n < 2^32.  Used to store a large version's leaf
 * rows in tree order with their row numbers, without one Python object per leaf. */
typedef struct {
    uint8_t key[HASH];
    uint32_t at;
} keyed32_t;

static int cmp_keyed32(const void *a, const void *b) {
    const keyed32_t *x = a, *y = b;
    int c = memcmp(x->key, y->key, HASH);
    if (c) return c;
    return (x->at > y->at) - (x->at < y->at);
}

static int sort32_order(const uint8_t *src, uint8_t *dst, uint32_t *order, size_t n) {
    size_t *start = scatter32(src, dst, order, n);
    keyed32_t *scratch = NULL;
    size_t scratch_cap = 0;
    if (!start) return -1;
    for (size_t b = 0; b < BUCKETS; b++) {
        size_t lo = start[b], count = start[b + 1] - start[b];
        if (count < 2) continue;
        if (count <= 32) { /* stable insertion sort of keys and positions together */
            uint8_t key[HASH];
            for (size_t i = lo + 1; i < lo + count; i++) {
                if (memcmp(dst + HASH * (i - 1), dst + HASH * i, HASH) <= 0) continue;
                memcpy(key, dst + HASH * i, HASH);
                uint32_t at = order[i];
                size_t j = i;
                while (j > lo && memcmp(dst + HASH * (j - 1), key, HASH) > 0) {
                    memcpy(dst + HASH * j, dst + HASH * (j - 1), HASH);
                    order[j] = order[j - 1];
                    j--;
                }
                memcpy(dst + HASH * j, key, HASH);
                order[j] = at;
            }
            continue;
        }
        if (count > scratch_cap) {
            keyed32_t *grown = realloc(scratch, count * sizeof(keyed32_t));
            if (!grown) {
                free(scratch);
                free(start);
                return -1;
            }
            scratch = grown;
            scratch_cap = count;
        }
        for (size_t i = 0; i < count; i++) {
            memcpy(scratch[i].key, dst + HASH * (lo + i), HASH);
            scratch[i].at = order[lo + i];
        }
        qsort(scratch, count, sizeof(keyed32_t), cmp_keyed32);
        for (size_t i = 0; i < count; i++) {
            memcpy(dst + HASH * (lo + i), scratch[i].key, HASH);
            order[lo + i] = scratch[i].at;
        }
    }
    free(scratch);
    free(start);
    return 0;
}

static PyObject *py_sort_order(PyObject *self, PyObject *args) {
    Py_buffer blob;
    PyObject *sorted = NULL, *order = NULL, *result = NULL;
    int failed = 0;
    (void)self;
    if (!PyArg_ParseTuple(args, "y*:sort_order", &blob)) return NULL;
    if (blob.len % HASH != 0) {
        PyErr_Format(PyExc_ValueError, "leaves must be a multiple of 32 bytes, not %zd bytes",
                     blob.len);
        goto done;
    }
    size_t n = (size_t)blob.len / HASH;
    if (n > UINT32_MAX) {
        PyErr_SetString(PyExc_ValueError, "sort_order takes fewer than 2**32 leaves");
        goto done;
    }
    sorted = PyBytes_FromStringAndSize(NULL, blob.len);
    order = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)(n * sizeof(uint32_t)));
    if (!sorted || !order) goto done;
    uint8_t *sorted_buf = (uint8_t *)PyBytes_AS_STRING(sorted);
    uint32_t *order_buf = (uint32_t *)PyBytes_AS_STRING(order);
    const uint8_t *src = blob.buf;
    Py_BEGIN_ALLOW_THREADS
    failed = sort32_order(src, sorted_buf, order_buf, n) < 0;
    Py_END_ALLOW_THREADS
    if (failed) {
        PyErr_NoMemory();
        goto done;
    }
    result = PyTuple_Pack(2, sorted, order);
done:
    Py_XDECREF(sorted);
    Py_XDECREF(order);
    PyBuffer_Release(&blob);
    return result;
}

/* ------------------------------------------------------------------ tree */

/* Internal nodes tree[lo .. hi) of one level, children from ``nodes`` or the sorted leaves. */
typedef struct {
    const uint8_t *leaves; /* n sorted leaves */
    uint8_t *nodes;        /* n - 1 internal nodes */
    size_t n;
    size_t base;           /* first tree index of the current range */
} level_job_t;

static inline const uint8_t *tree_node(const uint8_t *leaves, const uint8_t *nodes, size_t n,
                                       size_t t) {
    return t < n - 1 ? nodes + HASH * t : leaves + HASH * (2 * n - 2 - t);
}

static void level_range(void *arg, size_t lo, size_t hi) {
    level_job_t *job = (level_job_t *)arg;
    size_t k = lo;
#ifdef HAVE_X4
    for (; simd_enabled && k + 4 <= hi; k += 4) {
        const uint8_t *a[4], *b[4];
        uint8_t *out[4];
        for (int j = 0; j < 4; j++) {
            size_t t = job->base + k + j;
            const uint8_t *left = tree_node(job->leaves, job->nodes, job->n, 2 * t + 1);
            const uint8_t *right = tree_node(job->leaves, job->nodes, job->n, 2 * t + 2);
            int ordered = memcmp(left, right, HASH) <= 0;
            a[j] = ordered ? left : right;
            b[j] = ordered ? right : left;
            out[j] = job->nodes + HASH * t;
        }
        pair_x4(a, b, out, 0);
    }
#endif
    for (; k < hi; k++) {
        size_t t = job->base + k;
        hash_pair(tree_node(job->leaves, job->nodes, job->n, 2 * t + 1),
                  tree_node(job->leaves, job->nodes, job->n, 2 * t + 2), job->nodes + HASH * t);
    }
}

/* Fill nodes[0 .. n-2] from the sorted leaves, deepest level first; the nodes of one level
 * are independent and are split across threads. */
static void build_nodes(const uint8_t *leaves, uint8_t *nodes, size_t n, int threads) {
    if (n < 2) return;
    size_t m = n - 1; /* internal nodes are tree[0 .. m-1] */
    int depth = 0;
    while (((size_t)2 << depth) - 1 <= m - 1) depth++; /* level of tree[m-1] */
    for (int d = depth; d >= 0; d--) {
        size_t lo = ((size_t)1 << d) - 1;
        size_t hi = ((size_t)2 << d) - 1;
        if (hi > m) hi = m;
        level_job_t job = {leaves, nodes, n, lo};
        parallel_for(hi - lo, threads, level_range, &job);
    }
}

static PyObject *py_build(PyObject *self, PyObject *args, PyObject *kwargs) {
    static char *kwlist[] = {"leaves", "threads", NULL};
    PyObject *leaves, *seq, *sorted = NULL, *nodes = NULL, *result = NULL;
    int threads = 0, failed = 0;
    (void)self;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O|i:build", kwlist, &leaves, &threads))
        return NULL;
    seq = PySequence_Fast(leaves, "leaf hashes must be a sequence of bytes");
    if (!seq) return NULL;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    uint8_t *staging = NULL;
    if (n == 0) {
        PyErr_SetString(PyExc_ValueError, "a Merkle tree needs at least one leaf");
        goto done;
    }
    staging = PyMem_RawMalloc((size_t)n * HASH);
    if (!staging) {
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t i = 0; i < n; i++)
        if (read_hash32(PySequence_Fast_GET_ITEM(seq, i), staging + HASH * i, AT_LEAF, i, NULL) < 0)
            goto done;
    sorted = PyBytes_FromStringAndSize(NULL, n * HASH);
    nodes = PyBytes_FromStringAndSize(NULL, (n - 1) * HASH);
    if (!sorted || !nodes) goto done;
    uint8_t *sorted_buf = (uint8_t *)PyBytes_AS_STRING(sorted);
    uint8_t *nodes_buf = (uint8_t *)PyBytes_AS_STRING(nodes);
    int nthreads = resolve_threads(threads);
    Py_BEGIN_ALLOW_THREADS
    failed = sort32(staging, sorted_buf, (size_t)n) < 0;
    if (!failed) build_nodes(sorted_buf, nodes_buf, (size_t)n, nthreads);
    Py_END_ALLOW_THREADS
    if (failed) {
        PyErr_NoMemory();
        goto done;
    }
    result = PyTuple_Pack(2, sorted, nodes);
done:
    PyMem_RawFree(staging);
    Py_XDECREF(sorted);
    Py_XDECREF(nodes);
    Py_DECREF(seq);
    return result;
}

static PyObject *py_build_sorted(PyObject *self, PyObject *args, PyObject *kwargs) {
    static char *kwlist[] = {"blob", "threads", NULL};
    Py_buffer blob;
    int threads = 0;
    PyObject *nodes = NULL;
    (void)self;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "y*|i:build_sorted", kwlist, &blob, &threads))
        return NULL;
    size_t n = (size_t)blob.len / HASH;
    const uint8_t *leaves = blob.buf;
    if (blob.len == 0 || blob.len % HASH != 0) {
        PyErr_Format(PyExc_ValueError,
                     "sorted leaves must be a non-empty multiple of 32 bytes, not %zd bytes",
                     blob.len);
        goto done;
    }
    for (size_t i = 1; i < n; i++) {
        if (memcmp(leaves + HASH * (i - 1), leaves + HASH * i, HASH) > 0) {
            PyErr_Format(PyExc_ValueError, "sorted leaves are out of order at leaf %zu", i);
            goto done;
        }
    }
    nodes = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)((n - 1) * HASH));
    if (!nodes) goto done;
    uint8_t *nodes_buf = (uint8_t *)PyBytes_AS_STRING(nodes);
    int nthreads = resolve_threads(threads);
    Py_BEGIN_ALLOW_THREADS
    build_nodes(leaves, nodes_buf, n, nthreads);
    Py_END_ALLOW_THREADS
done:
    PyBuffer_Release(&blob);
    return nodes;
}

static PyObject *py_find(PyObject *self, PyObject *args) {
    Py_buffer blob, leaf;
    Py_ssize_t found = -1;
    (void)self;
    if (!PyArg_ParseTuple(args, "y*y*:find", &blob, &leaf)) return NULL;
    if (leaf.len == HASH && blob.len % HASH == 0) {
        const uint8_t *base = blob.buf;
        size_t lo = 0, hi = (size_t)blob.len / HASH;
        while (lo < hi) { /* first index whose leaf is >= the key */
            size_t mid = lo + (hi - lo) / 2;
            if (memcmp(base + HASH * mid, leaf.buf, HASH) < 0)
                lo = mid + 1;
            else
                hi = mid;
        }
        if (lo < (size_t)blob.len / HASH && memcmp(base + HASH * lo, leaf.buf, HASH) == 0)
            found = (Py_ssize_t)lo;
    }
    PyBuffer_Release(&blob);
    PyBuffer_Release(&leaf);
    return PyLong_FromSsize_t(found);
}

static PyObject *py_proof(PyObject *self, PyObject *args) {
    Py_buffer blob, nodes;
    Py_ssize_t index;
    PyObject *list = NULL;
    (void)self;
    if (!PyArg_ParseTuple(args, "y*y*n:proof", &blob, &nodes, &index)) return NULL;
    size_t n = (size_t)blob.len / HASH;
    if (blob.len == 0 || blob.len % HASH != 0 || (size_t)nodes.len != (n - 1) * HASH) {
        PyErr_SetString(PyExc_ValueError, "inconsistent tree buffers");
        goto done;
    }
    if (index < 0 || (size_t)index >= n) {
        PyErr_Format(PyExc_IndexError, "leaf index %zd is out of range for %zu leaves", index, n);
        goto done;
    }
    list = PyList_New(0);
    if (!list) goto done;
    for (size_t t = 2 * n - 2 - (size_t)index; t > 0; t = (t - 1) / 2) {
        size_t sibling = (t % 2 == 0) ? t - 1 : t + 1;
        const uint8_t *p = tree_node(blob.buf, nodes.buf, n, sibling);
        PyObject *b = PyBytes_FromStringAndSize((const char *)p, HASH);
        if (!b || PyList_Append(list, b) < 0) {
            Py_XDECREF(b);
            Py_CLEAR(list);
            goto done;
        }
        Py_DECREF(b);
    }
done:
    PyBuffer_Release(&blob);
    PyBuffer_Release(&nodes);
    return list;
}

/* ------------------------------------------------------------------ small functions */

static PyObject *py_keccak256(PyObject *self, PyObject *args) {
    Py_buffer data;
    uint8_t out[HASH];
    (void)self;
    if (!PyArg_ParseTuple(args, "y*:keccak256", &data)) return NULL;
    if (data.len > 65536) {
        Py_BEGIN_ALLOW_THREADS
        keccak256(data.buf, (size_t)data.len, out);
        Py_END_ALLOW_THREADS
    } else {
        keccak256(data.buf, (size_t)data.len, out);
    }
    PyBuffer_Release(&data);
    return PyBytes_FromStringAndSize((const char *)out, HASH);
}

typedef struct {
    const uint8_t *in;
    size_t item_len;
    uint8_t *out;
} many_job_t;

static void many_range(void *arg, size_t lo, size_t hi) {
    many_job_t *job = (many_job_t *)arg;
    size_t i = lo;
#ifdef HAVE_X4
    for (; simd_enabled && i + 4 <= hi; i += 4) {
        const uint8_t *msg[4];
        size_t len[4];
        uint8_t *out[4];
        for (int k = 0; k < 4; k++) {
            msg[k] = job->in + job->item_len * (i + k);
            len[k] = job->item_len;
            out[k] = job->out + HASH * (i + k);
        }
        hash_x4(msg, len, out);
    }
#endif
    for (; i < hi; i++)
        keccak256(job->in + job->item_len * i, job->item_len, job->out + HASH * i);
}

static PyObject *py_keccak_many(PyObject *self, PyObject *args, PyObject *kwargs) {
    static char *kwlist[] = {"blob", "item_len", "threads", NULL};
    Py_buffer blob;
    Py_ssize_t item_len;
    int threads = 0;
    PyObject *out = NULL;
    (void)self;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "y*n|i:keccak_many", kwlist, &blob, &item_len,
                                     &threads))
        return NULL;
    if (item_len <= 0 || blob.len % item_len != 0) {
        PyErr_SetString(PyExc_ValueError, "the blob must be a whole number of positive-size items");
        goto done;
    }
    size_t n = (size_t)(blob.len / item_len);
    out = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)(n * HASH));
    if (!out) goto done;
    many_job_t job = {blob.buf, (size_t)item_len, (uint8_t *)PyBytes_AS_STRING(out)};
    int nthreads = resolve_threads(threads);
    Py_BEGIN_ALLOW_THREADS
    parallel_for(n, nthreads, many_range, &job);
    Py_END_ALLOW_THREADS
done:
    PyBuffer_Release(&blob);
    return out;
}

static int get_node_arg(Py_buffer *view, const char *what) {
    if (view->len != HASH) {
        PyErr_Format(PyExc_ValueError, "%s must be 32 bytes, not %zd", what, view->len);
        return -1;
    }
    return 0;
}

static PyObject *py_hash_pair(PyObject *self, PyObject *args) {
    Py_buffer a, b;
    uint8_t out[HASH];
    PyObject *result = NULL;
    (void)self;
    if (!PyArg_ParseTuple(args, "y*y*:hash_pair", &a, &b)) return NULL;
    if (get_node_arg(&a, "the first node") == 0 && get_node_arg(&b, "the second node") == 0) {
        hash_pair(a.buf, b.buf, out);
        result = PyBytes_FromStringAndSize((const char *)out, HASH);
    }
    PyBuffer_Release(&a);
    PyBuffer_Release(&b);
    return result;
}

static PyObject *py_process_proof(PyObject *self, PyObject *args) {
    PyObject *leaf_obj, *proof_obj, *seq;
    uint8_t acc[HASH], sibling[HASH];
    (void)self;
    if (!PyArg_ParseTuple(args, "OO:process_proof", &leaf_obj, &proof_obj)) return NULL;
    if (read_hash32(leaf_obj, acc, AT_NAMED, 0, "leaf") < 0) return NULL;
    seq = PySequence_Fast(proof_obj, "the proof must be a sequence of bytes");
    if (!seq) return NULL;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    for (Py_ssize_t i = 0; i < n; i++) {
        if (read_hash32(PySequence_Fast_GET_ITEM(seq, i), sibling, AT_PROOF, i, NULL) < 0) {
            Py_DECREF(seq);
            return NULL;
        }
        hash_pair(acc, sibling, acc);
    }
    Py_DECREF(seq);
    return PyBytes_FromStringAndSize((const char *)acc, HASH);
}

static PyObject *py_default_threads(PyObject *self, PyObject *unused) {
    (void)self;
    (void)unused;
    return PyLong_FromLong(resolve_threads(0));
}

static PyObject *py_simd(PyObject *self, PyObject *unused) {
    (void)self;
    (void)unused;
#ifdef HAVE_X4
    return PyBool_FromLong(simd_enabled);
#else
    return PyBool_FromLong(0);
#endif
}

static int simd_supported(void) {
#ifdef HAVE_X4
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") != 0;
#else
    return 0;
#endif
}

static PyObject *py_set_simd(PyObject *self, PyObject *args) {
    int enabled;
    (void)self;
    if (!PyArg_ParseTuple(args, "p:set_simd", &enabled)) return NULL;
#ifdef HAVE_X4
    simd_enabled = enabled && simd_supported();
#endif
    return py_simd(self, NULL);
}

/* ------------------------------------------------------------------ module */

static PyMethodDef methods[] = {
    {"keccak256", py_keccak256, METH_VARARGS, "keccak256(data) -> 32-byte Keccak-256 digest."},
    {"keccak_many", (PyCFunction)(void (*)(void))py_keccak_many, METH_VARARGS | METH_KEYWORDS,
     "keccak_many(blob, item_len, threads=0) -> digests of each item_len-byte item, packed."},
    {"hash_pair", py_hash_pair, METH_VARARGS,
     "hash_pair(a, b) -> keccak256 of the two 32-byte nodes in ascending order."},
    {"process_proof", py_process_proof, METH_VARARGS,
     "process_proof(leaf, proof) -> the root the proof leads to from leaf."},
    {"record_leaves", (PyCFunction)(void (*)(void))py_record_leaves, METH_VARARGS | METH_KEYWORDS,
     "record_leaves(entries, threads=0) -> leaf hashes of (bytes32, bytes32) pairs."},
    {"file_leaves", (PyCFunction)(void (*)(void))py_file_leaves, METH_VARARGS | METH_KEYWORDS,
     "file_leaves(entries, threads=0) -> leaf hashes of (bytes32, string) pairs."},
    {"build", (PyCFunction)(void (*)(void))py_build, METH_VARARGS | METH_KEYWORDS,
     "build(leaves, threads=0) -> (sorted leaves blob, internal nodes blob)."},
    {"build_sorted", (PyCFunction)(void (*)(void))py_build_sorted, METH_VARARGS | METH_KEYWORDS,
     "build_sorted(blob, threads=0) -> internal nodes blob of an ascending leaves blob."},
    {"sort_order", py_sort_order, METH_VARARGS,
     "sort_order(blob) -> (sorted leaves blob, order): order holds native uint32 input positions."},
    {"find", py_find, METH_VARARGS,
     "find(sorted_blob, leaf) -> index of the first leaf equal to leaf, or -1."},
    {"proof", py_proof, METH_VARARGS,
     "proof(sorted_blob, nodes, index) -> sibling hashes from sorted leaf index to the root."},
    {"simd", py_simd, METH_NOARGS,
     "simd() -> whether four hashes run at once (AVX2), the default where the CPU has it."},
    {"set_simd", py_set_simd, METH_VARARGS,
     "set_simd(enabled) -> use four-at-once hashing if enabled and supported; returns simd()."},
    {"default_threads", py_default_threads, METH_NOARGS,
     "default_threads() -> worker threads used when threads is 0 (usable CPUs, at most 16)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "ledger._keccak",
    .m_doc = "Keccak-256 and OpenZeppelin standard Merkle trees in bulk (see ledger/merkle.py).",
    .m_size = -1,
    .m_methods = methods,
};

PyMODINIT_FUNC PyInit__keccak(void) {
#ifdef HAVE_X4
    simd_enabled = simd_supported();
#endif
    return PyModule_Create(&module);
}
