"""The benchmark's decompress-and-hash floors (bench/hash_baseline.py) still run on the reader
netvet has now: a change to the SquashFS reader once broke the own-reader floor unnoticed until
the next benchmark. Both readers must read the same bytes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
IMAGES = sorted((ROOT / "tests" / "fixtures" / "slack").glob("squashfs-*.img"))


def floor(reader: str, *images: Path) -> list[str]:
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "hash_baseline.py"),
            "--reader",
            reader,
            *map(str, images),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


@pytest.mark.parametrize("image", IMAGES, ids=lambda p: p.name)
def test_both_floors_read_the_same_files(image: Path) -> None:
    own = floor("own", image, image)
    assert " 0 files" not in own[0]  # the fixtures hold files: the digest covers something
    if "zstd" in image.name:
        return  # dissect.squashfs reads zstd only with a module netvet does not install
    pytest.importorskip("dissect.squashfs")
    assert own == floor("dissect", image, image)


def test_there_are_images_to_read() -> None:
    assert len(IMAGES) >= 3
