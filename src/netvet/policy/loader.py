"""Load policy packs: the shipped jurisdiction packs and users' own policy files.

`load_packs(["uk", "de"], extra_paths=["acme.yaml"])` returns validated, frozen `Pack`s. Every
problem is reported as `file:line: field.path: message` in one `PolicyError`. Vendor names are
checked against the vendor families (`netvet/data/vendor_families.yaml`): a rule naming a family
or entity that identification can never produce would silently never match.
"""

from __future__ import annotations

from collections.abc import Iterable
from fractions import Fraction
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from netvet.inventory.errors import DataError
from netvet.inventory.families import Families, load_families
from netvet.inventory.names import name_key
from netvet.policy.errors import PolicyError, Problem
from netvet.policy.marked import MarkedError, line_of, load_marked, path_text
from netvet.policy.model import (
    Effect,
    EffectKind,
    Origin,
    Pack,
    PartialDate,
    Rule,
    Scope,
    Source,
    VendorMode,
    VendorScope,
)
from netvet.policy.schema import PackModel, RuleModel

MAX_BYTES = 2 * 1024 * 1024  # the largest shipped pack is a few kilobytes
Lines = dict[tuple[str | int, ...], int]


def policies_dir() -> Path:
    return Path(str(resources.files("netvet") / "data" / "policies"))


def available_packs() -> tuple[str, ...]:
    """Codes of the shipped jurisdiction packs ("au", "ca", ..., "us")."""
    return tuple(sorted(p.stem for p in policies_dir().glob("*.yaml")))


def load_packs(
    names: Iterable[str] = (),
    extra_paths: Iterable[str | Path] = (),
    families: Families | None = None,
) -> tuple[Pack, ...]:
    """The shipped packs `names` (codes, any case) followed by the policy files `extra_paths`.
    Rule ids must be unique across everything loaded."""
    shipped = available_packs()
    paths: list[Path] = []
    for name in names:
        code = name.strip().lower()
        if code not in shipped:  # never a path: "../x" is just an unknown name
            raise PolicyError(
                [Problem(name, None, "", f"no such policy pack; shipped: {', '.join(shipped)}")]
            )
        paths.append(policies_dir() / f"{code}.yaml")
    paths.extend(Path(p) for p in extra_paths)
    families = families or _families()
    packs: list[Pack] = []
    for path in dict.fromkeys(paths):
        packs.append(load_pack(path, families))
    _unique_ids(packs)
    return tuple(packs)


def load_pack(path: str | Path, families: Families | None = None) -> Pack:
    """Read and validate one policy file."""
    path = Path(path)
    name = str(path)
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_BYTES + 1)
    except OSError as exc:
        raise PolicyError([Problem(name, None, "", f"cannot read ({exc.strerror})")]) from exc
    if len(raw) > MAX_BYTES:
        raise PolicyError([Problem(name, None, "", f"larger than {MAX_BYTES} bytes")])
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PolicyError([Problem(name, None, "", "not UTF-8 text")]) from exc
    return parse_pack(text, name, families)


def parse_pack(text: str, name: str, families: Families | None = None) -> Pack:
    """Validate policy YAML `text`; `name` is used in messages and kept as the pack's path."""
    try:
        data, lines = load_marked(text)
    except MarkedError as exc:
        raise PolicyError([Problem(name, exc.line, "", exc.message)]) from None
    try:
        parsed = PackModel.model_validate(data)
    except ValidationError as exc:
        raise PolicyError([_problem(name, lines, e) for e in exc.errors()]) from None
    return _Converter(name, lines, families or _families()).pack(parsed)


def _families() -> Families:
    try:
        return load_families()
    except DataError as exc:  # shipped data broken: still an input problem, with its message
        raise PolicyError([Problem("vendor_families.yaml", None, "", str(exc))]) from exc


def _problem(name: str, lines: Lines, error: Any) -> Problem:
    path = tuple(error["loc"])
    message = str(error["msg"]).removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        message = "unknown field"
    return Problem(name, line_of(lines, path), path_text(path), message)


