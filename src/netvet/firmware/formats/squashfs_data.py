"""SquashFS file contents: bounded block decompression, data blocks, cached fragment blocks.

Every block is decompressed to at most its declared size (a crafted block could otherwise
expand to gigabytes), and must come out exactly as long as the file says; zstd is read through
`zstandard`. A tail-end fragment block holds the ends of many small files: the last few
decompressed ones are kept, so files packed together cost one decompression, not one each.
"""

from __future__ import annotations

import io
import lzma
import zlib
from collections import OrderedDict
from collections.abc import Callable
from itertools import accumulate
from typing import BinaryIO

from netvet.firmware.errors import CorruptContainer
from netvet.firmware.formats._fs import as_corrupt
from netvet.firmware.formats.squashfs_tables import Fragments
from netvet.firmware.streams import PositionedReader

COMPRESSORS = {1: "gzip", 2: "lzma", 3: "lzo", 4: "xz", 5: "lz4", 6: "zstd"}
NO_FRAGMENT = 0xFFFFFFFF
DATA_UNCOMPRESSED = 1 << 24
CACHED_FRAGMENTS = 8


class HiddenBytes(CorruptContainer):
    """Bytes inside a block that decompression never reads (after the end of its compressed
    stream): mksquashfs writes none, and data hidden there leaves every file equal."""

    def __init__(self, extra: int, size: int, codec: str, pos: int | None = None) -> None:
        self.extra, self.size, self.codec = extra, size, codec
        where = "" if pos is None else f" at {pos + size - extra:#x}"
        block = "" if pos is None else f" at {pos:#x}"
        super().__init__(
            f"squashfs: {extra} bytes{where} after the end of the {codec} stream of the "
            f"{size}-byte block{block} (hidden data?)"
        )

    def at(self, pos: int) -> HiddenBytes:
        """The same, located: the block starts at image offset `pos`."""
        return HiddenBytes(self.extra, self.size, self.codec, pos)


def decompressor(comp: int, limit: int) -> Callable[[bytes], bytes]:
    """A function decompressing one block to at most `limit` bytes; more is corrupt.

    A valid block is never stored compressed when that does not save space, so a compressed
    block longer than `limit` is refused before decompressing. LZO has no bounded decoder in
    the available libraries (lzallright takes a size hint only): its output is checked
    afterwards, which the input bound keeps to a few hundred MiB at worst. The libraries are
    imported only for the compressor the image uses.
    """
    if comp not in COMPRESSORS:
        raise CorruptContainer(f"squashfs: unknown compressor id {comp}")
    codec = _CODECS[comp]()

    def decompress(data: bytes) -> bytes:
        if len(data) > limit:
            raise CorruptContainer(f"squashfs: compressed block of {len(data)} bytes > {limit}")
        out, extra = codec(data, limit)
        if extra < 0:
            raise CorruptContainer(f"squashfs: a block expands beyond {limit} bytes")
        if extra:  # the stream ended before the block did: bytes no reader looks at
            raise HiddenBytes(extra, len(data), COMPRESSORS[comp])
        return out

    return decompress


# A codec returns the output and OVER when it went beyond the limit, else how many input bytes
# follow the end of the compressed stream (0 in every block mksquashfs writes).
Codec = Callable[[bytes, int], tuple[bytes, int]]
OVER = -1


def _gzip() -> Codec:
    def run(data: bytes, limit: int) -> tuple[bytes, int]:
        zobj = zlib.decompressobj()
        out = zobj.decompress(data, limit)
        if zobj.unconsumed_tail:
            return out, OVER
        return out, len(zobj.unused_data)

    return run


def _lzma(fmt: int) -> Callable[[], Codec]:
    def make() -> Codec:
        def run(data: bytes, limit: int) -> tuple[bytes, int]:
            lobj = lzma.LZMADecompressor(format=fmt)
            out = lobj.decompress(data, limit)
            if not lobj.eof and not lobj.needs_input:
                return out, OVER
            return out, len(lobj.unused_data)

        return run

    return make


def _lzo() -> Codec:
    from lzallright import LZOCompressor

    # lzo1x_decompress_safe refuses input left over (InputNotConsumed), as the kernel does
    def run(data: bytes, limit: int) -> tuple[bytes, int]:
        out = LZOCompressor.decompress(data, output_size_hint=limit)
        return out, OVER if len(out) > limit else 0

    return run


def _lz4() -> Codec:
    import lz4.block

    # LZ4_decompress_safe wants the last literals to end exactly at the end of the input
    def run(data: bytes, limit: int) -> tuple[bytes, int]:
        return lz4.block.decompress(data, uncompressed_size=limit), 0

    return run


def _zstd() -> Codec:
    from netvet.firmware.formats.zstd import one_frame

    def run(data: bytes, limit: int) -> tuple[bytes, int]:
        decoded = one_frame(data, limit, "squashfs")
        return decoded if decoded is not None else (b"", OVER)

    return run


_CODECS: dict[int, Callable[[], Codec]] = {
    1: _gzip,
    2: _lzma(lzma.FORMAT_ALONE),
    3: _lzo,
    4: _lzma(lzma.FORMAT_XZ),
    5: _lz4,
    6: _zstd,
}


