"""ELF analyser on real gcc builds (tests/fixtures/content/make_content.sh): what is benign
build noise, and how every other difference is named by section and function."""

from __future__ import annotations

import random
import struct
from collections.abc import Callable

import pytest
from elftools.elf.elffile import ELFFile

from netvet.firmware.content import elf
from netvet.firmware.content.elf import MAX_LOCATIONS
from netvet.firmware.result import Finding, Node, Status
from tests.content.conftest import FIXTURES, MakeBlob, fixture_bytes


def run(blob: MakeBlob, a: bytes, b: bytes) -> elf.Explanation:
    assert elf.accepts(a[:4096]) and elf.accepts(b[:4096])
    return elf.explain("usr/bin/prog", blob(a), blob(b))


def pair(blob: MakeBlob, ref: str, dep: str) -> elf.Explanation:
    return run(blob, fixture_bytes(ref), fixture_bytes(dep))


def by_class(e: elf.Explanation) -> dict[str, Finding]:
    return {f.klass: f for f in e.findings}


def symbol_offset(name: str, symbol: str, table: str = ".symtab") -> int:
    """File offset of a symbol, found with pyelftools independently of the analyser."""
    with open(FIXTURES / name, "rb") as fh:
        f = ELFFile(fh)
        section = f.get_section_by_name(table)
        sym = section.get_symbol_by_name(symbol)[0]
        target = f.get_section(sym["st_shndx"])
        return int(sym["st_value"] - target["sh_addr"] + target["sh_offset"])


def patched(name: str, offset: int, xor: int = 0xFF) -> bytes:
    data = bytearray(fixture_bytes(name))
    data[offset] ^= xor
    return bytes(data)


def test_accepts() -> None:
    assert elf.accepts(b"\x7fELF\x02\x01")
    assert not elf.accepts(b"#!/bin/sh\n")


def test_other_build_id_only_is_equivalent(blob: MakeBlob) -> None:
    e = pair(blob, "elf-base", "elf-buildid")
    assert e.node is Node.EQUIVALENT
    (f,) = e.findings
    assert (f.status, f.klass) == (Status.BENIGN, "build-id")
    (loc,) = f.locations
    assert loc.section == ".note.gnu.build-id" and loc.length == 20
    assert loc.detail and loc.detail.endswith("-> 00112233445566778899aabbccddeeff00112233")


def test_other_build_time_is_equivalent(blob: MakeBlob) -> None:
    e = pair(blob, "elf-base", "elf-buildtime")
    assert e.node is Node.EQUIVALENT
    found = by_class(e)
    assert set(found) == {"build-id", "build-time"}  # the build-id hashes the new date too
    stamp = found["build-time"]
    assert stamp.status is Status.BENIGN
    (loc,) = stamp.locations
    assert (loc.section, loc.symbol) == (".rodata", "build")
    assert loc.detail == "'Nov 28 2025 14:03:59' -> 'Nov 29 2025 14:16:17'"


def test_patched_byte_in_a_function_is_named(blob: MakeBlob) -> None:
    offset = symbol_offset("elf-base", "check_password") + 5
    e = run(blob, fixture_bytes("elf-base"), patched("elf-base", offset))
    assert e.node is Node.DIFFERENT
    (f,) = e.findings
    assert (f.status, f.klass) == (Status.UNEXPLAINED, "code")
    assert f.summary == "code changed in .text: check_password"
    (loc,) = f.locations
    assert (loc.section, loc.symbol) == (".text", "check_password")
    assert (loc.offset, loc.length) == (offset, 1)
    assert any("!" in line for line in f.diff)


def test_build_id_never_hides_a_code_change(blob: MakeBlob) -> None:
    offset = symbol_offset("elf-base", "helper") + 2
    e = run(blob, fixture_bytes("elf-base"), patched("elf-buildid", offset, 0x01))
    assert e.node is Node.DIFFERENT
    found = by_class(e)
    assert found["build-id"].status is Status.BENIGN
    assert found["code"].status is Status.UNEXPLAINED
    assert found["code"].locations[0].symbol == "helper"


