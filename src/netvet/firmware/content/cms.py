"""CMS / PKCS#7 SignedData (DER or PEM): a signature re-made by the same signer is benign.

Re-signing the same content at another time changes `signingTime`, hence the signed
attributes, hence the signature value. That is benign (DESIGN.md "signatures") only when:

- the signer identifiers, the signer certificates, the certificate and CRL sets, the digest
  and signature algorithms and the unsigned attributes are byte-equal;
- the signed attributes are equal except `signingTime` and `messageDigest`;
- attached content is byte-equal on both sides (and matches its `messageDigest`); for a
  detached signature a changed `messageDigest` becomes a `DigestClaim`, so the signed content
  must be an equivalent entry of the image (claims.py);
- the signature verifies on each side with the public key of the signer certificate carried in
  the structure (RSA PKCS#1 v1.5, RSA-PSS, ECDSA, Ed25519/Ed448), over the DER of the signed
  attributes re-tagged as SET OF (RFC 5652 5.4).

Anything else is unexplained (`signature`, or `content` for attached content), and a file that
does not parse is a `content` difference saying so. Timestamp tokens (unsigned attributes) are
not verified, so any change there is unexplained.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace

from asn1crypto import cms, parser, pem
from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, padding, rsa

from netvet.firmware.blob import Blob
from netvet.firmware.content import DigestClaim, Explanation, binary, magic
from netvet.firmware.errors import LimitExceeded
from netvet.firmware.result import Change, Finding, Location, Node, Status

_PEM = (b"-----BEGIN PKCS7-----", b"-----BEGIN CMS-----")
_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "sha1": hashes.SHA1,
    "sha224": hashes.SHA224,
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}
_VOLATILE = ("signing_time", "message_digest")
_SI = "SignerInfo"


def accepts(head: bytes) -> bool:
    """DER ContentInfo whose contentType is signedData, or a PEM PKCS7/CMS block."""
    return magic.is_cms(head)


@dataclass(frozen=True, slots=True)
class _Side:
    form: str  # "DER" or "PEM"
    outside: bytes  # bytes around the structure: PEM prose, trailing data after DER
    signed: cms.SignedData


def explain(path: str, ref: Blob, dep: Blob) -> Explanation:
    sides = []
    for name, blob in (("reference", ref), ("deployed", dep)):
        try:
            sides.append(_parse(blob.read()))
        except LimitExceeded:
            raise
        except Exception as exc:  # noqa: BLE001 - asn1crypto raises ValueError, TypeError,
            # KeyError... on hostile input: any of them means "not a readable signature".
            return _malformed(path, ref, dep, f"{name}: {type(exc).__name__}: {exc}")
    try:
        return _Compare(path, sides[0], sides[1]).explain()
    except LimitExceeded:
        raise
    except Exception as exc:  # noqa: BLE001 - lazily parsed parts can still fail here
        return _malformed(path, ref, dep, f"{type(exc).__name__}: {exc}")


def _malformed(path: str, ref: Blob, dep: Blob, reason: str) -> Explanation:
    note = f"malformed CMS signature ({reason[:200]})"
    base = binary.explain(path, ref, dep).findings
    return Explanation(
        Node.DIFFERENT, tuple(replace(f, summary=f"{note}; {f.summary}") for f in base)
    )


def _parse(data: bytes) -> _Side:
    form, outside, der = "DER", b"", data
    if data.lstrip().startswith(_PEM):
        start = data.index(b"-----BEGIN")
        end = data.index(b"-----END", start)
        end = data.find(b"\n", end) + 1 or len(data)
        form, outside = "PEM", data[:start] + data[end:]
        der = pem.unarmor(data[start:end])[2]
    _, _, _, header, contents, trailer = parser.parse(der)
    used = len(header) + len(contents) + len(trailer)
    outside += der[used:]
    info = cms.ContentInfo.load(der[:used])
    if info["content_type"].native != "signed_data":
        raise ValueError(f"content type is {info['content_type'].native}, not signed_data")
    _ = info.native  # parse everything now, so a malformed side is named
    return _Side(form, outside, info["content"])


class _Compare:
    """Differences of two SignedData structures: `bad` unexplained, `noise` benign."""

    def __init__(self, path: str, a: _Side, b: _Side) -> None:
        self.path, self.a, self.b = path, a, b
        self.bad: list[Location] = []
        self.content_bad: list[Location] = []
        self.noise: list[Location] = []
        self.claims: list[DigestClaim] = []

    def explain(self) -> Explanation:
        a, b = self.a.signed, self.b.signed
        if (self.a.form, self.a.outside) != (self.b.form, self.b.outside):
            what = f"wrapping {self.a.form} -> {self.b.form}"
            if self.a.form == self.b.form:
                what = "bytes outside the signature differ"
            self.bad.append(Location("ContentInfo", "encoding", None, None, what))
        for name in ("version", "digest_algorithms", "crls"):
            if a[name].dump() != b[name].dump():
                self.bad.append(Location("SignedData", name, None, None, "changed"))
        if _certificates(a) != _certificates(b):
            self.bad.append(Location("SignedData", "certificates", None, None, "changed"))
        content_a, content_b = self._content()
        infos_a, infos_b = list(a["signer_infos"]), list(b["signer_infos"])
        if len(infos_a) != len(infos_b):
            what = f"{len(infos_a)} -> {len(infos_b)}"
            self.bad.append(Location(_SI, "count", None, None, what))
        for sa, sb in zip(infos_a, infos_b, strict=False):
            self._signer(sa, sb, content_a, content_b)
        return self._explanation()

    def _content(self) -> tuple[bytes | None, bytes | None]:
        ea, eb = self.a.signed["encap_content_info"], self.b.signed["encap_content_info"]
        if ea["content_type"].dump() != eb["content_type"].dump():
            self.bad.append(Location("encapContentInfo", "eContentType", None, None, "changed"))
        ca, cb = _econtent(ea), _econtent(eb)
        if (ca is None) != (cb is None):
            what = "detached -> attached" if ca is None else "attached -> detached"
            self.bad.append(Location("encapContentInfo", "eContent", None, None, what))
        elif ca != cb and ca is not None and cb is not None:
            what = f"attached content differs ({len(ca)} -> {len(cb)} bytes)"
            self.content_bad.append(Location("encapContentInfo", "eContent", None, None, what))
        return ca, cb

    def _signer(
        self, sa: cms.SignerInfo, sb: cms.SignerInfo, ca: bytes | None, cb: bytes | None
    ) -> None:
        cert_a, cert_b = _signer_cert(self.a.signed, sa), _signer_cert(self.b.signed, sb)
        if sa["sid"].dump() != sb["sid"].dump() or cert_a != cert_b:
            what = f"{_sid(sa)} -> {_sid(sb)}"
            self.bad.append(Location(_SI, "sid", None, None, f"signer changed: {what}"))
        for name in ("version", "digest_algorithm", "signature_algorithm", "unsigned_attrs"):
            if sa[name].dump() != sb[name].dump():
                self.bad.append(Location(_SI, name, None, None, "changed"))
        attrs_a, attrs_b = _attrs(sa), _attrs(sb)
        for kind in sorted(set(attrs_a) | set(attrs_b)):
            if attrs_a.get(kind) != attrs_b.get(kind) and kind not in _VOLATILE:
                self.bad.append(Location(_SI, kind, None, None, "signed attribute changed"))
        self._volatile(sa, sb, ca, cb)
        if sa["signature"].native != sb["signature"].native:
            self.noise.append(Location(_SI, "signature", None, None, "signature value re-made"))
        for side, si, cert, content in (
            ("reference", sa, cert_a, ca),
            ("deployed", sb, cert_b, cb),
        ):
            problem = _verify(si, cert, content)
            if problem:
                self.bad.append(Location(_SI, "signature", None, None, f"{side}: {problem}"))

    def _volatile(
        self, sa: cms.SignerInfo, sb: cms.SignerInfo, ca: bytes | None, cb: bytes | None
    ) -> None:
        """signingTime may change; messageDigest must fit the content or become a claim."""
        ta, tb = _attr_native(sa, "signing_time"), _attr_native(sb, "signing_time")
        if ta != tb:
            self.noise.append(Location(_SI, "signingTime", None, None, f"{ta} -> {tb}"))
        ma, mb = _attr_native(sa, "message_digest"), _attr_native(sb, "message_digest")
        algorithm = sa["digest_algorithm"]["algorithm"].native
        if ma == mb:
            return
        if not isinstance(ma, bytes) or not isinstance(mb, bytes):
            self.bad.append(Location(_SI, "messageDigest", None, None, "added or removed"))
            return
        self.noise.append(Location(_SI, "messageDigest", None, None, f"{ma.hex()} -> {mb.hex()}"))
        if ca is None and cb is None:  # detached: the signed file must be an equivalent entry
            self.claims.append(DigestClaim(algorithm, ma.hex(), mb.hex()))

    def _explanation(self) -> Explanation:
        if self.bad or self.content_bad:
            self.bad.sort(key=lambda loc: loc.symbol != "sid")  # a new signer matters most
            locs = self.bad + self.content_bad + self.noise
            klass = "signature" if self.bad else "content"
            first = locs[0]
            summary = f"CMS signature differs: {first.symbol} {first.detail}"
            if len(self.bad) + len(self.content_bad) > 1:
                summary += f" (+{len(self.bad) + len(self.content_bad) - 1} more)"
            status = Status.UNEXPLAINED
            finding = Finding(self.path, Change.MODIFIED, status, klass, summary, tuple(locs))
            return Explanation(Node.DIFFERENT, (finding,), tuple(self.claims))
        what = ", ".join(dict.fromkeys(loc.symbol or "" for loc in self.noise))
        summary = f"CMS signature re-made by the same signer (changed: {what})"
        if not what:  # only lengths or tags of the outer structures are encoded differently
            summary = "CMS signature with equal contents, encoded differently"
        noise = tuple(self.noise)
        finding = Finding(self.path, Change.MODIFIED, Status.BENIGN, "signature", summary, noise)
        finding = replace(finding, node=Node.EQUIVALENT)
        return Explanation(Node.EQUIVALENT, (finding,), tuple(self.claims))


# -- helpers ----------------------------------------------------------------------------------
def _certificates(sd: cms.SignedData) -> list[bytes]:
    certs = sd["certificates"]
    return sorted(c.dump() for c in certs) if certs.native is not None else []


def _econtent(encap: cms.EncapsulatedContentInfo) -> bytes | None:
    content = encap["content"]
    if content.native is None:
        return None
    value = content.native
    return value if isinstance(value, bytes) else content.dump()


def _signer_cert(sd: cms.SignedData, si: cms.SignerInfo) -> bytes | None:
    """DER of the certificate the signer identifier names, from the structure's own set."""
    sid = si["sid"]
    if sd["certificates"].native is None:
        return None
    for choice in sd["certificates"]:
        if choice.name != "certificate":
            continue
        cert = choice.chosen
        if sid.name == "issuer_and_serial_number":
            ias = sid.chosen
            if cert.issuer == ias["issuer"] and cert.serial_number == ias["serial_number"].native:
                return bytes(cert.dump())
        elif sid.name == "subject_key_identifier" and cert.key_identifier == sid.chosen.native:
            return bytes(cert.dump())
    return None


