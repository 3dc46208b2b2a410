"""Text read from the chain, made safe to store and to show.

Every string in a contract event is untrusted input: any bytes the contract lets through
(department names are the only strings in our events). This module turns those bytes into
text that every database and every screen can hold, keeps the bytes when the text cannot
say them exactly, and names what a reader should be warned of:

* :func:`decode_text` — the text of the bytes, never failing: invalid UTF-8 (lone surrogates
  among it, which Python's decoder refuses) and NUL (which PostgreSQL text cannot hold) become
  U+FFFD. :func:`raw_hex` gives the bytes as 0x-hex when the text does not say them exactly.
* :func:`text_flags` — what is wrong with a name, as stable flag strings (:data:`FLAGS`).
* :func:`skeleton` — what a name looks like, to find names that read like another's.
* :func:`visible` — the text with every invisible or reordering character written as an
  escape, for screens (the portal, the CLI) and for ``display_name`` in the API.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

__all__ = [
    "BIDI_CONTROLS",
    "FLAGS",
    "decode_text",
    "display_name",
    "join_flags",
    "raw_hex",
    "skeleton",
    "split_flags",
    "text_flags",
    "visible",
]

REPLACEMENT = "\ufffd"

#: Flags of a name, in the order they are listed:
#:
#: ``invalid-utf8``
#:     its bytes are not UTF-8 (the text shows U+FFFD; the bytes are kept as hex);
#: ``control``
#:     it holds a control character (NUL among them, which the text shows as U+FFFD) or a
#:     line or paragraph separator;
#: ``bidi``
#:     it holds a bidirectional control (e.g. U+202E RIGHT-TO-LEFT OVERRIDE), which reorders
#:     what is shown around it;
#: ``zero-width``
#:     it holds an invisible character (U+200B ZERO WIDTH SPACE, U+FEFF, other format
#:     characters, blank letters such as U+3164 HANGUL FILLER);
#: ``confusable``
#:     it holds letters that pass for others: compatibility forms (fullwidth letters, Kangxi
#:     radicals, CJK compatibility ideographs: anything NFKC changes), letters of two alphabets
#:     (Latin with Cyrillic or Greek), a decomposed form (NFC changes it), private-use or
#:     unassigned code points, or no letter or digit at all;
#: ``lookalike``
#:     once normalised (:func:`skeleton`), it reads like the name of another department.
FLAGS = ("invalid-utf8", "control", "bidi", "zero-width", "confusable", "lookalike")

#: Bidirectional formatting characters (Unicode's Bidi_Control property).
BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)
#: Letters and symbols that show as nothing (they are not format characters, so the category
#: check alone misses them).
_BLANK = frozenset("\u115f\u1160\u17b4\u17b5\u180e\u2800\u3164\uffa0")
#: Alphabets whose letters pass for one another; a name mixing two of them is confusable. Han,
#: kana and hangul mix with Latin in ordinary names and are left out.
_ALPHABETS = frozenset({"LATIN", "GREEK", "CYRILLIC", "ARMENIAN", "CHEROKEE", "COPTIC"})
#: Cyrillic and Greek letters that look like Latin ones, for :func:`skeleton` (after casefold).
_HOMOGLYPHS = str.maketrans(
    {
        "а": "a",
        "в": "b",
        "е": "e",
        "ё": "e",
        "і": "i",
        "ї": "i",
        "ј": "j",
        "к": "k",
        "м": "m",
        "н": "h",
        "о": "o",
        "р": "p",
        "с": "c",
        "т": "t",
        "у": "y",
        "х": "x",
        "ѕ": "s",
        "ԁ": "d",
        "ԛ": "q",
        "ԝ": "w",
        "α": "a",
        "β": "b",
        "ε": "e",
        "ι": "i",
        "κ": "k",
        "ν": "v",
        "ο": "o",
        "ρ": "p",
        "τ": "t",
        "υ": "u",
        "χ": "x",
    }
)


def decode_text(raw: bytes) -> str:
    """The text of ``raw``, which should be UTF-8; never raises. Invalid sequences (encoded
    surrogates and overlong forms among them) and NUL become U+FFFD, so the text is valid
    Unicode without surrogates, and every database can store it."""
    return raw.decode("utf-8", errors="replace").replace("\0", REPLACEMENT)


def raw_hex(raw: bytes, text: str) -> str | None:
    """``raw`` as 0x-hex when ``text`` (its :func:`decode_text`) does not say it exactly."""
    return None if text.encode("utf-8") == raw else "0x" + raw.hex()


def _alphabet(ch: str) -> str | None:
    if not ch.isalpha():
        return None
    first = unicodedata.name(ch, "").split(" ", 1)[0]
    return first if first in _ALPHABETS else None


def _confusable(text: str) -> bool:
    if unicodedata.normalize("NFC", text) != text or not skeleton(text):
        return True
    alphabets = set()
    for ch in text:
        category = unicodedata.category(ch)
        if category in ("Co", "Cn"):
            return True
        if category[0] in "LNS" and unicodedata.normalize("NFKC", ch) != ch:
            return True
        alphabet = _alphabet(ch)
        if alphabet is not None:
            alphabets.add(alphabet)
    return len(alphabets) > 1


def text_flags(text: str, hex_bytes: str | None = None) -> list[str]:
    """The flags (:data:`FLAGS`, in that order) of a name whose text is ``text`` and whose bytes,
    when the text does not say them exactly, are ``hex_bytes`` (0x-hex). ``lookalike`` needs
    the other names: the projection adds it."""
    found: set[str] = set()
    if hex_bytes is not None:
        raw = bytes.fromhex(hex_bytes[2:])
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError:
            found.add("invalid-utf8")
        if b"\0" in raw:
            found.add("control")
    for ch in text:
        category = unicodedata.category(ch)
        if ch in BIDI_CONTROLS:
            found.add("bidi")
        elif category in ("Cc", "Zl", "Zp"):
            found.add("control")
        elif category == "Cf" or ch in _BLANK:
            found.add("zero-width")
    if _confusable(text):
        found.add("confusable")
    return [flag for flag in FLAGS if flag in found]


def skeleton(text: str) -> str:
    """What a name looks like: NFKC, case-folded, common Cyrillic and Greek look-alikes of Latin
    letters mapped to them, and only letters and digits kept (no spaces, punctuation, marks or
    invisible characters). Two names with one skeleton read alike."""
    folded = unicodedata.normalize("NFKC", text).casefold().translate(_HOMOGLYPHS)
    return "".join(ch for ch in folded if ch.isalnum())


def join_flags(flags: Iterable[str]) -> str:
    """Flags as stored: comma-separated, in the order of :data:`FLAGS`."""
    given = set(flags)
    return ",".join(flag for flag in FLAGS if flag in given)


def split_flags(stored: str | None) -> list[str]:
    """Stored flags (:func:`join_flags`) as a list."""
    return [flag for flag in (stored or "").split(",") if flag]


def _escape(ch: str) -> str:
    code = ord(ch)
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def _hidden(ch: str) -> bool:
    if ch in BIDI_CONTROLS or ch in _BLANK:
        return True
    return unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp")


def visible(text: str, *, double_backslashes: bool = True) -> str:
    """``text`` with every character a reader cannot see, or that reorders what is shown
    (controls, bidi controls, format and zero-width characters, blank letters, separators,
    private-use and unassigned code points), written as ``\\uXXXX`` (``\\UXXXXXXXX`` above
    U+FFFF), and each backslash doubled so that an escape cannot be faked.

    ``double_backslashes=False`` is for sentences the library wrote, whose quoted values it
    escaped already (:class:`~ledger.hashing.HashingError` writes a line break as ``\\x0a``):
    shown once more, they would read ``\\\\x0a``."""
    backslash = "\\\\" if double_backslashes else "\\"
    if text.isprintable() and "\\" not in text and not any(ch in _BLANK for ch in text):
        return text
    return "".join(backslash if ch == "\\" else _escape(ch) if _hidden(ch) else ch for ch in text)


def display_name(name: str | None, flags: Iterable[str], department_id: str) -> str:
    """How to show a department: its name made :func:`visible`, with its id beside it when the
    name is flagged (or the id alone when there is no name)."""
    if name is None:
        return department_id
    shown = visible(name)
    return f"{shown} [{department_id}]" if list(flags) else shown
