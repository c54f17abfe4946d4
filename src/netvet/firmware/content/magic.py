"""Which analyser a file's first bytes call for, without importing the analyser.

elf.py pulls in pyelftools and cms.py pulls in cryptography and asn1crypto: a quarter of a second
of imports that a comparison whose only differing file is text should not pay. These checks are
the analysers' `accepts()` (elf.py and cms.py call them), so `explain` imports an analyser only
when a member really is ELF or CMS.
"""

from __future__ import annotations

_ELF = b"\x7fELF"
_SIGNED_DATA_OID = bytes.fromhex("06092a864886f70d010702")  # 1.2.840.113549.1.7.2
_PEM = (b"-----BEGIN PKCS7-----", b"-----BEGIN CMS-----")


def is_elf(head: bytes) -> bool:
    return head.startswith(_ELF)


def is_cms(head: bytes) -> bool:
    """DER ContentInfo whose contentType is signedData, or a PEM PKCS7/CMS block."""
    if head.lstrip().startswith(_PEM):
        return True
    if len(head) < 2 or head[0] != 0x30:
        return False
    n = head[1]
    if n > 0x84:
        return False
    start = 2 + (n & 0x7F if n > 0x80 else 0)  # short form, indefinite (0x80) or long form
    return head[start : start + len(_SIGNED_DATA_OID)] == _SIGNED_DATA_OID
