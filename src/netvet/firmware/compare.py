"""Two images -> a verdict and findings.

The comparison walks both images together, top-down. Entries whose bytes hash equal are
IDENTICAL and never opened; others are peeled of compression, listed as containers and matched
member by member (by path, then by content for moves), or handed to a content analyser. Every
node ends IDENTICAL, EQUIVALENT, DIFFERENT or NOT_COMPARED; the last two make the verdict
`different`.

On two or more cores the deployed input file's top container is listed and hashed by a worker
process while this one does the reference (prefetch.py); the findings are the same without it.
"""

from __future__ import annotations

import gc
import os
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace

from netvet.errors import InputError
from netvet.firmware.blob import Blob, FileBlob
from netvet.firmware.content import DigestClaim, Within, explain
from netvet.firmware.context import WalkContext
from netvet.firmware.digests import prehash
from netvet.firmware.errors import FirmwareError, LimitExceeded
from netvet.firmware.limits import Limits
from netvet.firmware.listing import compare_listings
from netvet.firmware.model import Listing
from netvet.firmware.prefetch import Prefetch, Unavailable, servable, wanted
from netvet.firmware.result import (
    Change,
    Comparison,
    Finding,
    ImageInfo,
    Node,
    Stats,
    Status,
    verdict_of,
)
from netvet.firmware.walk import Layer, open_container, peel

Progress = Callable[[int], None]


@dataclass
class Tally:
    """Mutable counters of one comparison; frozen into `Stats` at the end."""

    nodes: dict[Node, int] = field(default_factory=lambda: {n: 0 for n in Node})
    containers: int = 0
    bytes_read: int = 0


@dataclass
class Pending:
    """A finding that holds only if its digest claims check out at the end."""

    finding: Finding
    claims: tuple[DigestClaim, ...]
    entry: tuple[Blob, Blob] | None = None  # the file whose finding this is
    # The `differ` calls open when the finding was made: the file's own and its containers'.
    frames: tuple[int, ...] = ()


