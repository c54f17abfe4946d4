"""ext2/3/4 superblock feature flags, split into storage layout and what changes behaviour.

mke2fs -t ext2 and -t ext4 lay the same tree out differently: a journal or none, extent trees
or block maps, hashed or linear directories, checksummed or plain metadata, inline data, 64-bit
group descriptors. None of this changes a file's bytes, owner, mode, xattrs or the names it is
reached by, all of which are compared member by member; it is the filesystem's counterpart of
the compression method and block size of an archive, so those flags are one LAYOUT field.

Flags that change what the running system enforces or how a path resolves stay STRICT: encrypt
(fscrypt: contents and names under a key), verity (fs-verity: per-file integrity enforcement),
casefold (case-insensitive lookup: `/ETC/passwd` names `/etc/passwd`), readonly, quota and
project (enforced limits), stable_inodes (required by some fscrypt policies), journal_dev (the
image is an external journal, not a filesystem). Bits this table does not know are STRICT too,
and so are flags of unclear meaning (compression, dirdata, replica, has_snapshot).
Names and bits: e2fsprogs lib/ext2fs/ext2_fs.h and lib/e2p/feature.c.
"""

from __future__ import annotations

from netvet.firmware.model import Field, Rule

# (word, bit, name, security-relevant)
_FEATURES = (
    ("compat", 0x0001, "dir_prealloc", False),
    ("compat", 0x0002, "imagic_inodes", False),
    ("compat", 0x0004, "has_journal", False),
    ("compat", 0x0008, "ext_attr", False),
    ("compat", 0x0010, "resize_inode", False),
    ("compat", 0x0020, "dir_index", False),
    ("compat", 0x0040, "lazy_bg", False),
    ("compat", 0x0200, "sparse_super2", False),
    ("compat", 0x0400, "fast_commit", False),
    ("compat", 0x0800, "stable_inodes", True),
    ("compat", 0x1000, "orphan_file", False),
    ("incompat", 0x0001, "compression", True),
    ("incompat", 0x0002, "filetype", False),
    ("incompat", 0x0008, "journal_dev", True),
    ("incompat", 0x0010, "meta_bg", False),
    ("incompat", 0x0040, "extent", False),
    ("incompat", 0x0080, "64bit", False),
    ("incompat", 0x0100, "mmp", False),
    ("incompat", 0x0200, "flex_bg", False),
    ("incompat", 0x0400, "ea_inode", False),
    ("incompat", 0x1000, "dirdata", True),
    ("incompat", 0x2000, "metadata_csum_seed", False),
    ("incompat", 0x4000, "large_dir", False),
    ("incompat", 0x8000, "inline_data", False),
    ("incompat", 0x10000, "encrypt", True),
    ("incompat", 0x20000, "casefold", True),
    ("ro_compat", 0x0001, "sparse_super", False),
    ("ro_compat", 0x0002, "large_file", False),
    ("ro_compat", 0x0008, "huge_file", False),
    ("ro_compat", 0x0010, "uninit_bg", False),
    ("ro_compat", 0x0020, "dir_nlink", False),
    ("ro_compat", 0x0040, "extra_isize", False),
    ("ro_compat", 0x0080, "snapshot", True),
    ("ro_compat", 0x0100, "quota", True),
    ("ro_compat", 0x0200, "bigalloc", False),
    ("ro_compat", 0x0400, "metadata_csum", False),
    ("ro_compat", 0x0800, "replica", True),
    ("ro_compat", 0x1000, "read-only", True),
    ("ro_compat", 0x2000, "project", True),
    ("ro_compat", 0x4000, "shared_blocks", False),
    ("ro_compat", 0x8000, "verity", True),
    ("ro_compat", 0x10000, "orphan_present", False),
)
# incompat 0x4 (needs_recovery) is state, not a feature: the listing notes it instead
IGNORED = {"incompat": 0x0004}


def feature_fields(compat: int, incompat: int, ro_compat: int) -> tuple[Field, ...]:
    """`layout_features` (LAYOUT), `security_features` and `unknown_features` (STRICT)."""
    words = {"compat": compat, "incompat": incompat, "ro_compat": ro_compat}
    known = dict.fromkeys(words, 0) | IGNORED
    layout: list[str] = []
    security: list[str] = []
    for word, bit, name, strict in _FEATURES:
        known[word] |= bit
        if words[word] & bit:
            (security if strict else layout).append(name)
    unknown = " ".join(f"{w}={words[w] & ~known[w]:#x}" for w in words if words[w] & ~known[w])
    return (
        Field("layout_features", " ".join(sorted(layout)), Rule.LAYOUT),
        Field("security_features", " ".join(sorted(security)), Rule.STRICT),
        Field("unknown_features", unknown, Rule.STRICT),
    )
