"""Text files (scripts, configuration, version stamps, digest manifests): a line diff.

Two benign classes apply, each line by line, and only to a changed line that pairs 1:1 with a
line of the same length in the other version (a `replace` hunk with as many lines on each side):

- `build-time`: every differing character lies in a date/time stamp of the same format at the
  same place on both sides (`timestamps.stamp_difference`), e.g. `/etc/version`, a banner.
- `derived-digest`: the differing characters lie in hex tokens of a digest's length (8 crc32,
  32 md5, 40 sha1, 64 sha256, 96 sha384, 128 sha512) at the same place on both sides, possibly
  together with stamps. Each changed token pair becomes a `DigestClaim`; the comparison turns the
  finding unexplained unless some equivalent entry has exactly those digests (claims.py).

Everything else (added, removed or reshaped lines, a changed password hash in /etc/shadow,
which is `$6$salt$...` and never a bare hex token) is an unexplained `text` finding whose
locations give the first reference line number of each hunk and its first changed line.
"""

from __future__ import annotations

import difflib
import posixpath
import re
from collections.abc import Iterator, Sequence

from netvet.firmware.blob import Blob
from netvet.firmware.content import DigestClaim, Explanation, binary
from netvet.firmware.content.timestamps import stamp_difference, stamps
from netvet.firmware.result import Change, Finding, Location, Node, Status

MAX_LOCATIONS = 50
MAX_DIFF_LINES = 400
DETAIL = 120
# Above this many lines in the differing middle, difflib's cost grows too fast: the middle is
# reported as one replaced block instead of being aligned line by line.
MAX_ALIGN_LINES = 50_000
MAX_LINE = 64 << 10  # longer lines (minified code, blobs) are never explained as benign

_CONTROL_OK = frozenset(b"\t\n\r\x0b\x0c\x1b")
_DIGEST_LENGTHS = {8: "crc32", 32: "md5", 40: "sha1", 64: "sha256", 96: "sha384", 128: "sha512"}
# A hex token is a whole word: no letter, digit or crypt(3)/base64 character next to it, so
# a slice of `$6$salt$hash` or of a longer identifier never counts as a digest.
_HEX = re.compile(r"(?<![0-9A-Za-z$./+_])[0-9a-fA-F]+(?![0-9A-Za-z$./+_])")
_ALGO_NAME = re.compile(r"(?i)(?<![a-z])(md5|sha-?1|sha-?256|sha-?384|sha-?512|crc-?32)(?!\d)")

Opcode = tuple[str, int, int, int, int]


def accepts(head: bytes) -> bool:
    """Text: no NUL, no control bytes but tab/newline/CR/VT/FF/ESC, UTF-8 or Latin-1."""
    if any(b < 0x20 and b not in _CONTROL_OK or b == 0x7F for b in head):
        return False
    try:
        head.decode("utf-8")
        return True
    except UnicodeDecodeError as exc:
        # The head may cut a multi-byte character short; that alone does not make it binary.
        if exc.reason == "unexpected end of data" and exc.start >= len(head) - 3:
            return True
    return not any(0x80 <= b < 0xA0 for b in head)  # printable Latin-1


def explain(path: str, ref: Blob, dep: Blob) -> Explanation:
    raw_a, raw_b = ref.read(), dep.read()
    if b"\x00" in raw_a or b"\x00" in raw_b:  # text at the head, binary further on
        return binary.explain(path, ref, dep)
    la, lb = _lines(_decode(raw_a)), _lines(_decode(raw_b))
    codes = _opcodes(la, lb)
    hunks = [c for c in codes if c[0] != "equal"]
    if not hunks:  # only possible if the bytes differ but decode to equal lines
        return binary.explain(path, ref, dep)
    stamped: list[Location] = []
    digested: list[Location] = []
    claims: list[DigestClaim] = []
    unexplained: list[Opcode] = []
    for code in hunks:
        pairs = _explain_hunk(la, lb, code, path)
        if pairs is None:
            unexplained.append(code)
            continue
        n_stamps, hunk_claims = pairs
        loc = _location(la, lb, code)
        (digested if hunk_claims else stamped).append(loc)
        if hunk_claims and n_stamps:
            stamped.append(loc)
        claims.extend(hunk_claims)
    findings = _benign(path, stamped, digested, claims)
    if unexplained:
        findings.insert(0, _unexplained(path, la, lb, codes, unexplained))
    node = Node.DIFFERENT if unexplained else Node.EQUIVALENT
    return Explanation(node, tuple(findings), tuple(claims))