def _sid(si: cms.SignerInfo) -> str:
    sid = si["sid"]
    if sid.name == "issuer_and_serial_number":
        ias = sid.chosen
        return f"{ias['issuer'].human_friendly} #{ias['serial_number'].native}"
    return f"key id {sid.chosen.native.hex()}"


def _attrs(si: cms.SignerInfo) -> dict[str, list[bytes]]:
    """Signed attributes by type name; their values as DER."""
    attrs = si["signed_attrs"]
    if attrs.native is None:
        return {}
    out: dict[str, list[bytes]] = {}
    for attr in attrs:
        out.setdefault(attr["type"].native, []).append(attr["values"].dump())
    return out


def _attr_native(si: cms.SignerInfo, kind: str) -> object:
    attrs = si["signed_attrs"]
    if attrs.native is None:
        return None
    for attr in attrs:
        if attr["type"].native == kind:
            values = attr["values"].native
            return values[0] if len(values) == 1 else values
    return None


def _verify(si: cms.SignerInfo, cert: bytes | None, content: bytes | None) -> str | None:
    """None if the signature verifies with the signer certificate's key; else why not."""
    if cert is None:
        return "signer certificate not included; cannot verify"
    digest = si["digest_algorithm"]["algorithm"].native
    if si["signed_attrs"].native is not None:
        attrs = si["signed_attrs"].dump()
        signed = b"\x31" + attrs[1:]  # [0] IMPLICIT -> SET OF, as signed (RFC 5652 5.4)
        md = _attr_native(si, "message_digest")
        if content is not None and md != _hash(digest, content):
            return "messageDigest does not match the attached content"
    elif content is None:
        return "detached signature without signed attributes; cannot verify"
    else:
        signed = content
    try:
        key = x509.load_der_x509_certificate(cert).public_key()
        return _check(key, si, signed, digest)
    except InvalidSignature:
        return "signature does not verify"
    except (UnsupportedAlgorithm, ValueError, KeyError, TypeError) as exc:
        return f"cannot verify: {type(exc).__name__}: {exc}"


