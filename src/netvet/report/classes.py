"""One-line explanations of the finding classes, for help text and reports.

The benign classes are the DESIGN.md table (firmware.result.BENIGN_CLASSES is the authority);
the unexplained ones are those the comparison and content analysers emit. A class missing
here is still shown, just without an explanation. Benign lines stay short (they are a table in
`netvet firmware compare --help`).
"""

from __future__ import annotations

BENIGN = {
    "container-timestamp": "mtimes in tar/cpio/zip/squashfs/ext4/... headers",
    "layout": "member order, inode numbers, block placement",
    "compression": "other compressor, level or block size; same content",
    "random-id": "filesystem UUID, hash seed, UBI image_seq",
    "derived-checksum": "a header CRC that follows from compared fields",
    "build-id": "ELF build-id/debuglink; all other ELF bytes equal",
    "build-time": "a same-length date/time string in data, not code",
    "gzip-mtime": "the gzip header's MTIME field",
    "derived-digest": "digest of another entry that is itself equivalent",
    "signature": "re-made by the same signer over equivalent content",
    "padding": "erased-flash fill: runs of a single fill byte",
}

UNEXPLAINED = {
    "added": "present only in the deployed image",
    "removed": "present only in the reference image",
    "moved": "the same content at another path",
    "type-changed": "a file became a directory, symlink, device, ... (or back)",
    "mode": "permission bits differ (setuid, setgid, sticky, rwx)",
    "owner": "owner or group differs",
    "symlink-target": "a symbolic link points elsewhere",
    "device": "device numbers differ",
    "xattr": "extended attributes or file capabilities differ",
    "header-field": "a container header field that is not known build noise differs",
    "format-changed": "a different container or compression format, or data instead of one",
    "trailing-data": "bytes after the end of a stream or container",
    "content": "bytes of an opaque file differ",
    "text": "lines of a text file differ",
    "code": "executable code in an ELF file differs",
    "data": "data (constants, tables, strings) in an ELF file differs",
    "elf-header": "the ELF header differs",
    "elf-segments": "ELF program headers (segments) differ",
    "elf-sections": "ELF section headers differ",
    "elf-dynamic": "ELF dynamic section differs (libraries, symbols, relocations)",
    "not-compared": "could not be compared (corrupt, unsupported or over a limit); "
    "never taken as equal",
}


def describe(klass: str) -> str:
    """The one-line explanation of a class, or "" when the class is not known here."""
    return BENIGN.get(klass) or UNEXPLAINED.get(klass, "")