class Engine:
    """One comparison's state. Not reusable; not thread-safe."""

    def __init__(self, limits: Limits, progress: Progress | None = None) -> None:
        self.limits = limits
        self.ref_ctx = WalkContext(limits, "reference")
        self.dep_ctx = WalkContext(limits, "deployed")
        self.findings: list[Finding] = []
        self.pending: list[Pending] = []
        self.equivalent: list[tuple[Blob, Blob]] = []
        self.tally = Tally()
        self.progress = progress
        # path -> outermost format seen there, per side (for the report's image summary)
        self.formats: dict[str, str] = {}
        self.dep_formats: dict[str, str] = {}
        # Lists and hashes the deployed input file in another process (prefetch.py), if used.
        self.prefetch: Prefetch | None = None
        # The `differ` calls open now (innermost last) and those that counted an equivalent
        # node of their own (a compression layer passes its content's node on uncounted): an
        # entry counted equivalent whose digest claim fails at the end is re-counted as
        # different, and so is every container that was equivalent because of it.
        self._frames: list[int] = []
        self._equivalent_frames: set[int] = set()
        self._next_frame = 0
        self._counted_in = -1  # the frame open at the last `node` call

    # -- entry points --------------------------------------------------------------------------
    def blobs(
        self, path: str, ref: Blob, dep: Blob, depth: int = 0, within: Within | None = None
    ) -> Node:
        """Compare two byte streams that stand at `path`; record findings; return the node.

        `within` names the container listing the entry came from (e.g. a device tree), so a
        plain-content difference can be described in that format's terms.
        """
        try:
            same = ref.sha256 == dep.sha256
        except (OSError, FirmwareError, EOFError, ValueError) as exc:
            return self.not_compared(path, f"could not read: {exc}")
        self.count_bytes(ref.size + dep.size)
        if same:
            return self.node(Node.IDENTICAL)
        return self.differ(path, ref, dep, depth, within)

    def differ(
        self, path: str, ref: Blob, dep: Blob, depth: int = 0, within: Within | None = None
    ) -> Node:
        """Compare two byte streams already known to differ."""
        if depth > self.limits.max_depth:
            return self.not_compared(
                path, f"nesting deeper than --max-depth ({self.limits.max_depth})"
            )
        frame = self._next_frame
        self._next_frame += 1
        self._frames.append(frame)
        try:
            node = self._differing(path, ref, dep, depth, within)
            if node is Node.EQUIVALENT:
                self.equivalent.append((ref, dep))
                if self._counted_in == frame:
                    self._equivalent_frames.add(frame)
            return node
        except LimitExceeded as exc:
            return self.not_compared(path, str(exc))
        except FirmwareError as exc:
            return self.not_compared(path, str(exc))
        except (OSError, EOFError, ValueError, KeyError, IndexError, MemoryError) as exc:
            return self.not_compared(path, f"{type(exc).__name__}: {exc}")
        finally:
            self._frames.pop()

    def _differing(
        self, path: str, ref: Blob, dep: Blob, depth: int, within: Within | None
    ) -> Node:
        ref_peeled = peel(ref, self.ref_ctx)
        dep_peeled = peel(dep, self.dep_ctx)
        if ref_peeled:
            self.formats.setdefault(path, ref_peeled[0].codec)
        if dep_peeled:
            self.dep_formats.setdefault(path, dep_peeled[0].codec)
        if ref_peeled or dep_peeled:
            return self._layers(path, ref, dep, ref_peeled, dep_peeled, depth)
        ref_list, dep_list = self._listings(ref, dep)
        if ref_list is not None:
            self.formats.setdefault(path, ref_list.format)
        if dep_list is not None:
            self.dep_formats.setdefault(path, dep_list.format)
        if ref_list is not None and dep_list is not None:
            self.tally.containers += 2
            return compare_listings(self, path, ref_list, dep_list, ref, dep, depth)
        if ref_list is not None or dep_list is not None:
            kinds = (
                ref_list.format if ref_list else "plain data",
                dep_list.format if dep_list else "plain data",
            )
            self.add(
                Finding(
                    path,
                    Change.MODIFIED,
                    Status.UNEXPLAINED,
                    "format-changed",
                    f"format changed: {kinds[0]} -> {kinds[1]}",
                )
            )
            return self.node(Node.DIFFERENT)
        return self.content(path, ref, dep, within)

    def _listings(self, ref: Blob, dep: Blob) -> tuple[Listing | None, Listing | None]:
        """Both sides listed, their members hashed (digests.py); the deployed one by the worker
        when it serves `dep` (the input file), the reference's members hashed here meanwhile."""
        pf = self.prefetch
        if pf is None or pf.blob is not dep:
            ref_list = open_container(ref, self.ref_ctx)
            dep_list = open_container(dep, self.dep_ctx)
            if ref_list is None or dep_list is None:  # no members to match
                return ref_list, dep_list
            return prehash(ref_list, self.ref_ctx), prehash(dep_list, self.dep_ctx)
        pf.begin()
        ref_list = open_container(ref, self.ref_ctx)
        if ref_list is not None:
            ref_list = prehash(ref_list, self.ref_ctx)
        try:
            return ref_list, pf.listing(self.dep_ctx)
        except Unavailable:
            return ref_list, open_container(dep, self.dep_ctx)

    def _layers(
        self,
        path: str,
        ref: Blob,
        dep: Blob,
        ref_peeled: tuple[Layer, Blob] | None,
        dep_peeled: tuple[Layer, Blob] | None,
        depth: int,
    ) -> Node:
        from netvet.firmware.layers import compare_layers

        return compare_layers(self, path, ref, dep, ref_peeled, dep_peeled, depth)

    def content(self, path: str, ref: Blob, dep: Blob, within: Within | None = None) -> Node:
        """Hand a differing plain file to the content analysers."""
        explanation = explain(path, ref, dep, within)
        if explanation.claims:
            for f in explanation.findings:
                self.pending.append(Pending(f, explanation.claims, (ref, dep), tuple(self._frames)))
        else:
            self.findings.extend(explanation.findings)
        return self.node(explanation.node)

    # -- recording -----------------------------------------------------------------------------
    def add(self, finding: Finding) -> None:
        self.findings.append(finding)

    def node(self, node: Node) -> Node:
        self.tally.nodes[node] += 1
        self._counted_in = self._frames[-1] if self._frames else -1
        return node

    def not_compared(self, path: str, reason: str) -> Node:
        self.add(
            Finding(
                path,
                Change.MODIFIED,
                Status.UNEXPLAINED,
                "not-compared",
                f"not compared: {reason}",
                node=Node.NOT_COMPARED,
            )
        )
        return self.node(Node.NOT_COMPARED)

    def identical(self, count: int, nbytes: int) -> None:
        """`count` members found identical by digest, `nbytes` read for them: what `count`
        calls of count_bytes and node(IDENTICAL) do, in one (listing.py batches a run)."""
        if count:
            self.tally.nodes[Node.IDENTICAL] += count
            self._counted_in = self._frames[-1] if self._frames else -1
            self.count_bytes(nbytes)

    def count_bytes(self, n: int) -> None:
        self.tally.bytes_read += n
        if self.progress is not None:
            self.progress(n)

    # -- the end -------------------------------------------------------------------------------
    def settle(self) -> None:
        """Check digest claims against the entries that ended identical-in-content or equivalent."""
        from netvet.firmware.claims import settle_claims

        settled = settle_claims(self.pending, self.equivalent)
        # Nodes counted equivalent while their claims were pending: a failed claim makes the
        # file different, and every container that was equivalent only as far as it knew.
        demoted: set[int] = set()
        for p, f in zip(self.pending, settled, strict=True):
            if p.finding.status is Status.BENIGN and f.status is Status.UNEXPLAINED:
                demoted.update(fr for fr in p.frames if fr in self._equivalent_frames)
        self._equivalent_frames -= demoted
        self.tally.nodes[Node.EQUIVALENT] -= len(demoted)
        self.tally.nodes[Node.DIFFERENT] += len(demoted)
        self.findings.extend(settled)
        self.pending.clear()

    def close(self) -> None:
        if self.prefetch is not None:
            self.prefetch.close()  # before dep_ctx removes the worker's temporary directory
        self.ref_ctx.close()
        self.dep_ctx.close()


