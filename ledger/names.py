"""Department names as ``DepartmentRegistry`` accepts them: the Python twin of its name check.

A name is 1 to 256 bytes of well-formed UTF-8 (RFC 3629: no overlong form, no surrogate,
nothing above U+10FFFF) without C0 or C1 control characters, DEL, U+2028–U+202E (line and
paragraph separators, bidirectional embeddings and overrides) or U+2066–U+2069
(bidirectional isolates). The contract refuses anything else with
``DepartmentRegistryInvalidName``, ``DepartmentRegistryNameNotUtf8(offset)`` or
``DepartmentRegistryNameForbiddenCharacter(offset, codePoint)``, reporting the first problem
from the left; :func:`name_problem` answers the same. Pure: no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["MAX_NAME_BYTES", "NameProblem", "is_forbidden", "name_problem"]

#: The longest name the registry stores, in bytes of UTF-8.
MAX_NAME_BYTES = 256


@dataclass(frozen=True)
class NameProblem:
    """Why the registry refuses a name: its length, bytes that are not UTF-8 starting at byte
    ``offset``, or the forbidden ``code_point`` at byte ``offset``."""

    kind: Literal["length", "not-utf8", "forbidden"]
    offset: int = 0
    code_point: int | None = None

    def sentence(self) -> str:
        """One sentence for a person, never echoing the name itself."""
        if self.kind == "length":
            return f"a department name must be 1 to {MAX_NAME_BYTES} bytes of UTF-8."
        if self.kind == "not-utf8":
            return f"a department name must be valid UTF-8 (ill-formed at byte {self.offset})."
        return (
            "a department name must not hold control or bidirectional-formatting characters "
            f"(U+{self.code_point:04X} at byte {self.offset})."
        )


def is_forbidden(code_point: int) -> bool:
    """True for the code points the registry refuses in a name."""
    return (
        code_point < 0x20
        or 0x7F <= code_point <= 0x9F
        or 0x2028 <= code_point <= 0x202E
        or 0x2066 <= code_point <= 0x2069
    )


def name_problem(name: str | bytes) -> NameProblem | None:
    """What ``DepartmentRegistry`` would refuse ``name`` for (None when it accepts it); a ``str``
    is taken as its UTF-8 encoding (a lone surrogate in it is then ill-formed)."""
    raw = name.encode("utf-8", "surrogatepass") if isinstance(name, str) else bytes(name)
    if not 0 < len(raw) <= MAX_NAME_BYTES:
        return NameProblem("length")
    try:
        text, bad = raw.decode("utf-8"), None
    except UnicodeDecodeError as exc:
        # Python's decoder follows the same table; ``start`` is where the ill-formed
        # sequence begins. Characters before it are checked first, as the contract does.
        text, bad = raw[: exc.start].decode("utf-8"), exc.start
    offset = 0
    for char in text:
        if is_forbidden(ord(char)):
            return NameProblem("forbidden", offset, ord(char))
        offset += len(char.encode("utf-8"))
    return None if bad is None else NameProblem("not-utf8", bad)
