"""Compression codecs: gzip, xz/lzma, bzip2, zstd, lz4, lzop.

Streams are made in-test with the Python libraries where they can write the format; lzop
fixtures (arc-*.lzo) come from the real tool via tests/fixtures/formats/make_archives.sh.
"""

from __future__ import annotations

import bz2
import gzip as stdgzip
import io
import lzma
import struct
import zlib
from collections.abc import Callable
from pathlib import Path

import lz4.block
import lz4.frame
import pytest
import zstandard

from netvet.firmware.context import WalkContext
from netvet.firmware.errors import CorruptContainer, LimitExceeded, NotThisFormat
from netvet.firmware.formats import bzip2, gzip, lzo, xz, zstd
from netvet.firmware.formats import lz4 as lz4_codec
from netvet.firmware.formats.base import PROBE_SIZE, Codec, Decoded
from netvet.firmware.limits import Limits
from netvet.firmware.model import Field, Rule

FIX = Path(__file__).resolve().parent.parent / "fixtures" / "formats"
TEXT = b"".join(b"line %06d of the codec test payload\n" % i for i in range(20000))
LZOP_TEXT = b"".join(b"netvet lzop fixture line %05d\n" % i for i in range(12000))


def lz4_legacy(data: bytes) -> bytes:
    """The legacy LZ4 format (`lz4 -l`): magic, then u32 size + raw block per 8 MiB."""
    out = [lz4_codec.LEGACY_MAGIC]
    for i in range(0, len(data), lz4_codec.LEGACY_BLOCK):
        block = lz4.block.compress(data[i : i + lz4_codec.LEGACY_BLOCK], store_size=False)
        out.append(struct.pack("<I", len(block)) + block)
    return b"".join(out)


COMPRESSORS: dict[str, tuple[Codec, Callable[[bytes], bytes]]] = {
    "gzip": (gzip.FORMAT, lambda d: stdgzip.compress(d, mtime=0)),
    "xz": (xz.FORMAT, lzma.compress),
    "lzma": (xz.FORMAT, lambda d: lzma.compress(d, format=lzma.FORMAT_ALONE)),
    "bzip2": (bzip2.FORMAT, bz2.compress),
    "zstd": (zstd.FORMAT, zstandard.ZstdCompressor().compress),
    "lz4": (lz4_codec.FORMAT, lz4.frame.compress),
    "lz4-legacy": (lz4_codec.FORMAT, lz4_legacy),
}


def decode(codec: Codec, data: bytes, limits: Limits | None = None) -> tuple[bytes, Decoded]:
    with WalkContext(limits or Limits()) as ctx:
        assert codec.probe(data[:PROBE_SIZE], len(data))
        decoded = codec.open(io.BytesIO(data), len(data), ctx)
        return decoded.stream.read(), decoded


def fields(decoded: Decoded) -> dict[str, Field]:
    return {f.name: f for f in decoded.fields}


def lzop(name: str) -> bytes:
    return (FIX / name).read_bytes()


# -- round trips and probes --------------------------------------------------------------------
@pytest.mark.parametrize("kind", sorted(COMPRESSORS))
def test_round_trip(kind: str) -> None:
    codec, compress = COMPRESSORS[kind]
    out, decoded = decode(codec, compress(TEXT))
    assert out == TEXT
    assert decoded.trailing is None


@pytest.mark.parametrize("kind", sorted(COMPRESSORS))
def test_probe_matches_only_its_own_format(kind: str) -> None:
    _, compress = COMPRESSORS[kind]
    head = compress(TEXT)[:PROBE_SIZE]
    matching = {k for k, (codec, _) in COMPRESSORS.items() if codec.probe(head, len(head))}
    assert matching == {k for k, (c, _) in COMPRESSORS.items() if c is COMPRESSORS[kind][0]}
    assert not lzo.FORMAT.probe(head, len(head))
    assert not COMPRESSORS[kind][0].probe(TEXT[:PROBE_SIZE], len(TEXT))


@pytest.mark.parametrize("kind", sorted(COMPRESSORS))
def test_trailing_garbage_is_reported(kind: str) -> None:
    codec, compress = COMPRESSORS[kind]
    data = compress(TEXT)
    out, decoded = decode(codec, data + b"GARBAGE!")
    assert out == TEXT
    assert decoded.trailing == (len(data), 8)


