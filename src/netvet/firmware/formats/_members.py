"""Listing a filesystem kept as numbered inodes (JFFS2, UBIFS, CramFS) through one small protocol.

The formats whose trees we walk ourselves all answer the same questions about a node: its mode,
its metadata, its size and a stream of its content. `list_inodes` turns such a tree into members
with `_fs.list_tree`, so each format only says how to read its own nodes.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from typing import BinaryIO, Protocol, TypeVar

from netvet.firmware.context import WalkContext
from netvet.firmware.formats._fs import kind_of, list_tree
from netvet.firmware.model import Kind, Member, Meta

N = TypeVar("N")


class InodeTree(Protocol[N]):
    """A filesystem tree whose nodes (`N`, an inode number or record) we read ourselves."""

    def children(self, node: N) -> Iterable[tuple[str | bytes, N]]: ...

    def dir_key(self, node: N) -> Hashable | None: ...

    def mode(self, node: N) -> int: ...

    def meta(self, node: N) -> Meta: ...

    def size(self, node: N) -> int: ...

    def content(self, node: N, what: str) -> BinaryIO: ...


def list_inodes(
    tree: InodeTree[N], root: N, ctx: WalkContext, fmt: str, image_size: int
) -> tuple[Member, ...]:
    """Every node below `root` as a member; regular files get an opener over `tree.content`."""

    def member(path: str, node: N) -> Member:
        kind = kind_of(tree.mode(node), fmt)
        meta = tree.meta(node)
        if kind is not Kind.FILE:
            return Member(path, kind, meta)
        what = f"{fmt}: {path}"
        return Member(
            path, kind, meta, size=tree.size(node), opener=lambda: tree.content(node, what)
        )

    return list_tree(root, tree.children, tree.dir_key, member, ctx, fmt, image_size)
