"""`importers.text.is_utf8` agrees with Python's strict UTF-8 codec, whatever the chunk
boundaries cut (multi-byte sequences split between chunks, damage at the very end)."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from netvet.inventory.importers import text

SAMPLES = [
    b"plain ascii\n",
    "Hikvision, Zürich, 北京, 🚀\n".encode(),
    "é".encode() * 9,
    b"ok \xc3",  # truncated at the end
    b"\xed\xa0\x80 surrogate",
    b"\xc0\xaf overlong",
    b"abc \xff def",
    "é".encode()[:1] + b"a" + "é".encode(),
]


@pytest.mark.parametrize("chunk", [1, 2, 3, 5, 1 << 22])
def test_agrees_with_the_strict_codec_at_any_chunk_size(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk: int
) -> None:
    monkeypatch.setattr(text, "_CHUNK", chunk)
    rng = random.Random(chunk)
    cases = [*SAMPLES, *(b"".join(rng.choices(SAMPLES, k=4)) for _ in range(40))]
    for number, data in enumerate(cases):
        path = tmp_path / f"{number}.csv"
        path.write_bytes(data)
        try:
            data.decode("utf-8")
            valid = True
        except UnicodeDecodeError:
            valid = False
        assert text.is_utf8(path) is valid, data
