"""CMS/PKCS#7 signatures made with openssl (tests/fixtures/content/make_content.sh): a
signature re-made by the same signer is benign; a new signer, new content, a tampered or
unverifiable signature is not."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import pytest
from asn1crypto import cms as asn1_cms

from netvet.firmware.blob import Blob
from netvet.firmware.claims import settle_claims
from netvet.firmware.compare import Pending
from netvet.firmware.content import cms
from netvet.firmware.result import Node, Status
from tests.content.conftest import MakeBlob, fixture_bytes


def run(blob: MakeBlob, a: bytes, b: bytes) -> cms.Explanation:
    assert cms.accepts(a[:4096]) and cms.accepts(b[:4096])
    return cms.explain("boot/image.p7s", blob(a), blob(b))


def pair(blob: MakeBlob, ref: str, dep: str) -> cms.Explanation:
    return run(blob, fixture_bytes(ref), fixture_bytes(dep))


def symbols(e: cms.Explanation) -> list[str | None]:
    return [loc.symbol for loc in e.findings[0].locations]


def test_accepts() -> None:
    assert cms.accepts(fixture_bytes("cms-detached-1.der")[:4096])
    assert cms.accepts(fixture_bytes("cms-detached-1.pem")[:4096])
    assert cms.accepts(b"\n-----BEGIN PKCS7-----\nMIIB\n")
    assert not cms.accepts(fixture_bytes("cms-signer.pem"))  # a certificate is not a signature
    enveloped = bytearray(fixture_bytes("cms-detached-1.der")[:64])
    enveloped[14] = 3  # contentType 1.2.840.113549.1.7.3 (envelopedData)
    assert not cms.accepts(bytes(enveloped))
    assert not cms.accepts(b"\x30\x03\x02\x01\x01")
    assert not cms.accepts(b"\x7fELF")


@pytest.mark.parametrize(
    ("ref", "dep"),
    [
        ("cms-detached-1.der", "cms-detached-2.der"),  # RSA PKCS#1 v1.5
        ("cms-attached-1.der", "cms-attached-2.der"),
        ("cms-pss-1.der", "cms-pss-2.der"),  # RSA-PSS
        ("cms-ec-1.der", "cms-ec-2.der"),  # ECDSA P-256
        ("cms-detached-1.pem", "cms-detached-2.pem"),
    ],
)
def test_resigned_at_another_time_is_benign(blob: MakeBlob, ref: str, dep: str) -> None:
    e = pair(blob, ref, dep)
    assert e.node is Node.EQUIVALENT
    (f,) = e.findings
    assert (f.status, f.klass) == (Status.BENIGN, "signature")
    assert symbols(e) == ["signingTime", "signature"]
    assert all(loc.section == "SignerInfo" for loc in f.locations)
    assert not e.claims  # the signed content did not change


def test_detached_signature_over_other_content_claims_its_digest(blob: MakeBlob) -> None:
    e = pair(blob, "cms-detached-1.der", "cms-detached-content2.der")
    assert e.node is Node.EQUIVALENT
    assert symbols(e) == ["signingTime", "messageDigest", "signature"]
    v1, v2 = fixture_bytes("cms-content.txt"), fixture_bytes("cms-content2.txt")
    (claim,) = e.claims
    expected = ("sha256", hashlib.sha256(v1).hexdigest(), hashlib.sha256(v2).hexdigest())
    assert (claim.algorithm, claim.ref, claim.dep) == expected
    pending = [Pending(f, e.claims) for f in e.findings]
    signed: tuple[Blob, Blob] = (blob(v1), blob(v2))
    assert [f.status for f in settle_claims(pending, [signed])] == [Status.BENIGN]
    assert [f.status for f in settle_claims(pending, [])] == [Status.UNEXPLAINED]


def test_attached_content_changed_is_unexplained(blob: MakeBlob) -> None:
    e = pair(blob, "cms-attached-1.der", "cms-attached-content2.der")
    assert e.node is Node.DIFFERENT
    (f,) = e.findings
    assert (f.status, f.klass) == (Status.UNEXPLAINED, "content")
    assert f.locations[0].symbol == "eContent"


def test_another_signer_is_unexplained(blob: MakeBlob) -> None:
    e = pair(blob, "cms-detached-1.der", "cms-detached-other.der")
    assert e.node is Node.DIFFERENT
    (f,) = e.findings
    assert (f.status, f.klass) == (Status.UNEXPLAINED, "signature")
    assert f.summary.startswith("CMS signature differs: sid signer changed: ")
    assert "netvet other signer" in f.summary
    assert "certificates" in symbols(e)


def test_other_signed_attributes_are_unexplained(blob: MakeBlob) -> None:
    e = pair(blob, "cms-detached-1.der", "cms-detached-nocap.der")
    assert e.node is Node.DIFFERENT
    assert "smime_capabilities" in symbols(e)


def test_tampered_signature_does_not_verify(blob: MakeBlob) -> None:
    good = fixture_bytes("cms-detached-2.der")
    info = asn1_cms.ContentInfo.load(good)
    signature = info["content"]["signer_infos"][0]["signature"].native
    at = good.index(signature) + 10
    bad = bytearray(good)
    bad[at] ^= 0x01
    e = run(blob, fixture_bytes("cms-detached-1.der"), bytes(bad))
    assert e.node is Node.DIFFERENT
    details = [loc.detail for loc in e.findings[0].locations]
    assert "deployed: signature does not verify" in details


def test_attached_content_not_matching_its_digest(blob: MakeBlob) -> None:
    good = fixture_bytes("cms-attached-1.der")
    bad = good.replace(b"firmware payload v1", b"firmware payload v9")
    e = run(blob, good, bad)
    assert e.node is Node.DIFFERENT
    details = [loc.detail for loc in e.findings[0].locations]
    assert "deployed: messageDigest does not match the attached content" in details


def test_pem_versus_der_wrapping_is_unexplained(blob: MakeBlob) -> None:
    e = pair(blob, "cms-detached-1.der", "cms-detached-1.pem")
    assert e.node is Node.DIFFERENT
    assert e.findings[0].locations[0].detail == "wrapping DER -> PEM"


def test_trailing_bytes_after_the_signature(blob: MakeBlob) -> None:
    good = fixture_bytes("cms-detached-1.der")
    e = run(blob, good, good + b"hidden")
    assert e.node is Node.DIFFERENT
    assert e.findings[0].locations[0].symbol == "encoding"


@pytest.mark.parametrize(
    "mutate",
    [
        lambda d: d[:700],  # truncated
        lambda d: d[:15] + b"\x00" * 40,  # signedData OID, then zeros
        lambda d: d[:15] + b"\xa0\x82\x05\x69\x30\x82\x05\x65" + b"\xff" * 64,  # garbage
    ],
)
def test_malformed_signature_is_content_difference(
    blob: MakeBlob, mutate: Callable[[bytes], bytes]
) -> None:
    good = fixture_bytes("cms-detached-1.der")
    e = run(blob, good, mutate(good))
    assert e.node is Node.DIFFERENT
    (f,) = e.findings
    assert f.klass == "content"
    assert f.summary.startswith("malformed CMS signature")
