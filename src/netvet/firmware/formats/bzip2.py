"""bzip2 streams, one or more concatenated (pbzip2 and `cat a.bz2 b.bz2` write several).

The stdlib `bz2` decompressor handles one stream; each following stream is decoded in turn.
The block size digit of each stream header (`BZh1`..`BZh9`) is compression noise.
"""

from __future__ import annotations

import bz2
from collections.abc import Generator
from typing import BinaryIO

from netvet.firmware.context import WalkContext
from netvet.firmware.formats._codec import Progress, drain, merge_fields, peek, trailing
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
        headers: list[dict[str, str]] = []
        progress = Progress()
        end = [0]

        def streams() -> Generator[bytes, None, None]:
            pos = 0
            while True:
                ctx.check_time()
                headers.append({"block_size": f"{chr(peek(stream, pos + 3, 1)[0])}00k"})
                dec = bz2.BZ2Decompressor()
                pos = yield from drain(stream, pos, size, dec, progress, "bzip2", _ERRORS)
                end[0] = pos
                if not _is_header(peek(stream, pos, 10)):
                    return

        out = ctx.spool(streams(), "bzip2", consumed=progress)
        fields = merge_fields(headers, {"block_size": Rule.COMPRESSION}, "streams")
        return Decoded(out, fields, trailing(end[0], size))


FORMAT = Bzip2()
