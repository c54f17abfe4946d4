"""The vendor-families YAML as pydantic models: the edge where that text is checked.

Unknown keys are errors (a typo such as `valid_too` must not silently drop a divestiture date),
dates are YYYY, YYYY-MM or YYYY-MM-DD, regular expressions must compile, and a registry name or
enterprise number may belong to one member only. `families.load_families` turns the result into
frozen dataclasses.
"""

from __future__ import annotations

import datetime as dt
import re
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

_DATE = re.compile(r"\d{4}(-\d{2}(-\d{2})?)?")
SLUG = r"^[a-z0-9]+(-[a-z0-9]+)*$"


class Kind(StrEnum):
    """How a member belongs to its family."""

    ENTITY = "entity"
    SUBSIDIARY = "subsidiary"
    BRAND = "brand"
    WHITE_LABEL = "white-label"  # another maker's products under this name; the family made them
    CHIP = "chip"  # chip unit: its OUIs sit inside other makers' devices


def _as_text_date(value: Any) -> Any:
    """YAML reads unquoted 2020-11-17 as a date; keep every date as text of its own precision."""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, int):  # an unquoted year
        return str(value)
    return value


def check_partial_date(value: str) -> str:
    """A YYYY, YYYY-MM or YYYY-MM-DD date that exists on the calendar."""
    if not _DATE.fullmatch(value):
        raise ValueError(f"{value!r} is not YYYY, YYYY-MM or YYYY-MM-DD")
    parts = [int(p) for p in value.split("-")] + [1, 1]
    dt.date(parts[0], parts[1], parts[2])  # raises ValueError for month 13, day 31 of June...
    return value


PartialDate = Annotated[str, BeforeValidator(_as_text_date)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class PenModel(Strict):
    number: int = Field(ge=0)
    name: str = Field(min_length=1)


class FalseFriendModel(Strict):
    name: str = Field(min_length=1)
    registry: str = Field(pattern="^(oui|pen)$")
    why: str = Field(min_length=1)


class CoveredModel(Strict):
    name: str = Field(min_length=1)
    since: PartialDate

    _check_since = field_validator("since")(check_partial_date)


class MemberModel(Strict):
    name: str = Field(min_length=1)
    kind: Kind
    aliases: list[str] = []
    oui_names: list[str] = []
    pens: list[PenModel] = []
    model_patterns: list[str] = []
    valid_from: PartialDate | None = None
    valid_to: PartialDate | None = None
    status: str = Field(pattern="^(confirmed|reported)$")
    source: str | None = None
    note: str | None = None

    @field_validator("valid_from", "valid_to")
    @classmethod
    def _dates(cls, value: str | None) -> str | None:
        return None if value is None else check_partial_date(value)

    @field_validator("model_patterns")
    @classmethod
    def _patterns(cls, patterns: list[str]) -> list[str]:
        for pattern in patterns:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"bad regular expression {pattern!r}: {exc}") from exc
        return patterns

    @model_validator(mode="after")
    def _period(self) -> MemberModel:
        if self.valid_from and self.valid_to and self.valid_from > self.valid_to:
            raise ValueError(f"valid_from {self.valid_from} is after valid_to {self.valid_to}")
        return self


class FamilyModel(Strict):
    slug: str = Field(pattern=SLUG)
    name: str = Field(min_length=1)
    headquarters: str = Field(pattern="^[A-Z]{2}$")
    policy_id: str | None = None
    covered_list: CoveredModel | None = None
    chip_vendor: bool = False
    sources: list[str] = []
    notes: str | None = None
    false_friends: list[FalseFriendModel] = []
    members: list[MemberModel] = Field(min_length=1)


class FamiliesFile(Strict):
    schema_version: int = Field(ge=1, le=1)
    families: list[FamilyModel] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> FamiliesFile:
        seen: dict[tuple[str, object], str] = {}
        for family in self.families:
            _claim(seen, ("slug", family.slug), family.slug)
            for member in family.members:
                where = f"{family.slug}/{member.name}"
                for name in member.oui_names:
                    _claim(seen, ("oui", name), where)
                for pen in member.pens:
                    _claim(seen, ("pen", pen.number), where)
        for family in self.families:
            # A false friend may be another family's member (H3C for Huawei), never its own.
            own = {(r, n) for m in family.members for r, n in _registry_names(m)}
            for friend in family.false_friends:
                if (friend.registry, friend.name) in own:
                    raise ValueError(
                        f"{family.slug}: false friend {friend.name!r} is also a member"
                    )
        return self


def _registry_names(member: MemberModel) -> list[tuple[str, str]]:
    return [("oui", n) for n in member.oui_names] + [("pen", p.name) for p in member.pens]


def _claim(seen: dict[tuple[str, object], str], key: tuple[str, object], where: str) -> None:
    if key in seen:
        raise ValueError(f"{key[0]} {key[1]!r} is claimed by both {seen[key]} and {where}")
    seen[key] = where
