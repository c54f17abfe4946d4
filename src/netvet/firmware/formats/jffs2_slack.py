"""The bytes of a JFFS2 image that no member shows: where data can hide inside the node log.

What mkfs.jffs2 (mtd-utils 2.1.5, either byte order, -p, -n, -c, -e, every compressor,
--with-xattr) and sumtool write, checked on real images (tests/fixtures/slack/JFFS2.md):

- every node's length is exactly its header and payload, and the up to 3 bytes after it to the
  next 4-byte boundary are 0xFF (mkfs.jffs2's padword(); the kernel leaves flash erased there);
- a cleanmarker is a 12-byte header, with `-c SIZE` followed by 0xFF up to SIZE; padding nodes
  come from the kernel's write buffer, whose body it zeroes (0xFF when erased);
- sumtool's summary node closes its erase block: a record per node of that block, 0xFF, and a
  marker holding the summary's offset in the block; the kernel writes the same;
- each node is live: one version per name, per xattr and per xattr reference, every data node
  shown in full in its file, every inode reached from the root; nothing obsolete.

The scan (jffs2.py) hands over what it saw; here each place is either slack, when honest tools
fill it with one byte value (non-fill bytes are both a slack range and a note, so an equal
amount of other bytes still differs), or a note naming offset, size and a sha256 of the node,
for the structures honest tools never write (obsolete, superseded, unreachable, CRC-failing or
unknown nodes, and a summary other than the one its erase block's nodes give).
"""

from __future__ import annotations

import bisect
import hashlib
import stat
import struct
import zlib
from typing import TYPE_CHECKING, BinaryIO

from netvet.firmware.formats._ranges import Ranges, merge

if TYPE_CHECKING:
    from netvet.firmware.formats.jffs2 import _Data, _Image, _Tree

CLEANMARKER, PADDING, SUMMARY = 0x2003, 0x2004, 0x2006
SUM_MAGIC = 0x02851885  # jffs2_sum_marker.magic (fs/jffs2/summary.h)
SUM_HEAD, SUM_MARKER = 32, 8
ERASED, ZEROED = 0xFF, 0x00
ROOT = 1


def _crc(data: bytes) -> int:
    """JFFS2's crc32: the kernel's crc32(0, ...) without pre- or post-inversion (defined here
    because jffs2.py, which uses it too, imports this module)."""
    return ~zlib.crc32(data, 0xFFFFFFFF) & 0xFFFFFFFF


def tail(img: _Image, pos: int, node: bytes, used: int, ntype: int) -> None:
    """Bytes of a node past what it uses, up to the next node's 4-byte boundary."""
    rest = node[used:]
    if not rest or rest.count(ERASED) == len(rest):
        return
    if ntype == PADDING and used == 12 and rest.count(ZEROED) == len(rest):
        return  # the kernel's write buffer pads with a zeroed padding node
    first = pos + used + len(rest) - len(rest.lstrip(bytes([ERASED])))
    img.slack.append((pos + used, len(rest)))
    img.notes.append(
        f"{len(rest)} bytes at {pos + used:#x} after the {_kind(ntype)} at {pos:#x} "
        f"not erased (first {first:#x})"
    )


def _kind(ntype: int) -> str:
    names = {CLEANMARKER: "cleanmarker", PADDING: "padding node", SUMMARY: "summary node",
             0xE001: "dirent", 0xE002: "inode node", 0xE008: "xattr",
             0xE009: "xattr ref"}  # fmt: skip
    return names.get(ntype, f"node {ntype:#06x}")


def summary(img: _Image, pos: int, node: bytes) -> None:
    """A summary node must be the one its erase block's nodes give (fs/jffs2/summary.c)."""
    e = img.endian
    if len(node) >= SUM_HEAD + SUM_MARKER:
        back, magic = struct.unpack_from(e + "II", node, len(node) - SUM_MARKER)
        cln_mkr, padded = struct.unpack_from(e + "II", node, 16)
        start = pos - back
        fits = magic == SUM_MAGIC and start >= 0 and padded <= back
        if fits and node == _summary(img, start, pos, node, cln_mkr, padded):
            return
    img.hidden.append((pos, len(node), "summary node its erase block's nodes do not give"))


