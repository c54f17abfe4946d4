"""The I/O floor: decompress and sha256 every regular file of two SquashFS images, once.

Any tool that proves two images equal must at least read every file's decompressed bytes. This
does only that, in one process, one file at a time, and prints the file count, byte count and a
digest over all (path, sha256) pairs. It does not hash the image files themselves, compare
anything or look at metadata, so it is a floor for netvet, which does all three.

Two readers, so that the floor is not flattered by a slow parser:

- `--reader dissect` (the default): dissect.squashfs, which netvet used until it got its own
  reader. dissect 1.12's file stream re-slices a file's tail-end fragment until a whole read
  alignment is filled; `TailFixedStream` reads it once (same digests). `--stock` keeps dissect's
  unpatched stream, to show what that loop costs.
- `--reader own`: netvet's own struct-based reader (netvet.firmware.formats.squashfs_tables and
  squashfs_data), the modules netvet itself reads images with. The tree is walked with the
  reader's directory and inode tables directly, and only regular files' block lists are
  unpacked: no Member, no metadata, no path cleaning, none of the walk's bookkeeping, and not
  the comparison engine's imports.

Both readers print the same tree digest for the same image (a quick check that they read the
same bytes).

Usage: python bench/hash_baseline.py [--reader dissect|own | --stock] REF.squashfs DEP.squashfs
"""

from __future__ import annotations

import hashlib
import os
import struct
import sys
import types
from collections.abc import Iterator
from typing import Any, BinaryIO

CHUNK = 1 << 20  # the read size the dissect readers use (netvet.firmware.context.CHUNK)


def dissect_files(fh: BinaryIO, stock: bool) -> Iterator[tuple[str, Any]]:
    """(path, readable stream) of every regular file, through dissect.squashfs."""
    # Imported here: the own reader's floor should not pay for importing dissect.
    from dissect.squashfs import SquashFS
    from dissect.squashfs.c_squashfs import c_squashfs
    from dissect.squashfs.squashfs import FileStream, INode

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

    def walk(node: INode, prefix: str) -> Iterator[tuple[str, Any]]:
        for child in node.iterdir():
            path = f"{prefix}/{child.name}"
            if child.is_dir():
                yield from walk(child, path)
            elif child.is_file():
                yield path, (child.open() if stock else TailFixedStream(child))

    yield from walk(SquashFS(fh).root, "")


def own_files(fh: BinaryIO) -> Iterator[tuple[str, Any]]:
    """(path, readable stream) of every regular file, through netvet's own SquashFS reader.

    `_Image` is the squashfs module's table reader; going through it rather than
    `SquashfsFormat.list` leaves out what a floor must not include (Members, metadata, the
    generic tree walk). The streams are the same `FileStream`s netvet hashes.
    """
    if "netvet.firmware" not in sys.modules:
        # The package's __init__ imports the comparison engine (~0.1 s): enter the package
        # without it, as netvet's own worker process does (prefetch.WORKER_CODE).
        import netvet

        package = types.ModuleType("netvet.firmware")
        package.__path__ = [os.path.join(os.path.dirname(netvet.__file__), "firmware")]
        sys.modules["netvet.firmware"] = package
    from netvet.firmware.context import WalkContext
    from netvet.firmware.formats.squashfs import _FILE, _LREG, _Image
    from netvet.firmware.formats.squashfs_data import NO_FRAGMENT, FileStream
    from netvet.firmware.limits import Limits

    size = os.fstat(fh.fileno()).st_size
    img = _Image(fh, size, WalkContext(Limits()))
    bs = img.sb.block_size

    def stream(path: str, q: int, start: int, length: int, fragment: int, offset: int) -> Any:
        """The FileStream netvet opens for a file (`_Image._opener` without the bookkeeping
        of which image bytes the file accounts for: that is netvet's work, not the floor's)."""
        count = (length + bs - 1) // bs if fragment == NO_FRAGMENT else length // bs
        img.inodes.need(q + count * 4)
        words = struct.unpack_from(f"<{count}I", img.inodes.buf, q)
        return FileStream(img.data, path, length, start, words, fragment, offset)

    def walk(node: tuple[int, int], prefix: str) -> Iterator[tuple[str, Any]]:
        for name, child in img.children(node):
            path = f"{prefix}/{name}"
            if child[1] == 1:  # the directory entry's basic type: a directory
                yield from walk(child, path)
            elif child[1] == 2:  # a regular file, basic (2) or extended (9) inode
                p, itype = img.inode(child[0])  # also decodes the table up to it
                buf = img.inodes.buf
                if itype == 2:
                    start, fragment, offset, length = _FILE.unpack_from(buf, p)[6:]
                    blocks = p + 32
                else:
                    start, length, _, _, fragment, offset, _ = _LREG.unpack_from(buf, p + 16)
                    blocks = p + 56
                yield path, stream(path, blocks, start, length, fragment, offset)

    yield from walk((img.root()[0], 1), "")


def hash_image(fh: BinaryIO, reader: str) -> tuple[int, int, str]:
    """(files, bytes, digest over the sorted (path, sha256) list) of one image."""
    files = own_files(fh) if reader == "own" else dissect_files(fh, stock=reader == "stock")
    digests: list[tuple[str, str]] = []
    total = 0
    for path, stream in files:
        h = hashlib.sha256()
        # The own reader's streams name the read size that returns decoded blocks uncopied
        # (netvet reads them so, firmware/digests.py); dissect's get netvet's old 1 MiB.
        step = getattr(stream, "read_size", CHUNK)
        while chunk := stream.read(step):
            h.update(chunk)
            total += len(chunk)
        digests.append((path, h.hexdigest()))
    digests.sort()
    tree = hashlib.sha256("\n".join(f"{p} {d}" for p, d in digests).encode()).hexdigest()
    return len(digests), total, tree


def main() -> None:
    args = sys.argv[1:]
    reader = "dissect"
    if args[:1] == ["--stock"]:
        reader, args = "stock", args[1:]
    elif args[:1] == ["--reader"] and len(args) > 1 and args[1] in ("dissect", "own"):
        reader, args = args[1], args[2:]
    if len(args) != 2 or any(a.startswith("-") for a in args):
        sys.exit(__doc__)
    for image in args:
        with open(image, "rb") as fh:
            count, total, tree = hash_image(fh, reader)
        print(f"{image}: {count} files, {total} bytes, tree sha256 {tree}")


if __name__ == "__main__":
    main()