@pytest.mark.parametrize("kind", sorted(set(COMPRESSORS) - {"lz4-legacy"}))
def test_truncated_stream_is_corrupt(kind: str) -> None:
    codec, compress = COMPRESSORS[kind]
    data = compress(TEXT)
    with pytest.raises(CorruptContainer):
        decode(codec, data[: len(data) // 2])


def test_lz4_legacy_has_no_end_marker_so_a_cut_block_is_trailing() -> None:
    data = lz4_legacy(TEXT)
    size = struct.unpack("<I", data[4:8])[0]
    assert len(data) == 8 + size  # one block: cut it and nothing decodes
    cut = data[:-10]
    out, decoded = decode(lz4_codec.FORMAT, cut)
    assert out == b""
    assert decoded.trailing == (4, len(cut) - 4)


def test_lz4_legacy_kernel_size_suffix_is_trailing() -> None:
    data = lz4_legacy(TEXT) + struct.pack("<I", len(TEXT))  # what the kernel's size_append adds
    out, decoded = decode(lz4_codec.FORMAT, data)
    assert out == TEXT
    assert decoded.trailing == (len(data) - 4, 4)
    assert fields(decoded)["format"].value == "legacy"


# -- gzip ----------------------------------------------------------------------------------------
def _gzip_member(payload: bytes, mtime: int, flags: int = 0, extra: bytes = b"") -> bytes:
    comp = zlib.compressobj(6, zlib.DEFLATED, -15)
    body = comp.compress(payload) + comp.flush()
    header = b"\x1f\x8b\x08" + bytes([flags]) + struct.pack("<IBB", mtime, 0, 3) + extra
    return header + body + struct.pack("<II", zlib.crc32(payload), len(payload))


def test_gzip_header_fields_and_rules() -> None:
    buf = io.BytesIO()
    with stdgzip.GzipFile("vmlinux.bin", "wb", fileobj=buf, mtime=1700000000) as f:
        f.write(TEXT)
    out, decoded = decode(gzip.FORMAT, buf.getvalue())
    got = fields(decoded)
    assert out == TEXT
    assert got["MTIME"] == Field("MTIME", "1700000000", Rule.TIMESTAMP)
    assert got["FNAME"] == Field("FNAME", "vmlinux.bin", Rule.COMPRESSION)
    assert got["OS"].rule is Rule.COMPRESSION and got["XFL"].rule is Rule.COMPRESSION
    assert got["members"].value == "1"


def test_gzip_extra_field_is_strict_and_comment_reported() -> None:
    extra = struct.pack("<H", 6) + b"hidden" + b"a comment\0"
    data = _gzip_member(b"payload", 5, flags=0x04 | 0x10, extra=extra)
    out, decoded = decode(gzip.FORMAT, data)
    got = fields(decoded)
    assert out == b"payload"
    assert got["FEXTRA"] == Field("FEXTRA", b"hidden".hex(), Rule.STRICT)
    assert got["FCOMMENT"] == Field("FCOMMENT", "a comment", Rule.COMPRESSION)


def test_gzip_multi_member() -> None:
    data = _gzip_member(b"first ", 1) + _gzip_member(b"second", 2)
    out, decoded = decode(gzip.FORMAT, data)
    assert out == b"first second"
    assert fields(decoded)["members"].value == "2"
    assert fields(decoded)["MTIME"].value == "1,2"
    assert decoded.trailing is None


def test_gzip_many_members_give_bounded_fields() -> None:
    data = b"".join(_gzip_member(b"x", i) for i in range(50))
    out, decoded = decode(gzip.FORMAT, data)
    assert out == b"x" * 50
    assert fields(decoded)["MTIME"].value.startswith("50 distinct values, sha256 ")


def test_gzip_crc_mismatch_is_corrupt() -> None:
    data = bytearray(_gzip_member(TEXT, 0))
    data[-8] ^= 0xFF  # CRC32 of the member
    with pytest.raises(CorruptContainer):
        decode(gzip.FORMAT, bytes(data))


def test_gzip_overlong_name_is_corrupt() -> None:
    data = _gzip_member(b"x", 0, flags=0x08, extra=b"n" * (gzip.MAX_HEADER_STRING + 10) + b"\0")
    with pytest.raises(CorruptContainer, match="longer than"):
        decode(gzip.FORMAT, data)


# -- xz / lzma -----------------------------------------------------------------------------------
def test_xz_fields_with_bcj_filter() -> None:
    filters = [{"id": lzma.FILTER_X86}, {"id": lzma.FILTER_LZMA2, "dict_size": 1 << 20}]
    data = lzma.compress(TEXT, check=lzma.CHECK_CRC32, filters=filters)
    out, decoded = decode(xz.FORMAT, data)
    got = fields(decoded)
    assert out == TEXT
    assert got["check"].value == "crc32"
    assert got["filters"].value == "x86+lzma2"
    assert got["dict_size"].value == str(1 << 20)
    assert all(f.rule is Rule.COMPRESSION for f in decoded.fields)


def test_xz_concatenated_streams_with_padding() -> None:
    data = lzma.compress(b"one ") + b"\0" * 8 + lzma.compress(b"two", check=lzma.CHECK_SHA256)
    out, decoded = decode(xz.FORMAT, data)
    assert out == b"one two"
    assert fields(decoded)["streams"].value == "2"
    assert fields(decoded)["check"].value == "crc64,sha256"


def test_lzma_alone_fields() -> None:
    out, decoded = decode(xz.FORMAT, lzma.compress(TEXT, format=lzma.FORMAT_ALONE))
    got = fields(decoded)
    assert out == TEXT
    assert got["lc_lp_pb"].value == "3,0,2"
    assert got["uncompressed_size"].rule is Rule.DERIVED


def test_lzma_alone_lookalike_is_not_this_format() -> None:
    header = bytes([0x5D]) + struct.pack("<IQ", 1 << 23, (1 << 64) - 1)
    data = header + b"\0" + b"\xff" * 64
    with WalkContext(Limits()) as ctx:
        assert xz.FORMAT.probe(data, len(data))
        with pytest.raises(NotThisFormat):
            xz.FORMAT.open(io.BytesIO(data), len(data), ctx)
        empty = lzma.compress(b"", format=lzma.FORMAT_ALONE)
        with pytest.raises(NotThisFormat):
            xz.FORMAT.open(io.BytesIO(empty), len(empty), ctx)
    # Without the range coder's leading zero byte it is not even probed.
    assert not xz.FORMAT.probe(header + b"\x01" * 64, 78)
    assert not xz.FORMAT.probe(bytes([0x5D]) + struct.pack("<IQ", 1 << 23, 0) + bytes(64), 78)


# -- zstd / lz4 ----------------------------------------------------------------------------------
def test_zstd_frames_and_skippable_frame_is_trailing() -> None:
    cctx = zstandard.ZstdCompressor(write_checksum=True)
    frames = cctx.compress(b"alpha ") + cctx.compress(b"beta")
    skippable = struct.pack("<II", 0x184D2A50, 6) + b"hidden"
    out, decoded = decode(zstd.FORMAT, frames + skippable)
    assert out == b"alpha beta"
    assert decoded.trailing == (len(frames), len(skippable))
    assert fields(decoded)["frames"].value == "2"
    assert fields(decoded)["checksum"].value == "yes"


def test_lz4_frame_fields() -> None:
    data = lz4.frame.compress(TEXT, block_size=lz4.frame.BLOCKSIZE_MAX1MB, content_checksum=True)
    out, decoded = decode(lz4_codec.FORMAT, data + lz4.frame.compress(b"!"))
    got = fields(decoded)
    assert out == TEXT + b"!"
    assert got["frames"].value == "2"
    assert got["content_checksum"].value == "True,False"  # per frame, in order
    assert got["block_size"].rule is Rule.COMPRESSION


# -- lzop (fixtures from the real tool) ----------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "method"),
    [("arc-text.lzo", "lzo1x_1"), ("arc-text-9.lzo", "lzo1x_999"), ("arc-text-crc32.lzo", "")],
)
def test_lzop_fixtures(name: str, method: str) -> None:
    out, decoded = decode(lzo.FORMAT, lzop(name))
    got = fields(decoded)
    assert out == LZOP_TEXT
    assert decoded.trailing is None
    assert got["name"] == Field("name", "text", Rule.COMPRESSION)
    assert got["mtime"] == Field("mtime", "1700000000", Rule.TIMESTAMP)
    if method:
        assert got["method"].value == method


def test_lzop_stored_block() -> None:
    out, _ = decode(lzo.FORMAT, lzop("arc-random.lzo"))
    assert out == (FIX / "arc-random.bin").read_bytes()


def test_lzop_stored_block_checksum_mismatch() -> None:
    data = bytearray(lzop("arc-random.lzo"))
    data[-100] ^= 0x01  # inside the stored block: only the adler32 can notice
    with pytest.raises(CorruptContainer, match="checksum"):
        decode(lzo.FORMAT, bytes(data))


def test_lzop_crc32_block_checksum_mismatch() -> None:
    data = bytearray(lzop("arc-text-crc32.lzo"))
    data[2000] ^= 0x40
    with pytest.raises(CorruptContainer):
        decode(lzo.FORMAT, bytes(data))


def test_lzop_header_checksum_mismatch() -> None:
    data = bytearray(lzop("arc-text.lzo"))
    name_at = data.index(b"\x04text")  # name length then name
    data[name_at + 1] ^= 0x20
    with pytest.raises(CorruptContainer, match="header checksum"):
        decode(lzo.FORMAT, bytes(data))


def test_lzop_multi_member_and_trailing() -> None:
    data = lzop("arc-text.lzo") + lzop("arc-random.lzo")
    out, decoded = decode(lzo.FORMAT, data + b"\xffJUNK")
    assert out == LZOP_TEXT + (FIX / "arc-random.bin").read_bytes()
    assert fields(decoded)["members"].value == "2"
    assert decoded.trailing == (len(data), 5)


def test_lzop_truncated_and_oversized_block() -> None:
    data = lzop("arc-text.lzo")
    with pytest.raises(CorruptContainer, match="truncated"):
        decode(lzo.FORMAT, data[: len(data) - 1000])
    block_at = data.index(struct.pack(">I", 256 << 10))  # dst_len of the first block
    big = bytearray(data)
    big[block_at : block_at + 4] = struct.pack(">I", 64 << 20)
    with pytest.raises(CorruptContainer, match="block sizes"):
        decode(lzo.FORMAT, bytes(big))


def test_lzop_garbage_block_is_corrupt_not_a_crash() -> None:
    data = bytearray(lzop("arc-text.lzo"))
    first_block = data.index(b"\x00\x04\x00\x00") + 12  # dst_len, src_len, adler32
    data[first_block : first_block + 400] = bytes(range(200)) * 2
    with pytest.raises(CorruptContainer):
        decode(lzo.FORMAT, bytes(data))


# -- decompression bombs -------------------------------------------------------------------------
def _zeros(compressor: Callable[[bytes], bytes], flush: Callable[[], bytes], mib: int) -> bytes:
    """`mib` MiB of zeros compressed chunk by chunk, never holding them all."""
    chunk = bytes(1 << 20)
    return b"".join(compressor(chunk) for _ in range(mib)) + flush()


def _bomb(kind: str, mib: int) -> bytes:
    if kind == "lz4-legacy":
        return lz4_codec.LEGACY_MAGIC + b"".join(
            lz4_legacy(bytes(8 << 20))[4:] for _ in range(mib // 8)
        )
    if kind == "lz4":
        c = lz4.frame.LZ4FrameCompressor()
        return c.begin() + _zeros(c.compress, c.flush, mib)
    makers = {
        "gzip": lambda: zlib.compressobj(9, zlib.DEFLATED, 31),
        "xz": lambda: lzma.LZMACompressor(preset=0),
        "lzma": lambda: lzma.LZMACompressor(lzma.FORMAT_ALONE, preset=0),
        "bzip2": lambda: bz2.BZ2Compressor(9),
        "zstd": lambda: zstandard.ZstdCompressor().compressobj(),
    }
    comp = makers[kind]()
    return _zeros(comp.compress, comp.flush, mib)


@pytest.mark.parametrize("kind", sorted(COMPRESSORS))
def test_bomb_stops_while_decompressing(kind: str) -> None:
    codec, _ = COMPRESSORS[kind]
    data = _bomb(kind, 32)
    with WalkContext(Limits(max_ratio=100)) as ctx:
        with pytest.raises(LimitExceeded, match="max-ratio"):
            codec.open(io.BytesIO(data), len(data), ctx)
        assert ctx.expanded < 10 << 20  # stopped early: never expanded the 32 MiB


@pytest.mark.parametrize("kind", ["xz", "gzip"])
def test_200mib_zero_bomb(kind: str) -> None:
    codec, _ = COMPRESSORS[kind]
    data = _bomb(kind, 200)
    # gzip's deflate cannot exceed ~1030:1, just above the default 1000:1; use a tighter bound.
    limits = Limits() if kind == "xz" else Limits(max_ratio=100)
    with WalkContext(limits) as ctx:
        with pytest.raises(LimitExceeded):
            codec.open(io.BytesIO(data), len(data), ctx)
        assert ctx.expanded < 32 << 20  # a fraction of the 200 MiB


def test_total_byte_budget_applies_to_codecs() -> None:
    data = zstandard.ZstdCompressor().compress(TEXT)
    with (
        WalkContext(Limits(max_total_bytes=100_000)) as ctx,
        pytest.raises(LimitExceeded, match="max-total-bytes"),
    ):
        zstd.FORMAT.open(io.BytesIO(data), len(data), ctx)


def test_lzop_ratio_limit() -> None:
    data = lzop("arc-text.lzo") * 4  # 1.4 MiB from 200 KiB: 7:1
    with WalkContext(Limits(max_ratio=5)) as ctx, pytest.raises(LimitExceeded):
        lzo.FORMAT.open(io.BytesIO(data), len(data), ctx)