class _Converter:
    """Turns a validated pack into model values, checking what needs the vendor families."""

    def __init__(self, name: str, lines: Lines, families: Families) -> None:
        self.name = name
        self.lines = lines
        self.families = families
        self.problems: list[Problem] = []

    def fail(self, path: tuple[str | int, ...], message: str) -> None:
        line = line_of(self.lines, path)
        self.problems.append(Problem(self.name, line, path_text(path), message))

    def pack(self, parsed: PackModel) -> Pack:
        rules = tuple(self.rule(parsed, i, r) for i, r in enumerate(parsed.rules))
        seen: dict[str, int] = {}
        for i, rule in enumerate(rules):
            if rule.id in seen:
                first = f"rules[{seen[rule.id]}]"
                self.fail(("rules", i, "id"), f"duplicate rule id {rule.id!r} (also {first})")
            seen.setdefault(rule.id, i)
        if self.problems:
            raise PolicyError(self.problems)
        return Pack(
            parsed.jurisdiction,
            parsed.name,
            parsed.kind,
            PartialDate.parse(parsed.as_of),
            parsed.notes,
            rules,
            self.name,
        )

    def rule(self, pack: PackModel, i: int, r: RuleModel) -> Rule:
        where: tuple[str | int, ...] = ("rules", i)
        if r.jurisdiction is not None and r.jurisdiction != pack.jurisdiction:
            self.fail(
                (*where, "jurisdiction"),
                f"{r.jurisdiction!r} differs from the pack's jurisdiction {pack.jurisdiction!r}",
            )
        return Rule(
            id=r.id,
            jurisdiction=pack.jurisdiction,
            instrument=r.instrument,
            references=tuple(r.reference),
            sources=tuple(Source(s.url, s.fact) for s in r.sources),
            status=r.status,
            vendors=self.vendors(where, r),
            scope=Scope(
                None if r.domains is None else frozenset(r.domains),
                None if r.generations is None else frozenset(r.generations),
                None if r.operators is None else frozenset(r.operators),
            ),
            effects=_effects(r),
            in_force=None if r.in_force is None else PartialDate.parse(r.in_force),
            condition=r.condition,
            note=r.note,
            origin=Origin(self.name, line_of(self.lines, where)),
        )

    def vendors(self, where: tuple[str | int, ...], r: RuleModel) -> VendorScope:
        if r.vendors == "any":
            return VendorScope(VendorMode.ANY)
        if r.vendors == "unnamed":
            return VendorScope(VendorMode.UNNAMED, criteria=r.criteria)
        if r.headquarters is not None:
            wanted = set(r.headquarters)
            slugs = frozenset(f.slug for f in self.families if f.headquarters in wanted)
            if not slugs:
                self.fail((*where, "headquarters"), "no vendor family has its headquarters there")
            return VendorScope(VendorMode.NAMED, slugs, headquarters=tuple(r.headquarters))
        assert isinstance(r.vendors, list)  # the schema allows nothing else here
        known = {f.slug for f in self.families}
        for j, slug in enumerate(r.vendors):
            if slug not in known:
                self.fail((*where, "vendors", j), f"unknown vendor family {slug!r}")
        members = {
            name_key(m.name): m.name
            for f in self.families
            if f.slug in r.vendors
            for m in f.members
        }
        for j, entity in enumerate(r.entities):
            if name_key(entity) not in members:
                self.fail(
                    (*where, "entities", j),
                    f"{entity!r} is not a member of {', '.join(r.vendors)} in vendor_families.yaml",
                )
        return VendorScope(
            VendorMode.NAMED,
            frozenset(r.vendors),
            entities=tuple(r.entities),
            entity_keys=frozenset(name_key(e) for e in r.entities),
        )


def _effects(r: RuleModel) -> tuple[Effect, ...]:
    e = r.effects
    out: list[Effect] = []
    for kind in EffectKind:
        if kind is EffectKind.CAP:
            if e.cap_percent is not None and e.cap_from is not None:
                percent = Fraction(e.cap_percent)
                out.append(Effect(kind, PartialDate.parse(e.cap_from), percent))
            continue
        value = getattr(e, kind.value)
        if value is not None:
            out.append(Effect(kind, PartialDate.parse(value)))
    return tuple(out)


def _unique_ids(packs: list[Pack]) -> None:
    seen: dict[str, Rule] = {}
    problems: list[Problem] = []
    for pack in packs:
        for rule in pack.rules:
            first = seen.setdefault(rule.id, rule)
            if first is not rule:
                problems.append(
                    Problem(
                        rule.origin.file,
                        rule.origin.line,
                        "id",
                        f"rule id {rule.id!r} is also used in {first.origin.file}",
                    )
                )
    if problems:
        raise PolicyError(problems)