class Data:
    """Reads one image's data blocks and fragment blocks."""

    def __init__(
        self,
        fh: BinaryIO,
        block_size: int,
        decompress: Callable[[bytes], bytes],
        fragments: Fragments,
    ) -> None:
        self.fh = fh
        self.block_size = block_size
        self.decompress = decompress
        self.fragments = fragments
        # decompressed length of each fragment block: the end of the last piece a file takes
        # (squashfs_slack.py, set once the listing is known)
        self.fragment_ends: dict[int, int] = {}
        self._cache: OrderedDict[int, bytes] = OrderedDict()

    def block(self, pos: int, word: int) -> bytes:
        """The block at `pos` whose size word is `word` (high bit: stored uncompressed)."""
        length = word & ~DATA_UNCOMPRESSED
        if length > self.block_size:
            raise CorruptContainer(f"squashfs: data block of {length} bytes at {pos}")
        self.fh.seek(pos)
        data = self.fh.read(length)
        if len(data) != length:
            raise CorruptContainer(f"squashfs: data block at {pos} beyond the image")
        if word & DATA_UNCOMPRESSED:
            return data
        try:
            return self.decompress(data)
        except HiddenBytes as exc:
            raise exc.at(pos) from None

    def fragment(self, index: int) -> bytes:
        data = self._cache.get(index)
        if data is None:
            pos, word = self.fragments.entry(index)
            data = self.block(pos, word)
            # files take pieces from its start, packed: what lies past the last is no file's
            end = self.fragment_ends.get(index, len(data))
            if len(data) > end:
                raise CorruptContainer(
                    f"squashfs: fragment block {index} at {pos:#x}: {len(data) - end} "
                    f"decompressed bytes ({end:#x}..{len(data):#x}) after the last file's "
                    "piece (hidden data?)"
                )
            self._cache[index] = data
            if len(self._cache) > CACHED_FRAGMENTS:
                self._cache.popitem(last=False)
        return data


class FileStream(PositionedReader):
    """One file's content: whole blocks (0 = a sparse block of zeros), then maybe a tail-end
    fragment. Parser errors surface as CorruptContainer naming the file (`what`)."""

    def __init__(
        self,
        data: Data,
        what: str,
        size: int,
        start: int,
        words: tuple[int, ...],
        fragment: int,
        frag_offset: int,
    ) -> None:
        super().__init__(size)
        self._data = data
        self._what = what
        self._start = start
        self._words = words
        self._fragment = fragment
        self._frag_offset = frag_offset
        self._positions: list[int] | None = None
        self._last: tuple[int, bytes] = (-1, b"")
        self.read_size = data.block_size  # reads of this size return decoded blocks uncopied

    def read(self, size: int | None = -1) -> bytes:
        try:
            return self._read(-1 if size is None else size)
        except BaseException as exc:
            error = as_corrupt(exc, self._what)
            if error is exc:
                raise
            raise error from exc

    def hash_into(self, update: Callable[[bytes], object], check: Callable[[], None]) -> int:
        """Feed the whole content to `update` (a hash's), calling `check` after each block;
        return the bytes fed. What `read(read_size)` to the end gives, without a stream call,
        a seek and a final empty read per file: most files of an image are one fragment piece
        (digests.py hashes every member of both images)."""
        try:
            if not self._words:
                if not self._size:
                    return 0
                update(self._tail(0))
                check()
                return self._size
            fed = 0
            self._pos = 0
            while chunk := self._read(self._data.block_size):
                update(chunk)
                fed += len(chunk)
                check()
            return fed
        except BaseException as exc:
            error = as_corrupt(exc, self._what)
            if error is exc:
                raise
            raise error from exc

    def _read(self, size: int) -> bytes:
        pos, total = self._pos, self._size
        end = total if size < 0 else min(total, pos + size)
        if pos >= end:
            return b""
        bs = self._data.block_size
        nblocks = len(self._words)
        if not nblocks and pos == 0 and end == total:  # a small file: its fragment piece only
            out = self._tail(0)
            self._pos = end
            return out
        parts = []
        while pos < end:
            index = pos // bs
            chunk = self._block(index) if index < nblocks else self._tail(nblocks * bs)
            base = index * bs if index < nblocks else nblocks * bs
            # a whole block is taken as it is: slicing would copy it
            piece = (
                chunk
                if pos == base and end - base >= len(chunk)
                else chunk[pos - base : end - base]
            )
            if not piece:
                raise CorruptContainer(f"{self._what}: no data at offset {pos}")
            parts.append(piece)
            pos += len(piece)
        self._pos = pos
        return b"".join(parts)

    def _block(self, index: int) -> bytes:
        if self._last[0] == index:
            return self._last[1]
        bs = self._data.block_size
        want = min(bs, self._size - index * bs)
        word = self._words[index]
        if word == 0:
            data = bytes(want)
        else:
            if self._positions is None:
                lengths = (w & ~DATA_UNCOMPRESSED for w in self._words)
                self._positions = list(accumulate(lengths, initial=self._start))
            data = self._data.block(self._positions[index], word)
        if len(data) != want:
            raise CorruptContainer(f"{self._what}: block {index} holds {len(data)} of {want} bytes")
        self._last = (index, data)
        return data

    def _tail(self, base: int) -> bytes:
        want = self._size - base
        if self._fragment == NO_FRAGMENT:
            raise CorruptContainer(f"{self._what}: {want} bytes past its blocks and no fragment")
        block = self._data.fragment(self._fragment)
        tail = block[self._frag_offset : self._frag_offset + want]
        if len(tail) != want:
            raise CorruptContainer(f"{self._what}: fragment holds {len(tail)} of {want} bytes")
        return tail

    def seek(self, pos: int, whence: int = io.SEEK_SET) -> int:
        try:
            return super().seek(pos, whence)
        except ValueError as exc:
            raise CorruptContainer(f"{self._what}: {exc}") from exc
