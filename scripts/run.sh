#!/usr/bin/env bash
# `make run`: everything a newcomer needs on one machine — a local chain node, the four
# contracts, the demo scenario, the index, and the API + auditor portal on
# http://127.0.0.1:8000 — in the foreground until Ctrl-C, which stops it all cleanly.
set -euo pipefail
cd "$(dirname "$0")/.."
XT=.venv/bin/xietong
# The demo's home is this checkout (var/, deployments/), whatever XIETONG_HOME says elsewhere.
export XIETONG_HOME=$PWD
export XIETONG_ENV=local
# The gateway runs as 杭州市民政局 (dev account 2), which owns the demo datasets.
export XIETONG_DEV_ACCOUNT=${XIETONG_DEV_ACCOUNT:-2}
# The portal opens without signing in on this local demo; the API still takes keys.
export XIETONG_API_OPEN_READS=${XIETONG_API_OPEN_READS:-true}
PORT=${XIETONG_API_PORT:-8000}
FOUNDERS=${FOUNDERS:-scripts/founders.local.yaml}

# A second `make run` (or anything else) on the API's port: said before anything starts,
# and before a banner or a key is printed.
if (exec 3<>"/dev/tcp/127.0.0.1/${PORT}") 2>/dev/null; then
  echo "error: something already listens on 127.0.0.1:${PORT} (another make run?): stop it" \
    "(Ctrl-C where it runs), or use another port: XIETONG_API_PORT=8001 make run" >&2
  exit 1
fi

started_node=0
cleanup() {
  trap - EXIT INT TERM
  if [ "$started_node" = 1 ]; then $XT node stop || true; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if ! $XT node status >/dev/null 2>&1; then
  # A fresh node is a fresh chain: the local index, manifest and demo files described the
  # old one, so they go (keystores and anything outside var/ and deployments/ stay).
  rm -rf var/xietong.db var/xietong.db-wal var/xietong.db-shm var/demo deployments/31337.json
  $XT node start
  started_node=1
fi
$XT deploy --founders "$FOUNDERS" --reuse
$XT demo --once
$XT index
KEY=$($XT apikey create --scope read --name "make run" --json | .venv/bin/python -c 'import json,sys; print(json.load(sys.stdin)["key"])')
FILE=$(ls var/demo/policy/*.md | head -1)
cat <<MSG

────────────────────────────────────────────────────────────────────────────
 Xietong (协同) is running. Open the auditor portal:

   http://127.0.0.1:${PORT}/            verify a file (drop ${FILE})
   http://127.0.0.1:${PORT}/datasets    versions and lineage
   http://127.0.0.1:${PORT}/agreements  sharing agreements board
   http://127.0.0.1:${PORT}/audit       audit trail and CSV export
   http://127.0.0.1:${PORT}/docs        the API (OpenAPI)

 The same check with curl and a read key created for you:

   curl -s -H 'X-API-Key: ${KEY}' \\
     "http://127.0.0.1:${PORT}/v1/verify?hash=0x\$(sha256sum '${FILE}' | cut -c1-64)"

 Ctrl-C stops the API$( [ "$started_node" = 1 ] && echo " and the node" ).
────────────────────────────────────────────────────────────────────────────

MSG
$XT serve --port "$PORT"
