"""Canonical JSON per RFC 8785 (JSON Canonicalization Scheme, JCS).

The canonical form of a value is the UTF-8 encoding of what ECMAScript's
``JSON.stringify`` prints for it, with object members sorted by the UTF-16 code units of
their names and no whitespace:

* strings: only ``"`` and ``\\`` and the controls U+0000–U+001F are escaped (``\\b \\t \\n
  \\f \\r`` by name, the rest as ``\\u00xx`` in lower-case hex); everything else, including
  U+007F and non-ASCII, is written as is. A lone surrogate has no UTF-8 form: refused.
* numbers: IEEE-754 doubles printed by ECMAScript's ``Number::toString`` (shortest digits
  that round-trip, exponent form below 1e-6 and from 1e21 on, ``-0`` as ``0``). NaN and
  ±Infinity are refused.
* Python ``int``: exact within ±2^53 and printed in full; larger magnitudes are refused,
  because a JavaScript number cannot hold them exactly and two different integers would then
  share one canonical form (quote such values as strings).
* ``True``/``False``/``None``: ``true``/``false``/``null``; mappings need ``str`` keys;
  lists and tuples are arrays. Anything else is refused.

:func:`loads_strict` parses JSON text the way I-JSON (RFC 7493) wants it, which JCS requires
of its input: no duplicate member names, no NaN/Infinity, no number overflowing a double.
"""

from __future__ import annotations

import json
import math
import re
import sys
from collections.abc import Callable, Mapping
from json.encoder import encode_basestring
from typing import Any

from ._errors import CanonicalJsonError

__all__ = [
    "MAX_EXACT_INT",
    "canonical_json",
    "canonicalize_json_text",
    "ecmascript_number",
    "hex_value",
    "loads_strict",
]

#: Largest integer magnitude accepted: 2^53 (every integer up to it is an exact double).
MAX_EXACT_INT = 2**53

_MAX_DEPTH = 200
_ASTRAL = re.compile("[\U00010000-\U0010ffff]")


def ecmascript_number(value: float) -> str:
    """``value`` as ECMAScript's ``Number::toString`` prints it (RFC 8785 §3.2.2.3).

    Python's ``repr`` gives the shortest digit string that round-trips (the same digits
    ECMAScript chooses); only the layout differs, and is redone here.

    Raises:
        CanonicalJsonError: ``value`` is NaN or infinite.
    """
    if not math.isfinite(value):
        shown = "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
        raise CanonicalJsonError(
            f"{shown} has no canonical JSON form (RFC 8785 refuses NaN and Infinity)."
        )
    if value == 0.0:
        return "0"  # also -0.0
    text = repr(value)
    if "e" not in text:
        # repr is positional for 1e-4 <= |value| < 1e16, where ECMAScript is positional too
        # and prints the same shortest digits; only a trailing ".0" differs.
        return text[:-2] if text.endswith(".0") else text
    sign = ""
    if text[0] == "-":
        sign, text = "-", text[1:]
    mantissa, _, exponent = text.partition("e")
    integral, _, fraction = mantissa.partition(".")
    digits = integral + fraction
    # value = 0.<digits> × 10^point
    point = len(integral) + (int(exponent) if exponent else 0)
    stripped = digits.lstrip("0")
    point -= len(digits) - len(stripped)
    digits = stripped.rstrip("0")
    k, n = len(digits), point
    if k <= n <= 21:
        body = digits + "0" * (n - k)
    elif 0 < n <= 21:
        body = digits[:n] + "." + digits[n:]
    elif -6 < n <= 0:
        body = "0." + "0" * -n + digits
    else:
        e = n - 1
        body = (
            digits[0]
            + ("." + digits[1:] if k > 1 else "")
            + ("e+" if e >= 0 else "e-")
            + str(abs(e))
        )
    return sign + body