def _summary(img: _Image, start: int, pos: int, node: bytes, cln_mkr: int, padded: int) -> bytes:
    e = img.endian
    if cln_mkr not in (0, 12, 16, img.cleanmarkers.get(start, 0)):
        return b""
    # the scan adds records in offset order; a record takes 6 bytes at least, so a summary that
    # names an erase block start too far back is refused before any work in proportion to it
    first, last = bisect.bisect_left(img.record_at, start), bisect.bisect_left(img.record_at, pos)
    if 6 * (last - first) > len(node):
        return b""
    ats = img.record_at[first:last]
    entries = b"".join(
        img.records[at][0] + struct.pack(e + "I", at - start) + img.records[at][1] for at in ats
    )
    fill = len(node) - SUM_HEAD - SUM_MARKER - len(entries)
    if fill < 0:
        return b""
    data = entries + b"\xff" * fill + struct.pack(e + "II", pos - start, SUM_MAGIC)
    head = struct.pack(e + "HHI", 0x1985, SUMMARY, len(node))
    head += struct.pack(e + "I", _crc(head))
    head += struct.pack(e + "III", len(ats), cln_mkr, padded) + struct.pack(e + "I", _crc(data))
    return head + struct.pack(e + "I", _crc(head[:24])) + data  # node_crc skips sum_crc


def account(img: _Image, stream: BinaryIO, tree: _Tree) -> tuple[Ranges, list[str]]:
    """(slack ranges, notes): what the scan found plus superseded and unreachable nodes.
    `tree` gives the directory tree and each file's data as the kernel plays its nodes."""
    reached = _unreached(img, tree)
    for ino, nodes in img.inodes.items():
        if ino in reached:  # the others are noted whole
            _superseded_data(img, ino, nodes, tree)
    notes = list(img.notes)
    for pos, length, what in sorted(img.hidden):
        stream.seek(pos)
        digest = hashlib.sha256(stream.read(length)).hexdigest()[:16]
        notes.append(f"{what} at {pos:#x}: {length} bytes, sha256 {digest}")
    return merge(sorted(img.slack)), notes


def _superseded_data(img: _Image, ino: int, nodes: list[_Data], tree: _Tree) -> None:
    """Inode nodes whose data the file does not show in full: older versions, or data past the
    size the newest node gives. Only the newest node's metadata counts."""
    latest = max(nodes, key=lambda n: n.version)
    shown: dict[int, int] = {}
    if stat.S_ISREG(latest.mode):
        for start, end, node, _ in tree.fragments(ino):
            shown[id(node)] = shown.get(id(node), 0) + max(0, min(end, latest.isize) - start)
    for node in nodes:
        if node is latest or (node.dsize and shown.get(id(node), 0) == node.dsize):
            continue
        part = "partly " if shown.get(id(node)) else ""
        img.hidden.append((node.at - 68, 68 + node.csize, f"{part}superseded node of inode {ino}"))


def _unreached(img: _Image, tree: _Tree) -> set[int]:
    """Notes inodes and names that no path from the root reaches (the kernel never shows them);
    returns the inodes it does reach."""
    seen, dirs, todo = {ROOT}, set(), [ROOT]
    while todo:
        ino = todo.pop()
        nodes = img.inodes.get(ino)
        if nodes and not stat.S_ISDIR(max(nodes, key=lambda n: n.version).mode):
            continue
        dirs.add(ino)
        for _, child in tree.children_of.get(ino, []):
            if child not in seen:
                seen.add(child)
                todo.append(child)
    for key, (pos, length) in img.dirent_at.items():
        if key[0] not in dirs:
            img.hidden.append((pos, length, f"dirent in unreachable directory {key[0]}"))
        elif not img.dirents[key][1]:  # a name only: mkfs.jffs2 deletes nothing
            img.hidden.append((pos, length, "deletion dirent"))
    for ino, nodes in img.inodes.items():
        if ino not in seen:
            for node in nodes:
                img.hidden.append(
                    (node.at - 68, 68 + node.csize, f"node of unreachable inode {ino}")
                )
    named = {xid for (owner, xid), seqno in img.xrefs.items() if owner in seen and not seqno & 1}
    for xid, (pos, length) in img.xattr_at.items():
        if xid not in named:
            img.hidden.append((pos, length, f"xattr {xid} that no inode uses"))
    return seen
