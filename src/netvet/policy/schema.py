"""The policy YAML as pydantic models: the edge where pack text is checked.

Unknown keys are errors (a typo such as `remove_bye` must not silently drop a deadline), every
date is YYYY, YYYY-MM or YYYY-MM-DD and must exist on the calendar, and the shape of the vendor
selector is checked here. Whether the named families and entities exist is checked by `loader`,
which knows the vendor families. docs/policies.md describes every field.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from netvet.policy.model import Domain, EffectKind, Generation, OperatorScope, PartialDate, Status

SLUG = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")
COUNTRY = re.compile(r"[A-Z]{2}")
RULE_ID = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$"
JURISDICTION = r"^[A-Za-z][A-Za-z0-9_-]{0,31}$"


def _as_text(value: Any) -> Any:
    """YAML reads unquoted 2027-12-31 as a date and 2027 as an int; keep dates as text of their
    own precision so that "2027" stays a year."""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


def _check_date(value: str) -> str:
    PartialDate.parse(value)  # raises ValueError("invalid date ...")
    return value


DateText = Annotated[str, BeforeValidator(_as_text), AfterValidator(_check_date)]


def _any_or_list(value: Any) -> Any:
    """`any` means the whole dimension (None inside); otherwise a non-empty list."""
    if value == "any":
        return None
    if value is None:
        raise ValueError("give a list or 'any'")
    if isinstance(value, list) and not value:
        raise ValueError("empty list: give at least one value or 'any'")
    return value


AnyOr = BeforeValidator(_any_or_list)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class SourceModel(Strict):
    url: str | None = Field(None, pattern=r"^\S+$")
    fact: str = Field(min_length=1)


class EffectsModel(Strict):
    ban_new_after: DateText | None = None
    remove_by: DateText | None = None
    cap_percent: Decimal | None = Field(None, ge=0, le=100)
    cap_from: DateText | None = None
    authorisation_required: DateText | None = None
    designation_only: DateText | None = None

    @field_validator("cap_percent", mode="before")
    @classmethod
    def _no_bool(cls, value: Any) -> Any:
        if isinstance(value, bool):  # YAML `yes` must not become 1%
            raise ValueError("a percentage is a number from 0 to 100")
        return value

    @model_validator(mode="after")
    def _combination(self) -> EffectsModel:
        given = [k for k in _EFFECT_KEYS if getattr(self, k) is not None]
        if not given:
            raise ValueError("no effect: give at least one of " + ", ".join(_EFFECT_KEYS))
        if (self.cap_percent is None) != (self.cap_from is None):
            raise ValueError("cap_percent and cap_from go together")
        if self.designation_only is not None and len(given) > 1:
            raise ValueError("designation_only cannot be combined with other effects")
        return self


_EFFECT_KEYS = tuple(k.value for k in EffectKind)


class RuleModel(Strict):
    id: str = Field(pattern=RULE_ID)
    jurisdiction: str | None = Field(None, pattern=JURISDICTION)
    instrument: str = Field(min_length=1)
    reference: list[str] = []
    sources: list[SourceModel] = Field(min_length=1)
    status: Status
    vendors: str | list[str] | None = None
    entities: list[str] = []
    headquarters: list[str] | None = None
    criteria: str | None = None
    domains: Annotated[list[Domain] | None, AnyOr]
    generations: Annotated[list[Generation] | None, AnyOr]
    operators: Annotated[list[OperatorScope] | None, AnyOr]
    effects: EffectsModel
    in_force: DateText | None = None
    condition: str | None = Field(None, min_length=1)
    note: str | None = None

    @field_validator("reference", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("vendors", mode="before")
    @classmethod
    def _vendors(cls, value: Any) -> Any:
        if value in ("any", "unnamed"):
            return value
        if isinstance(value, str):
            raise ValueError(f"{value!r}: give a list of family slugs, 'any' or 'unnamed'")
        if isinstance(value, list):
            if not value:
                raise ValueError("empty list: name at least one family, or use 'any'")
            bad = [v for v in value if not isinstance(v, str) or not SLUG.fullmatch(v)]
            if bad:
                raise ValueError(f"not a family slug: {bad[0]!r}")
            if len(set(value)) != len(value):
                raise ValueError("a family is listed twice")
        return value

    @field_validator("headquarters")
    @classmethod
    def _countries(cls, value: list[str] | None) -> list[str] | None:
        for code in value or ():
            if not COUNTRY.fullmatch(code):
                raise ValueError(f"{code!r} is not a two-letter country code such as CN")
        if value is not None and not value:
            raise ValueError("empty list: give at least one country")
        return value

    @model_validator(mode="after")
    def _selector(self) -> RuleModel:
        if (self.vendors is None) == (self.headquarters is None):
            raise ValueError("give exactly one of vendors (slugs, any, unnamed) or headquarters")
        named = isinstance(self.vendors, list)
        if self.entities and not named:
            raise ValueError("entities restrict named vendors: list the families in vendors")
        if (self.vendors == "unnamed") != (self.criteria is not None):
            raise ValueError("criteria goes with vendors: unnamed (and only with it)")
        return self


class PackModel(Strict):
    schema_version: Literal[1]
    jurisdiction: str = Field(pattern=JURISDICTION)
    name: str = Field(min_length=1)
    kind: Literal["jurisdiction", "custom"] = "jurisdiction"
    as_of: DateText
    notes: str | None = None
    rules: list[RuleModel] = Field(min_length=1)