# -- classification ---------------------------------------------------------------------------
def _explain_hunk(
    la: Sequence[str], lb: Sequence[str], code: Opcode, path: str
) -> tuple[int, list[DigestClaim]] | None:
    """(number of changed stamps, digest claims) if every line pair of the hunk is benign."""
    tag, i1, i2, j1, j2 = code
    if tag != "replace" or i2 - i1 != j2 - j1:
        return None
    n_stamps = 0
    claims: list[DigestClaim] = []
    for x, y in zip(la[i1:i2], lb[j1:j2], strict=True):
        pair = _explain_line(x, y, path)
        if pair is None:
            return None
        n_stamps += pair[0]
        claims.extend(pair[1])
    return n_stamps, claims


def _explain_line(x: str, y: str, path: str) -> tuple[int, list[DigestClaim]] | None:
    """(changed stamps, digest claims) when two equal-length lines differ only in stamps and
    digest-length hex tokens found at the same spans on both sides; None otherwise."""
    if x == y:  # difflib may keep an equal line inside a replaced block
        return 0, []
    if len(x) != len(y) or len(x) > MAX_LINE:
        return None
    only_stamps = stamp_difference(x, y)
    if only_stamps is not None:
        return len(only_stamps), []
    covered = bytearray(len(x))
    theirs = {(s.start, s.end): s.fmt for s in stamps(y)}
    changed = [
        s
        for s in stamps(x)
        if theirs.get((s.start, s.end)) == s.fmt and x[s.start : s.end] != y[s.start : s.end]
    ]
    for s in changed:
        covered[s.start : s.end] = b"\x01" * (s.end - s.start)
    claims: list[DigestClaim] = []
    tokens_b = set(_digest_tokens(y))
    for i, j in _digest_tokens(x):
        if (i, j) in tokens_b and x[i:j] != y[i:j] and not any(covered[i:j]):
            covered[i:j] = b"\x01" * (j - i)
            claims.append(DigestClaim(_algorithm(x, path, j - i), x[i:j].lower(), y[i:j].lower()))
    if not claims:
        return None
    if any(a != b and not covered[i] for i, (a, b) in enumerate(zip(x, y, strict=True))):
        return None
    return len(changed), claims


def _digest_tokens(line: str) -> list[tuple[int, int]]:
    return [m.span() for m in _HEX.finditer(line) if m.end() - m.start() in _DIGEST_LENGTHS]


def _algorithm(line: str, path: str, length: int) -> str:
    """The digest algorithm a line or the file's name states, if it fits the token length;
    "" (any algorithm of that length) otherwise."""
    for text in (line, posixpath.basename(path)):
        for m in _ALGO_NAME.finditer(text):
            name = m.group(1).lower().replace("-", "")
            if _DIGEST_LENGTHS.get(length) == name:
                return name
    return ""


# -- findings ---------------------------------------------------------------------------------
def _benign(
    path: str, stamped: list[Location], digested: list[Location], claims: list[DigestClaim]
) -> list[Finding]:
    out: list[Finding] = []
    if stamped:
        summary = f"build date/time stamp changed on {_count(stamped)} line(s)"
        out.append(_finding(path, Status.BENIGN, "build-time", summary, stamped))
    if digested:
        summary = f"{len(claims)} digest(s) of other entries changed on {_count(digested)} line(s)"
        diff = [f"{c.algorithm or 'digest'} {c.ref} -> {c.dep}" for c in claims[:MAX_LOCATIONS]]
        out.append(_finding(path, Status.BENIGN, "derived-digest", summary, digested, diff))
    return out


def _unexplained(
    path: str, la: Sequence[str], lb: Sequence[str], codes: list[Opcode], hunks: list[Opcode]
) -> Finding:
    added = sum(c[4] - c[3] for c in hunks)
    removed = sum(c[2] - c[1] for c in hunks)
    more = f" (first {MAX_LOCATIONS} shown)" if len(hunks) > MAX_LOCATIONS else ""
    summary = f"text changed in {len(hunks)} hunk(s){more}: +{added} -{removed} line(s)"
    locs = [_location(la, lb, c) for c in hunks]
    return _finding(path, Status.UNEXPLAINED, "text", summary, locs, _unified(la, lb, codes))


def _finding(
    path: str,
    status: Status,
    klass: str,
    summary: str,
    locs: list[Location],
    diff: list[str] | None = None,
) -> Finding:
    node = Node.EQUIVALENT if status is Status.BENIGN else Node.DIFFERENT
    return Finding(
        path,
        Change.MODIFIED,
        status,
        klass,
        summary,
        tuple(locs[:MAX_LOCATIONS]),
        node=node,
        diff=tuple(diff or ()),
    )


