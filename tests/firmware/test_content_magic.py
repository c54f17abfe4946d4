"""content/magic.py decides which analyser runs without importing it: it must agree with the
analysers' own accepts(), and a text-only difference must not import pyelftools/cryptography."""

from __future__ import annotations

import subprocess
import sys

import pytest

from netvet.firmware.content import cms, elf, magic

_OID = bytes.fromhex("06092a864886f70d010702")
HEADS = [
    b"",
    b"\x7fEL",
    b"\x7fELF\x02\x01\x01",
    b"#!/bin/sh\n",
    b"0",
    b"\x30\x82\x05\x00" + _OID,
    b"\x30\x80" + _OID,
    b"\x30\x20" + _OID,
    b"\x30\x85\x00" + _OID,
    b"\x30\x82\x05\x00" + _OID[:-1] + b"\x03",
    b"  \n-----BEGIN PKCS7-----\nMIIB",
    b"-----BEGIN CMS-----",
    b"-----BEGIN CERTIFICATE-----",
]


@pytest.mark.parametrize("head", HEADS)
def test_magic_agrees_with_the_analysers(head: bytes) -> None:
    assert magic.is_elf(head) == elf.accepts(head)
    assert magic.is_cms(head) == cms.accepts(head)


def test_text_difference_imports_no_binary_analyser() -> None:
    code = (
        "import sys\n"
        "import io\n"
        "from netvet.firmware.blob import Blob\n"
        "from netvet.firmware.content import explain\n"
        "from netvet.firmware.context import WalkContext\n"
        "from netvet.firmware.limits import Limits\n"
        "ctx = WalkContext(Limits())\n"
        "def blob(data):\n"
        "    return Blob('etc/motd', lambda: io.BytesIO(data), ctx)\n"
        "e = explain('etc/motd', blob(b'hello\\n'), blob(b'hullo\\n'))\n"
        "assert e.findings, e\n"
        "print(sorted(m for m in ('elftools', 'cryptography', 'asn1crypto') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