def test_changed_constant_in_rodata_is_data(blob: MakeBlob) -> None:
    e = pair(blob, "elf-base", "elf-rodata")
    assert e.node is Node.DIFFERENT
    found = by_class(e)
    assert found["data"].status is Status.UNEXPLAINED
    loc = found["data"].locations[0]
    assert (loc.section, loc.symbol) == (".rodata", "greeting")
    assert loc.detail == "'welcome, operator' -> 'welcome, intruder'"


def test_date_string_in_code_is_never_benign(blob: MakeBlob) -> None:
    # Put the same date change that is benign in .rodata into .text: it is code, unexplained.
    base = fixture_bytes("elf-base")
    start = symbol_offset("elf-base", "check_password")
    a = base[:start] + b"Nov 28 2025\x00" + base[start + 12 :]
    b = base[:start] + b"Nov 29 2025\x00" + base[start + 12 :]
    e = run(blob, a, b)
    assert e.node is Node.DIFFERENT
    assert [f.klass for f in e.findings] == ["code"]


def test_rebuilt_with_an_added_branch_names_the_function_first(blob: MakeBlob) -> None:
    e = pair(blob, "elf-base", "elf-branch")
    assert e.node is Node.DIFFERENT
    code = [f for f in e.findings if f.klass == "code"]
    assert code[0].summary.startswith("code changed in .text: check_password")
    first = code[0].locations[0]
    assert (first.section, first.symbol) == (".text", "check_password")
    assert first.detail and first.detail.startswith("size 0x2e -> ")
    assert {f.klass for f in e.findings} >= {"elf-header", "elf-segments", "elf-sections", "data"}
    assert all(len(f.locations) <= MAX_LOCATIONS for f in e.findings)


def test_stripped_binary_names_the_address_range(blob: MakeBlob) -> None:
    # Stripping keeps addresses: the offset of check_password in elf-base holds in elf-stripped.
    offset = symbol_offset("elf-base", "check_password") + 5
    e = run(blob, fixture_bytes("elf-stripped"), patched("elf-stripped", offset))
    (f,) = e.findings
    (loc,) = f.locations
    assert loc.section == ".text"
    assert loc.symbol == f"0x{offset:x}-0x{offset + 1:x}"  # PIE: address == file offset here


def test_stripped_binary_names_dynsym_functions(blob: MakeBlob) -> None:
    offset = symbol_offset("elf-rdynamic", "check_password", ".dynsym") + 3
    e = run(blob, fixture_bytes("elf-rdynamic-stripped"), patched("elf-rdynamic-stripped", offset))
    (f,) = e.findings
    assert f.summary == "code changed in .text: check_password"


def test_stripped_binary_names_the_nearest_preceding_symbol(blob: MakeBlob) -> None:
    # `mix` is static: not in .dynsym, so it is named from the exported symbol before it.
    offset = symbol_offset("elf-rdynamic", "mix") + 3
    start = symbol_offset("elf-rdynamic", "_start", ".dynsym")
    e = run(blob, fixture_bytes("elf-rdynamic-stripped"), patched("elf-rdynamic-stripped", offset))
    (f,) = e.findings
    assert f.locations[0].symbol == f"_start+0x{offset - start:x}"


def test_swapped_library_dependency(blob: MakeBlob) -> None:
    e = pair(blob, "elf-needed-alpha", "elf-needed-gamma")
    assert e.node is Node.DIFFERENT
    found = by_class(e)
    dyn = found["elf-dynamic"]
    assert dyn.summary == "dynamic section changed: NEEDED -libalpha.so.1 +libgamma.so.1"
    assert dyn.locations[0].symbol == "NEEDED"
    assert found["data"].locations[0].section == ".dynstr"