def _image_info(path: str, blob: Blob, fmt: str) -> ImageInfo:
    return ImageInfo(path=path, size=blob.size, sha256=blob.sha256, format=fmt)


def compare(
    reference: str | os.PathLike[str],
    deployed: str | os.PathLike[str],
    limits: Limits | None = None,
    progress: Progress | None = None,
    parallel: bool | None = None,
) -> Comparison:
    """Compare a reference image with a deployed one; the library's main entry point.

    Raises InputError when either file cannot be opened at all; everything wrong *inside* the
    images becomes a finding. `parallel` says whether the deployed image may be listed by a
    worker process (prefetch.py); None decides by image sizes, idle cores and NETVET_NO_PARALLEL.
    The result is the same either way.
    """
    limits = limits or Limits()
    ref_path, dep_path = os.fspath(reference), os.fspath(deployed)
    sizes = []
    for p in (ref_path, dep_path):
        if not os.path.isfile(p):
            raise InputError(f"{p}: not a readable file")
        try:
            with open(p, "rb") as f:
                sizes.append(os.fstat(f.fileno()).st_size)
        except OSError as exc:
            raise InputError(f"{p}: {exc.strerror}") from exc
        # Every byte of an input is hashed and scanned, whatever its content: a huge (even
        # sparse) file would run for hours under every other limit, so it is refused up front.
        if sizes[-1] > limits.max_total_bytes:
            raise InputError(
                f"{p}: {sizes[-1]} bytes, more than the max_total_bytes limit "
                f"({limits.max_total_bytes} bytes); raise the limit to compare it"
            )
    # Decided before the hashing threads start: wanted() counts the tasks running now.
    use_worker = wanted(parallel, *sizes)
    started = time.monotonic()
    engine = Engine(limits, progress)
    old_gc = gc.get_threshold()
    # Parsers keep reference cycles per inode (dissect caches each INode's listdir on itself):
    # with tens of thousands of inodes the default gen-0 threshold makes the collector rescan a
    # growing heap, a third of the run. Collect less often while comparing; restored below.
    gc.set_threshold(max(old_gc[0], 100_000), *old_gc[1:])
    pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="netvet-hash")
    try:
        # The images' own digests are for the report; the walk needs them only when sizes and
        # first bytes match (maybe identical), so otherwise they are computed beside the walk.
        ref = FileBlob(os.path.basename(ref_path), ref_path, engine.ref_ctx, pool)
        dep = FileBlob(os.path.basename(dep_path), dep_path, engine.dep_ctx, pool)
        if use_worker and servable(dep):
            engine.prefetch = Prefetch(dep, dep_path, limits, engine.dep_ctx.tmpdir)
        if ref.size == dep.size and ref.head == dep.head:
            engine.blobs(ref.path, ref, dep)
        else:
            # Surely different (the digests are still computed, for the report): start the
            # worker now so its start-up overlaps this process's work.
            if engine.prefetch is not None:
                engine.prefetch.begin()
            engine.count_bytes(ref.size + dep.size)
            engine.differ(ref.path, ref, dep)
        try:
            same = ref.sha256 == dep.sha256
        except OSError as exc:
            raise InputError(f"cannot read input: {exc}") from exc
        engine.settle()
        findings = tuple(sorted((_settled_node(f) for f in engine.findings), key=_order))
        t = engine.tally
        stats = Stats(
            entries_compared=sum(t.nodes.values()),
            identical=t.nodes[Node.IDENTICAL],
            equivalent=t.nodes[Node.EQUIVALENT],
            different=t.nodes[Node.DIFFERENT],
            not_compared=t.nodes[Node.NOT_COMPARED],
            containers_opened=t.containers,
            bytes_read=t.bytes_read,
            seconds=round(time.monotonic() - started, 3),
        )
        return Comparison(
            verdict=verdict_of(findings, same),
            reference=_image_info(ref_path, ref, engine.formats.get(ref.path, "")),
            deployed=_image_info(dep_path, dep, engine.dep_formats.get(ref.path, "")),
            findings=findings,
            stats=stats,
        )
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        gc.set_threshold(*old_gc)
        engine.close()


def _settled_node(f: Finding) -> Finding:
    """A benign finding's node is equivalent; producers need only mark not-compared nodes."""
    if f.status is Status.BENIGN and f.node is Node.DIFFERENT:
        return replace(f, node=Node.EQUIVALENT)
    return f


def _order(f: Finding) -> tuple[int, str, str]:
    return (0 if f.status is Status.UNEXPLAINED else 1, f.path, f.klass)
