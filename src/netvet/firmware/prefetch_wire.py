"""The pipe between a comparison and its worker process (prefetch.py): frames of plain data.

A frame is a length (u64) and a pickle of tuples, lists, str, bytes, numbers and None, loaded
with an unpickler that refuses every class: a worker subverted through a parser bug still cannot
make the parent run code.
"""

from __future__ import annotations

import io
import pickle
import struct
from typing import Any, BinaryIO

from netvet.firmware.context import CHUNK

FRAME = struct.Struct("<Q")
_EXACT = frozenset({int, str, bytes, bool, float, type(None)})
_BASES: tuple[type[Any], ...] = (int, str, bytes)
_PRINTERS = ("__repr__", "__str__", "__format__")
_BASE_OF: dict[type, type] = {}  # parser types found to print as their builtin base


class Plain(pickle.Unpickler):
    """Loads tuples, lists, str, bytes, numbers and None; refuses every class."""

    def find_class(self, module: str, name: str) -> Any:
        raise pickle.UnpicklingError(f"refused {module}.{name}")


def send(out: BinaryIO, obj: object) -> None:
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    out.write(FRAME.pack(len(data)))
    out.write(data)
    out.flush()


def recv(inp: BinaryIO) -> Any:
    """The next frame's object; EOFError when the stream ends."""
    (n,) = FRAME.unpack(read_exact(inp, FRAME.size))
    return Plain(io.BytesIO(read_exact(inp, n))).load()


def read_exact(inp: BinaryIO, n: int) -> bytes:
    parts = []
    while n:
        chunk = inp.read(min(n, CHUNK * 16))
        if not chunk:
            raise EOFError("worker stream ended")
        parts.append(chunk)
        n -= len(chunk)
    return b"".join(parts)


def plain(value: Any) -> Any:
    """`value` with parsers' subclasses of int/str/bytes (dissect.cstruct's uint32...) made the
    builtin type, which pickles as plain data. Other values pass unchanged: lists arrive as
    lists, and an object of any class makes the parent refuse the frame and list the image
    itself."""
    kind = type(value)
    if kind in _EXACT:
        return value
    if kind is tuple:
        return tuple(plain(v) for v in value)
    base = _BASE_OF.get(kind) or _base_of(kind)
    return value if base is None else base(value)


def _base_of(kind: type) -> type | None:
    """The builtin `kind` derives from, if it prints exactly as that builtin; a subclass that
    prints otherwise (an IntEnum) is refused, since findings quote these values."""
    for base in _BASES:
        if issubclass(kind, base):
            if any(getattr(kind, m) is not getattr(base, m) for m in _PRINTERS):
                raise TypeError(f"{kind.__name__} does not print as {base.__name__}")
            _BASE_OF[kind] = base
            return base
    return None