def test_debuglink_crc_is_build_id(blob: MakeBlob) -> None:
    e = pair(blob, "elf-debuglink-1", "elf-debuglink-2")
    assert e.node is Node.EQUIVALENT
    (f,) = e.findings
    assert f.klass == "build-id"
    assert f.locations[0].section == ".gnu_debuglink"


def test_debuglink_of_another_length_moves_sections(blob: MakeBlob) -> None:
    e = pair(blob, "elf-debuglink-1", "elf-debuglink-long")
    assert e.node is Node.DIFFERENT
    found = by_class(e)
    assert "build-id" not in found
    assert ".gnu_debuglink size 0x10 -> 0x24" in found["elf-sections"].summary


def test_changed_segment_permissions(blob: MakeBlob) -> None:
    base = fixture_bytes("elf-base")
    f = ELFFile(open(FIXTURES / "elf-base", "rb"))  # noqa: SIM115 - closed with the test
    index = next(i for i, s in enumerate(f.iter_segments()) if s["p_type"] == "PT_GNU_STACK")
    flags_at = f.header["e_phoff"] + index * f.header["e_phentsize"] + 4
    f.stream.close()
    data = bytearray(base)
    data[flags_at : flags_at + 4] = struct.pack("<I", 7)  # an executable stack
    e = run(blob, base, bytes(data))
    seg = by_class(e)["elf-segments"]
    assert seg.summary == "program headers changed: PT_GNU_STACK RW- -> PT_GNU_STACK RWX"


def test_changed_machine_in_the_header(blob: MakeBlob) -> None:
    data = bytearray(fixture_bytes("elf-base"))
    data[18:20] = struct.pack("<H", 183)  # EM_AARCH64
    e = run(blob, fixture_bytes("elf-base"), bytes(data))
    header = by_class(e)["elf-header"]
    assert header.summary == "ELF header changed: e_machine EM_X86_64 -> EM_AARCH64"


def test_bytes_between_sections_are_unexplained(blob: MakeBlob) -> None:
    base = fixture_bytes("elf-base")
    f = ELFFile(open(FIXTURES / "elf-base", "rb"))  # noqa: SIM115
    text = f.get_section_by_name(".fini")
    slack = text["sh_offset"] + text["sh_size"] + 4  # zero fill before the next page
    f.stream.close()
    assert base[slack] == 0
    e = run(blob, base, patched("elf-base", slack, 0x90))
    (finding,) = e.findings
    assert finding.klass == "data"
    assert finding.locations[0].section == "(outside sections)"


@pytest.mark.parametrize(
    "mutate",
    [
        lambda d: d[:10],  # truncated in the ELF header
        lambda d: d[:1000],  # section headers beyond the end
        lambda d: d[:0x28] + (10**12).to_bytes(8, "little") + d[0x30:],  # bogus e_shoff
        lambda d: d[:0x3C] + b"\xff\xff" + d[0x3E:],  # huge e_shnum
        lambda d: d[:0x20] + (2**63).to_bytes(8, "little") + d[0x28:],  # bogus e_phoff
        lambda d: d[:0x34] + b"\x00\x00" + d[0x36:],  # e_ehsize 0
    ],
)
def test_malformed_elf_is_different_never_a_traceback(
    blob: MakeBlob, mutate: Callable[[bytes], bytes]
) -> None:
    base = fixture_bytes("elf-base")
    e = run(blob, base, mutate(base))
    assert e.node is Node.DIFFERENT
    (f,) = e.findings
    assert f.klass == "content" and f.summary.startswith("malformed ELF (deployed: ")
    assert f.locations


def test_random_corruption_never_escapes(blob: MakeBlob) -> None:
    base = fixture_bytes("elf-base")
    rnd = random.Random(7)
    for _ in range(200):
        data = bytearray(base)
        for _ in range(rnd.choice((1, 4, 16))):
            data[rnd.randrange(4, 0x40 + 13 * 56)] = rnd.randrange(256)  # headers: most fragile
        e = run(blob, base, bytes(data))
        assert e.findings
        assert e.node in (Node.DIFFERENT, Node.EQUIVALENT)