def _int(value: int) -> str:
    if -MAX_EXACT_INT <= value <= MAX_EXACT_INT:
        return str(value)
    raise CanonicalJsonError(
        f"the integer {value} is beyond ±2^53, which JSON numbers (IEEE-754 doubles) cannot hold exactly; write it as a string."
    )


def _utf16_key(name: str) -> bytes:
    # Big-endian UTF-16 compares bytewise exactly as its code units do.
    return name.encode("utf-16-be", "surrogatepass")


def _scalar(value: Any) -> str | None:
    """The canonical text of a JSON scalar, or ``None`` when ``value`` is not one."""
    kind = type(value)
    if kind is str:
        return encode_basestring(value)
    if kind is int:
        return str(value) if -MAX_EXACT_INT <= value <= MAX_EXACT_INT else _int(value)
    if kind is float:
        return ecmascript_number(value)
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    return None


def _encode(value: Any, depth: int) -> str:
    text = _scalar(value)
    if text is not None:
        return text
    if depth >= _MAX_DEPTH:
        raise CanonicalJsonError(f"the value is nested more than {_MAX_DEPTH} levels deep.")
    if isinstance(value, Mapping):
        return _encode_object(value, depth + 1)
    if isinstance(value, list | tuple):
        return "[" + ",".join([_encode(item, depth + 1) for item in value]) + "]"
    # Subclasses of the JSON types (str enums, IntEnum, …) count as their base type.
    if isinstance(value, str):
        return encode_basestring(str(value))
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return _int(int(value))
    if isinstance(value, float):
        return ecmascript_number(float(value))
    raise CanonicalJsonError(
        f"a {type(value).__name__} has no JSON form; use str, int, float, bool, None, lists and mappings."
    )


def _sorted_names(value: Mapping[Any, Any]) -> list[str]:
    """Member names in UTF-16 code-unit order (RFC 8785 §3.2.3)."""
    names = list(value)
    try:
        joined = "".join(names)
    except TypeError:
        bad = next(name for name in names if not isinstance(name, str))
        raise CanonicalJsonError(
            f"object member names must be strings, not {type(bad).__name__} ({bad!r})."
        ) from None
    if joined.isascii() or _ASTRAL.search(joined) is None:
        # Without characters beyond U+FFFF, code-point order is code-unit order.
        names.sort()
    else:
        names.sort(key=_utf16_key)
    return names


def _encode_object(value: Mapping[Any, Any], depth: int) -> str:
    parts: list[str] = []
    append = parts.append
    for name in _sorted_names(value):
        item = value[name]
        if type(item) is str:  # the common case, inlined
            append(encode_basestring(name) + ":" + encode_basestring(item))
            continue
        text = _scalar(item)
        if text is None:
            text = _encode(item, depth)
        append(encode_basestring(name) + ":" + text)
    return "{" + ",".join(parts) + "}"


def canonical_json(value: object) -> bytes:
    """The RFC 8785 canonical JSON bytes (UTF-8) of ``value``.

    Pure: the same value always gives the same bytes; dict order does not matter.

    Raises:
        CanonicalJsonError: ``value`` contains something without a canonical form — NaN or
            Infinity, an int beyond ±2^53, a lone surrogate, a non-string key, a type JSON
            does not have, or nesting deeper than 200 levels.
    """
    try:
        text = _encode(value, 0)
    except RecursionError:
        raise CanonicalJsonError(
            f"the value is nested more than {_MAX_DEPTH} levels deep."
        ) from None
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as exc:
        bad = exc.object[exc.start]
        raise CanonicalJsonError(
            f"a string contains the lone surrogate U+{ord(bad):04X}, which has no UTF-8 form (RFC 8785 requires well-formed Unicode)."
        ) from None


# ---------------------------------------------------------------------------- strict parsing


class _DuplicateKeyError(ValueError):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


class _NonFiniteError(ValueError):
    def __init__(self, token: str) -> None:
        super().__init__(token)
        self.token = token


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        for name, _ in pairs:
            if name in seen:
                raise _DuplicateKeyError(name)
            seen.add(name)
    return obj


