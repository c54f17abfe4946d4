"""The I/O floor: decompress and sha256 every regular file of two SquashFS images, once.

Any tool that proves two images equal must at least read every file's decompressed bytes. This
does only that, through dissect.squashfs (the parser netvet uses), in one process, one file at a
time, and prints the file count, byte count and a digest over all (path, sha256) pairs. It does
not hash the image files themselves, compare anything or look at metadata, so it is a strict
floor for netvet, which does all three.

Usage: python bench/hash_baseline.py REF.squashfs DEP.squashfs
"""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Iterator
from typing import BinaryIO

from dissect.squashfs import SquashFS
from dissect.squashfs.c_squashfs import c_squashfs
from dissect.squashfs.squashfs import FileStream, INode

CHUNK = 1 << 20  # the read size netvet uses (netvet.firmware.context.CHUNK)


class TailFixedStream(FileStream):
    """dissect's file stream, reading a tail-end fragment once (see the module docstring)."""

    def _read(self, offset: int, length: int) -> bytes:
        if self.fragment == c_squashfs.SQUASHFS_INVALID_FRAG:
            return super()._read(offset, length)
        full = (self.size // self.block_size) * self.block_size  # bytes in whole blocks
        out = b""
        if offset < full:  # the whole-block part: dissect's loop stops before the fragment
            n = min(length, full - offset)
            out = super()._read(offset, n)
            offset, length = offset + n, length - n
        if length > 0 and offset >= full:
            tail = self.fs._read_fragment(self.fragment, self.fragment_offset, self.size - full)
            out += tail[offset - full : offset - full + length]
        return out


def files(node: INode, prefix: str = "") -> Iterator[tuple[str, INode]]:
    """Regular files under `node`, depth first, with their paths."""
    for child in node.iterdir():
        path = f"{prefix}/{child.name}"
        if child.is_dir():
            yield from files(child, path)
        elif child.is_file():
            yield path, child


def hash_image(fh: BinaryIO, stock: bool = False) -> tuple[int, int, str]:
    """(files, bytes, digest over the sorted (path, sha256) list) of one image."""
    fs = SquashFS(fh)
    digests: list[tuple[str, str]] = []
    total = 0
    for path, inode in files(fs.root):
        h = hashlib.sha256()
        stream = inode.open() if stock else TailFixedStream(inode)
        while chunk := stream.read(CHUNK):
            h.update(chunk)
            total += len(chunk)
        digests.append((path, h.hexdigest()))
    digests.sort()
    tree = hashlib.sha256("\n".join(f"{p} {d}" for p, d in digests).encode()).hexdigest()
    return len(digests), total, tree


def main() -> None:
    args = sys.argv[1:]
    stock = args[:1] == ["--stock"]
    images = args[1:] if stock else args
    if len(images) != 2:
        sys.exit(__doc__)
    for image in images:
        with open(image, "rb") as fh:
            count, total, tree = hash_image(fh, stock)
        print(f"{image}: {count} files, {total} bytes, tree sha256 {tree}")


if __name__ == "__main__":
    main()