def _stamp_pair_with(rodata_name: bytes, executable_segment: bool) -> tuple[bytes, bytes]:
    """elf-base and elf-buildtime with .rodata renamed and/or its segment made executable."""
    f = ELFFile(open(FIXTURES / "elf-base", "rb"))  # noqa: SIM115
    names = f.get_section_by_name(".shstrtab")
    rodata = f.get_section_by_name(".rodata")
    seg = next(
        i
        for i, s in enumerate(f.iter_segments())
        if s["p_type"] == "PT_LOAD" and s.section_in_segment(rodata)
    )
    flags_at = f.header["e_phoff"] + seg * f.header["e_phentsize"] + 4
    f.stream.close()
    out = []
    for name in ("elf-base", "elf-buildtime"):
        data = bytearray(fixture_bytes(name))
        at = data.index(b".rodata\x00", names["sh_offset"])
        data[at : at + 8] = rodata_name + b"\x00"
        if executable_segment:
            data[flags_at : flags_at + 4] = struct.pack("<I", 5)  # R E
        out.append(bytes(data))
    return out[0], out[1]


@pytest.mark.parametrize(
    ("name", "executable_segment", "benign"),
    [
        (b".rodata", False, True),
        (b".rxdata", False, True),  # any plain data section outside executable segments
        (b".rodata", True, True),  # .rodata shares the text segment on many toolchains
        (b".rxdata", True, False),  # other data in an executable segment: never
    ],
)
def test_where_a_build_stamp_may_live(
    blob: MakeBlob, name: bytes, executable_segment: bool, benign: bool
) -> None:
    a, b = _stamp_pair_with(name, executable_segment)
    e = run(blob, a, b)
    assert (e.node is Node.EQUIVALENT) is benign
    assert ("build-time" in by_class(e)) is benign


def test_renamed_section_is_still_compared(blob: MakeBlob) -> None:
    f = ELFFile(open(FIXTURES / "elf-base", "rb"))  # noqa: SIM115
    names_at = f.get_section_by_name(".shstrtab")["sh_offset"]
    f.stream.close()
    offset = symbol_offset("elf-base", "check_password") + 5
    data = bytearray(patched("elf-base", offset))
    at = data.index(b".text\x00", names_at)
    data[at : at + 5] = b".txet"
    e = run(blob, fixture_bytes("elf-base"), bytes(data))
    found = by_class(e)
    assert found["code"].locations[0].symbol == "check_password"
    assert any(loc.section == ".shstrtab" for loc in found["data"].locations)


def _without_section_headers(data: bytes) -> bytes:
    """What sstrip leaves: no section header table (e_shoff, e_shnum, e_shstrndx zero)."""
    out = bytearray(data)
    out[0x28:0x30] = bytes(8)
    out[0x3C:0x40] = bytes(4)
    return bytes(out)


def test_binary_without_sections_is_named_by_segment(blob: MakeBlob) -> None:
    offset = symbol_offset("elf-base", "check_password") + 5
    a = _without_section_headers(fixture_bytes("elf-base"))
    b = _without_section_headers(patched("elf-base", offset))
    e = run(blob, a, b)
    (f,) = e.findings
    assert f.klass == "code"
    (loc,) = f.locations
    assert loc.section == "PT_LOAD[3] R-X"
    assert (loc.symbol, loc.offset) == (f"0x{offset:x}-0x{offset + 1:x}", offset)


def test_binary_without_sections_still_compares_dependencies(blob: MakeBlob) -> None:
    a = _without_section_headers(fixture_bytes("elf-needed-alpha"))
    b = _without_section_headers(fixture_bytes("elf-needed-gamma"))
    found = by_class(run(blob, a, b))
    assert found["elf-dynamic"].summary.endswith("NEEDED -libalpha.so.1 +libgamma.so.1")