def _constant(token: str) -> Any:
    raise _NonFiniteError(token)


def _float(token: str) -> float:
    value = float(token)
    if not math.isfinite(value):
        raise _NonFiniteError(token)
    return value


_DECODER = json.JSONDecoder(object_pairs_hook=_pairs, parse_constant=_constant, parse_float=_float)


def _cut(text: str) -> str:
    """At most 80 characters of ``text`` for a message."""
    return text if len(text) <= 80 else text[:77] + "..."


_NESTING = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.DOTALL)


def _nested_deeper_than(text: str, limit: int) -> bool:
    """Whether arrays and objects in JSON ``text`` nest more than ``limit`` levels deep.

    Checked before parsing: json's C parser recurses once per level, and with the recursion
    limit that py_ecc (imported by eth_account) sets at import — 100000 — it overflows the C
    stack (a segfault, not a RecursionError) on a few hundred KB of ``[``.
    """
    if text.count("[") + text.count("{") <= limit:
        return False
    depth = 0
    for match in _NESTING.finditer(text):
        piece = match.group()
        if piece in ("[", "{"):
            depth += 1
            if depth > limit:
                return True
        elif piece in ("]", "}"):
            depth -= 1
    return False


def loads_strict(
    text: str | bytes,
    *,
    error: Callable[[str], Exception] | None = None,
    max_depth: int = _MAX_DEPTH,
) -> Any:
    """Parse one JSON text as I-JSON: refuse duplicate names, NaN/Infinity and overflow.

    Integers stay Python ints (``canonical_json`` refuses those beyond ±2^53); other
    numbers become floats.

    Args:
        text: The JSON text (surrounding whitespace allowed); UTF-8 when bytes.
        error: Builds the exception to raise from a one-sentence reason (without final
            period); defaults to :class:`CanonicalJsonError`.
        max_depth: Deepest nesting of arrays and objects accepted (checked before parsing).
    """
    make = error or (lambda reason: CanonicalJsonError(f"the JSON text is refused: {reason}."))
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise make(f"it is not UTF-8 text (byte {exc.start} is not valid UTF-8)") from None
    if _nested_deeper_than(text, max_depth):
        raise make(f"it is nested more than {max_depth} levels deep")
    try:
        return _DECODER.decode(text)
    except _DuplicateKeyError as exc:
        raise make(
            f"the member name {_cut(json.dumps(exc.name, ensure_ascii=False))} appears twice in one object"
        ) from None
    except _NonFiniteError as exc:
        raise make(
            f"the number {_cut(exc.token)} is not finite (NaN, Infinity and overflowing numbers are not JSON)"
        ) from None
    except json.JSONDecodeError as exc:
        raise make(f"it is not valid JSON ({exc.msg} at column {exc.colno})") from None
    except ValueError:  # int() of an integer beyond sys.get_int_max_str_digits()
        raise make(
            f"an integer has more than {sys.get_int_max_str_digits()} digits, which no JSON number holds exactly"
        ) from None
    except RecursionError:
        raise make("it is nested too deeply") from None


def canonicalize_json_text(text: str | bytes) -> bytes:
    """Parse JSON text strictly (:func:`loads_strict`) and return its canonical form.

    ``bytes`` must be UTF-8 (a leading byte-order mark is refused, as RFC 8259 asks).
    """
    return canonical_json(loads_strict(text))


def hex_value(value: Any, size: int, *, bad: Callable[[str], Exception]) -> bytes:
    """The ``size`` bytes a JSON document writes as ``2 * size`` lower-case hex digits; else
    ``bad(problem)`` is raised, ``problem`` saying what is wrong ("is not 64 hex digits")."""
    if not isinstance(value, str) or len(value) != 2 * size:
        raise bad(f"is not {2 * size} hex digits")
    try:
        raw = bytes.fromhex(value)
    except ValueError:
        raise bad(f"is not {2 * size} hex digits") from None
    if raw.hex() != value:
        raise bad("is not lower-case hex")
    return raw
