"""Build the benchmark's two SquashFS image pairs into bench/work/ (gitignored).

- `big`: a rootfs whose *image* is at least 150 MB: real shared libraries copied from this
  machine, synthetic ELF-like binaries (seeded pseudo-random code mixed with repeated
  instruction-like patterns), incompressible firmware blobs and text. The deployed copy differs
  by ONE byte inside a function in the `.text` of one shared library.
- `small`: at least 20,000 small files (a few hundred bytes to a few KB, text and binary) in a
  few hundred directories. The deployed copy has one configuration file edited.

Everything synthetic comes from a seeded PRNG, so a rerun gives the same trees. The copied
libraries depend on the host; their names and sha256 go into `bench/work/manifest.json`.
Both sides are packed with the same mksquashfs options (gzip, 128 KiB blocks, all files owned
by root, fixed file times); the deployed image gets a different `mkfs_time`, as a rebuild would.

Usage: python bench/make_images.py [--work DIR] [--force]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

from elftools.elf.elffile import ELFFile
from elftools.elf.sections import SymbolTableSection

WORK = Path(__file__).resolve().parent / "work"
LIBDIR = Path("/usr/lib/x86_64-linux-gnu")
MIN_BIG_IMAGE = 150 << 20  # 150 MiB, so it holds whichever MB is meant
MIN_SMALL_FILES = 20_000
REF_MKFS_TIME = 1_700_000_000  # 2023-11-14
DEP_MKFS_TIME = REF_MKFS_TIME + 86_400 * 30  # rebuilt a month later
FILE_TIME = 1_699_000_000

VOCAB = (
    "interface vlan route bgp ospf neighbor address mask gateway enable disable shutdown "
    "description trunk access port channel group policy map class match permit deny any host "
    "log level debug info warning error critical snmp community server client timeout retry "
    "interval keepalive hello dead cost priority area stub nssa redistribute static connected "
    "metric tag prefix list sequence ip ipv6 mtu speed duplex auto full half qos queue shape "
    "police rate burst exceed violate drop transmit mark dscp cos trust untrusted user admin "
    "password secret hash sha256 key chain authentication accounting radius tacacs ntp clock "
    "timezone banner motd hostname domain name lookup dns resolver cache entry table module "
    "firmware version release build image boot loader partition mount read only write sync"
)
WORDS = VOCAB.split()


# -- writing trees ---------------------------------------------------------------------------------
def write(path: Path, data: bytes, mode: int = 0o644) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    os.chmod(path, mode)


def text(rng: random.Random, size: int) -> bytes:
    """Config/doc-like text: key-value lines and prose from a small vocabulary."""
    lines: list[str] = []
    total = 0
    while total < size:
        if rng.random() < 0.5:
            k = "_".join(rng.choices(WORDS, k=rng.randint(1, 3)))
            line = f"{k} = {rng.choice(WORDS)} {rng.randint(0, 65535)}"
        else:
            line = " ".join(rng.choices(WORDS, k=rng.randint(4, 14))).capitalize() + "."
        lines.append(line)
        total += len(line) + 1
    return ("\n".join(lines) + "\n").encode()[:size]


def binary(rng: random.Random, size: int, patterns: list[bytes]) -> bytes:
    """ELF-like bytes: an ELF header, then pseudo-random 'code' runs mixed with repeated runs.

    About half of the bytes are incompressible, like optimised machine code and packed data;
    the rest repeats instruction-like patterns, like padding, PLT stubs and string tables.
    """
    out = bytearray(b"\x7fELF\x02\x01\x01" + bytes(9))
    while len(out) < size:
        n = rng.randint(256, 4096)
        if rng.random() < 0.5:
            out += rng.randbytes(n)
        else:
            pat = rng.choice(patterns)
            out += (pat * (n // len(pat) + 1))[:n]
    return bytes(out[:size])


# -- the big pair ----------------------------------------------------------------------------------
def pick_libraries(budget: int) -> list[Path]:
    """Regular .so files of 1-8 MB from this machine, by name, up to `budget` bytes."""
    chosen: list[Path] = []
    total = 0
    for p in sorted(LIBDIR.glob("*.so*")):
        if p.is_symlink() or not p.is_file():
            continue
        size = p.stat().st_size
        if not 1_000_000 <= size <= 8_000_000 or not _is_elf(p):
            continue
        chosen.append(p)
        total += size
        if total >= budget:
            break
    if total < budget:
        sys.exit(f"only {total} bytes of shared libraries in {LIBDIR}; need {budget}")
    return chosen


def _is_elf(path: Path) -> bool:
    with path.open("rb") as f:
        return f.read(4) == b"\x7fELF"


def make_big_tree(root: Path, rng: random.Random) -> list[dict[str, object]]:
    libs = pick_libraries(110_000_000)
    copied = []
    for lib in libs:
        dest = root / "usr/lib" / lib.name
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(lib, dest)
        os.chmod(dest, 0o755)
        copied.append({"name": lib.name, "sha256": _sha256(dest), "size": dest.stat().st_size})
    patterns = [rng.randbytes(rng.randint(3, 16)) for _ in range(64)]
    for i in range(120):  # ~120 MB of programs
        size = rng.randint(300_000, 1_700_000)
        write(root / f"usr/bin/prog{i:03d}", binary(rng, size, patterns), 0o755)
    for i in range(40):  # ~40 MB of already-compressed firmware blobs
        write(root / f"lib/firmware/blob{i:02d}.bin", rng.randbytes(1_000_000))
    for i in range(700):  # ~70 MB of documentation and configuration
        sub = ("usr/share/doc", "etc", "usr/share/help")[i % 3]
        size = rng.randint(20_000, 180_000)
        write(root / f"{sub}/d{i % 17:02d}/file{i:04d}.txt", text(rng, size))
    (root / "bin").mkdir(exist_ok=True)
    os.symlink("../usr/bin/prog000", root / "bin/sh")
    return copied


def patch_one_text_byte(path: Path) -> dict[str, object]:
    """Flip the low bit of the byte in the middle of one function in `.text`."""
    with path.open("rb") as f:
        elf = ELFFile(f)
        text_sec = elf.get_section_by_name(".text")
        if text_sec is None:
            raise SystemExit(f"{path}: no .text")
        lo, hi = text_sec["sh_addr"], text_sec["sh_addr"] + text_sec["sh_size"]
        funcs = []
        for name in (".symtab", ".dynsym"):
            sec = elf.get_section_by_name(name)
            if not isinstance(sec, SymbolTableSection):
                continue
            for sym in sec.iter_symbols():
                v, n = sym["st_value"], sym["st_size"]
                if sym["st_info"]["type"] == "STT_FUNC" and n >= 64 and lo <= v and v + n <= hi:
                    funcs.append((sym.name, v, n))
        if not funcs:
            raise SystemExit(f"{path}: no function symbols in .text")
        funcs.sort()
        name, addr, size = funcs[len(funcs) // 2]
        vaddr = addr + size // 2
        offset = vaddr - text_sec["sh_addr"] + text_sec["sh_offset"]
    data = bytearray(path.read_bytes())
    old = data[offset]
    data[offset] ^= 0x01
    path.write_bytes(bytes(data))
    return {
        "file": path.name,
        "function": name,
        "vaddr": hex(vaddr),
        "offset": offset,
        "old": old,
        "new": data[offset],
    }


# -- the small pair --------------------------------------------------------------------------------
def make_small_tree(root: Path, rng: random.Random, count: int) -> None:
    patterns = [rng.randbytes(rng.randint(3, 16)) for _ in range(64)]
    tops = ("etc", "usr/share/www", "usr/share/locale", "usr/lib/modules", "var/lib/conf")
    for i in range(count):
        d = root / tops[i % len(tops)] / f"g{(i // 7) % 80:02d}" / f"s{i % 6}"
        size = int(rng.lognormvariate(7.0, 0.8)) + 200  # median ~1.3 KB
        size = min(size, 8_000)
        if rng.random() < 0.7:
            write(d / f"f{i:05d}.conf", text(rng, size))
        else:
            write(d / f"f{i:05d}.bin", binary(rng, size, patterns))
    write(root / "etc/device.conf", b"hostname = olt-lab-01\nsnmp_community = public\n")


def edit_one_file(root: Path) -> dict[str, object]:
    path = root / "etc/device.conf"
    path.unlink()  # break the hard link to the reference tree before writing
    write(path, b"hostname = olt-lab-01\nsnmp_community = s3cr3t-backdoor\n")
    return {"file": "etc/device.conf"}


# -- shared plumbing -------------------------------------------------------------------------------
def link_tree(src: Path, dst: Path) -> None:
    """The deployed tree as hard links to the reference one (files are replaced, not edited)."""
    shutil.copytree(src, dst, symlinks=True, copy_function=os.link)


def detach(path: Path) -> None:
    data = path.read_bytes()
    mode = path.stat().st_mode & 0o7777
    path.unlink()
    write(path, data, mode)


def mksquashfs(tree: Path, image: Path, mkfs_time: int) -> None:
    image.unlink(missing_ok=True)
    subprocess.run(
        [
            "mksquashfs",
            str(tree),
            str(image),
            "-noappend",
            "-comp",
            "gzip",
            "-b",
            "131072",
            "-all-root",
            "-mkfs-time",
            str(mkfs_time),
            "-all-time",
            str(FILE_TIME),
            "-quiet",
            "-no-progress",
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def build_pair(work: Path, name: str, seed: int) -> dict[str, object]:
    base = work / name
    if base.exists():
        shutil.rmtree(base)
    ref_tree, dep_tree = base / "tree-ref", base / "tree-dep"
    rng = random.Random(seed)
    info: dict[str, object] = {"pair": name}
    if name == "big":
        info["libraries"] = make_big_tree(ref_tree, rng)
        link_tree(ref_tree, dep_tree)
        lib = next(p for p in sorted((dep_tree / "usr/lib").iterdir()) if p.stat().st_size > 2e6)
        detach(lib)
        info["change"] = patch_one_text_byte(lib)
    else:
        make_small_tree(ref_tree, rng, 24_000)
        link_tree(ref_tree, dep_tree)
        info["change"] = edit_one_file(dep_tree)
    mksquashfs(ref_tree, base / "ref.squashfs", REF_MKFS_TIME)
    mksquashfs(dep_tree, base / "dep.squashfs", DEP_MKFS_TIME)
    files = sum(len(fs) for _, _, fs in os.walk(ref_tree))
    info["files"] = files
    info["tree_bytes"] = sum(p.stat().st_size for p in ref_tree.rglob("*") if p.is_file())
    for side in ("ref", "dep"):
        img = base / f"{side}.squashfs"
        info[f"{side}_image"] = {
            "path": str(img),
            "size": img.stat().st_size,
            "sha256": _sha256(img),
        }
    shutil.rmtree(ref_tree)
    shutil.rmtree(dep_tree)
    return info


def check(info: dict[str, object]) -> None:
    ref = info["ref_image"]
    assert isinstance(ref, dict)
    if info["pair"] == "big" and ref["size"] < MIN_BIG_IMAGE:
        sys.exit(f"big image is only {ref['size']} bytes; need {MIN_BIG_IMAGE}")
    if info["pair"] == "small" and int(str(info["files"])) < MIN_SMALL_FILES:
        sys.exit(f"small tree has only {info['files']} files; need {MIN_SMALL_FILES}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--work", type=Path, default=WORK)
    ap.add_argument("--force", action="store_true", help="rebuild even if the images exist")
    args = ap.parse_args()
    work: Path = args.work
    work.mkdir(parents=True, exist_ok=True)
    manifest_path = work / "manifest.json"
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else {}
    for name, seed in (("big", 150), ("small", 20_000)):
        done = all((work / name / f"{s}.squashfs").exists() for s in ("ref", "dep"))
        if done and name in manifest and not args.force:
            continue
        print(f"building {name} pair...", file=sys.stderr)
        info = build_pair(work, name, seed)
        check(info)
        manifest[name] = info
        manifest_path.write_text(json.dumps(manifest, indent=2) + "\n")
    for name in ("big", "small"):
        i = manifest[name]
        print(
            f"{name}: {i['files']} files, {i['tree_bytes']} bytes in tree, "
            f"images {i['ref_image']['size']} / {i['dep_image']['size']} bytes; "
            f"change: {i['change']}",
            file=sys.stderr,
        )


if __name__ == "__main__":
    main()
