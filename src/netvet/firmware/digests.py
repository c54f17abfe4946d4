"""Members' sha256 computed ahead of the match, so equal members skip the per-member machinery.

`compare_listings` treats two files whose digests are known and equal, with equal metadata, as
identical without building a Blob per side (listing.py, `_known_identical`). The comparison
hashes every member of both listings anyway; doing it here first costs the same reads.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace

from netvet.firmware.context import CHUNK, WalkContext
from netvet.firmware.errors import LimitExceeded
from netvet.firmware.model import Kind, Listing, Member

HASHED = (Kind.FILE, Kind.REGION)


def digest_of(m: Member, ctx: WalkContext) -> str | None:
    """sha256 of a member's content if it reads back as exactly its declared size, else None.

    What `Blob.sha256` computes, without the Blob: this runs for every member of both images.
    """
    assert m.opener is not None
    h = hashlib.sha256()
    size = 0
    try:
        with m.opener() as stream:
            # A stream that can feed a hash itself (squashfs files) does so without a read call
            # per block: most members are small, so the calls were a good part of their cost.
            hash_into = getattr(stream, "hash_into", None)
            if hash_into is not None:
                size = hash_into(h.update, ctx.check_time)
                return h.hexdigest() if size == m.size else None
            stream.seek(0)
            # A stream decoding fixed blocks names the read size that hands back each decoded
            # block as it is: bigger reads would join copies of them.
            step = getattr(stream, "read_size", CHUNK)
            while chunk := stream.read(step):
                h.update(chunk)
                size += len(chunk)
                ctx.check_time()
    except LimitExceeded:
        raise
    except Exception:
        return None
    return h.hexdigest() if size == m.size else None


def prehash(listing: Listing, ctx: WalkContext) -> Listing:
    """`listing` with its members' digests computed now.

    A member that cannot be read keeps no digest: the comparison reads it again later and reports
    the error where it would have met it. Out of time, the rest is left to the comparison too.
    """
    members = list(listing.members)
    for i, m in enumerate(members):
        if m.sha256 is None and m.opener is not None and m.kind in HASHED:
            try:
                digest = digest_of(m, ctx)
            except LimitExceeded:
                break
            if digest is not None:
                members[i] = m.with_sha256(digest)  # members stay frozen: a copy
    return replace(listing, members=tuple(members))