def _check(key: object, si: cms.SignerInfo, signed: bytes, digest: str) -> str | None:
    algo = si["signature_algorithm"]
    kind = algo.signature_algo
    sig = si["signature"].native
    try:
        hash_name = algo.hash_algo
    except ValueError:  # plain rsaEncryption names no hash: the digest algorithm applies
        hash_name = digest
    if isinstance(key, rsa.RSAPublicKey) and kind == "rsassa_pkcs1v15":
        key.verify(sig, signed, padding.PKCS1v15(), _HASHES[hash_name]())
    elif isinstance(key, rsa.RSAPublicKey) and kind == "rsassa_pss":
        params = algo["parameters"]
        mgf = _HASHES[params["mask_gen_algorithm"]["parameters"]["algorithm"].native]
        pss = padding.PSS(padding.MGF1(mgf()), params["salt_length"].native)
        key.verify(sig, signed, pss, _HASHES[params["hash_algorithm"]["algorithm"].native]())
    elif isinstance(key, ec.EllipticCurvePublicKey) and kind == "ecdsa":
        key.verify(sig, signed, ec.ECDSA(_HASHES[hash_name]()))
    elif isinstance(key, ed25519.Ed25519PublicKey | ed448.Ed448PublicKey) and kind in (
        "ed25519",
        "ed448",
    ):
        key.verify(sig, signed)
    else:
        return f"unsupported: {kind} with a {type(key).__name__}"
    return None


def _hash(name: str, data: bytes) -> bytes | None:
    try:
        return hashlib.new(name, data).digest()
    except ValueError:
        return None