def _location(la: Sequence[str], lb: Sequence[str], code: Opcode) -> Location:
    """Lines of a hunk: `offset` is the 1-based first reference line (for an insertion, the
    reference line the new lines precede), `length` the larger line count of the two sides,
    `detail` the first new line (`+...`), or the first removed one (`-...`) for a deletion."""
    tag, i1, i2, j1, j2 = code
    first = f"-{_show(la[i1])}" if tag == "delete" else f"+{_show(lb[j1])}"
    return Location("lines", None, i1 + 1, max(i2 - i1, j2 - j1), first[:DETAIL])


def _count(locs: list[Location]) -> int:
    return sum(loc.length or 0 for loc in locs)


# -- diffing ----------------------------------------------------------------------------------
def _decode(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")  # one character per byte: lossless


def _lines(text: str) -> list[str]:
    """Lines with their `\\n` kept, so a changed line ending or final newline is a change."""
    parts = text.split("\n")
    out = [p + "\n" for p in parts[:-1]]
    if parts[-1]:
        out.append(parts[-1])
    return out


def _opcodes(la: list[str], lb: list[str]) -> list[Opcode]:
    """difflib opcodes over the lines, after trimming the common head and tail cheaply."""
    p = 0
    while p < min(len(la), len(lb)) and la[p] == lb[p]:
        p += 1
    s = 0
    while s < min(len(la), len(lb)) - p and la[-1 - s] == lb[-1 - s]:
        s += 1
    ma, mb = la[p : len(la) - s], lb[p : len(lb) - s]
    codes: list[Opcode] = [("equal", 0, p, 0, p)] if p else []
    if len(ma) + len(mb) > MAX_ALIGN_LINES:
        codes.append(("replace", p, p + len(ma), p, p + len(mb)))
    else:
        # difflib's "popular line" heuristic may lump hunks of files with many repeated lines
        # together, but without it repeated lines make alignment quadratic: precise alignment
        # only while it is cheap. Lumped hunks are coarser, never wrong.
        matcher = difflib.SequenceMatcher(None, ma, mb, autojunk=len(ma) + len(mb) > 400)
        for tag, i1, i2, j1, j2 in matcher.get_opcodes():
            codes.append((tag, i1 + p, i2 + p, j1 + p, j2 + p))
    if s:
        codes.append(("equal", len(la) - s, len(la), len(lb) - s, len(lb)))
    return codes


def _groups(codes: list[Opcode], n: int = 3) -> Iterator[list[Opcode]]:
    """Hunks with `n` lines of context, as difflib.SequenceMatcher.get_grouped_opcodes."""
    codes = list(codes)
    if codes and codes[0][0] == "equal":
        t, i1, i2, j1, j2 = codes[0]
        codes[0] = t, max(i1, i2 - n), i2, max(j1, j2 - n), j2
    if codes and codes[-1][0] == "equal":
        t, i1, i2, j1, j2 = codes[-1]
        codes[-1] = t, i1, min(i2, i1 + n), j1, min(j2, j1 + n)
    group: list[Opcode] = []
    for t, i1, i2, j1, j2 in codes:
        if t == "equal" and i2 - i1 > 2 * n:
            group.append((t, i1, min(i2, i1 + n), j1, min(j2, j1 + n)))
            yield group
            group = []
            i1, j1 = max(i1, i2 - n), max(j1, j2 - n)
        group.append((t, i1, i2, j1, j2))
    if group and not (len(group) == 1 and group[0][0] == "equal"):
        yield group


def _unified(la: Sequence[str], lb: Sequence[str], codes: list[Opcode]) -> list[str]:
    out: list[str] = ["--- reference", "+++ deployed"]
    for group in _groups(codes):
        i1, i2, j1, j2 = group[0][1], group[-1][2], group[0][3], group[-1][4]
        out.append(f"@@ -{_range(i1, i2)} +{_range(j1, j2)} @@")
        for tag, a1, a2, b1, b2 in group:
            if tag == "equal":
                out.extend(" " + _show(line) for line in la[a1:a2])
                continue
            out.extend("-" + _show(line) for line in la[a1:a2])
            out.extend("+" + _show(line) for line in lb[b1:b2])
        if len(out) > MAX_DIFF_LINES:
            return [*out[:MAX_DIFF_LINES], f"... (diff cut at {MAX_DIFF_LINES} lines)"]
    return out


def _range(start: int, stop: int) -> str:
    length = stop - start
    first = start + 1 if length else start
    return str(first) if length == 1 else f"{first},{length}"


def _show(line: str) -> str:
    """A line for display: `\\r` made visible, a missing final newline marked."""
    if not line.endswith("\n"):
        return line.replace("\r", "\\r") + "  [no newline at end of file]"
    return line[:-1].replace("\r", "\\r")
