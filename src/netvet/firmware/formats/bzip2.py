"""bzip2 streams, one or more concatenated (pbzip2 and `cat a.bz2 b.bz2` write several).

The stdlib `bz2` decompressor handles one stream; each following stream is decoded in turn.
The block size digit of each stream header (`BZh1`..`BZh9`) is compression noise.
"""

from __future__ import annotations

import bz2
from collections.abc import Generator
from typing import BinaryIO

from netvet.firmware.context import WalkContext
from netvet.firmware.formats._codec import Progress, decode_concatenated, drain, peek
from netvet.firmware.formats.base import Decoded
from netvet.firmware.model import Rule

_BLOCK_MAGIC = b"\x31\x41\x59\x26\x53\x59"  # BCD pi: first block
_EOS_MAGIC = b"\x17\x72\x45\x38\x50\x90"  # BCD sqrt(pi): end of stream (an empty stream)
_ERRORS = (OSError, EOFError, ValueError)


def _is_header(head: bytes) -> bool:
    return (
        len(head) >= 10
        and head.startswith(b"BZh")
        and head[3] in b"123456789"
        and head[4:10] in (_BLOCK_MAGIC, _EOS_MAGIC)
    )


class Bzip2:
    """Codec for .bz2 files and bzip2-compressed kernels."""

    name = "bzip2"

    def probe(self, head: bytes, size: int) -> bool:
        return _is_header(head)

    def open(self, stream: BinaryIO, size: int, ctx: WalkContext) -> Decoded:
        def decode(pos: int, progress: Progress) -> Generator[bytes, None, int]:
            return drain(stream, pos, size, bz2.BZ2Decompressor(), progress, "bzip2", _ERRORS)

        return decode_concatenated(
            stream,
            size,
            ctx,
            "bzip2",
            header=lambda pos: {"block_size": f"{chr(peek(stream, pos + 3, 1)[0])}00k"},
            decode=decode,
            next_start=lambda end: end if _is_header(peek(stream, end, 10)) else None,
            rules={"block_size": Rule.COMPRESSION},
            count_name="streams",
        )


FORMAT = Bzip2()
