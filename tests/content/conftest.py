"""Shared helpers of the content-analyser tests: fixture files and in-memory blobs."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from netvet.firmware.blob import Blob
from netvet.firmware.context import WalkContext
from netvet.firmware.limits import Limits

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "content"

MakeBlob = Callable[..., Blob]


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


@pytest.fixture
def ctx() -> Iterator[WalkContext]:
    with WalkContext(Limits()) as context:
        yield context


@pytest.fixture
def blob(ctx: WalkContext) -> MakeBlob:
    """blob(data, path="entry") -> a Blob over an in-memory stream, hashed like the walker does."""

    def make(data: bytes, path: str = "entry") -> Blob:
        b = Blob(path, lambda: io.BytesIO(data), ctx)
        assert b.sha256  # reads it once: sets head and size, as the comparison does
        return b

    return make
