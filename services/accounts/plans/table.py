"""THE plan table: which models each plan opens, its daily limits and its other limits.

Plans are data: the built-in ``plans.toml`` beside this module, or the TOML file named by
``DRAFTER_PLANS_FILE``, which replaces it whole. No other module knows a plan's name or
numbers. Which plan a user is on at a given moment is ``in_force``'s rule.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from decimal import Decimal
from importlib import resources
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from drafter.config import ConfigError
from drafter.model_table import ModelTable
from drafter.rpc.errors import InvalidRequest
from drafter.services.accounts.vocab import LIMITED_KINDS, UsageKind


class PlanLimits(BaseModel):
    """Requests per UTC day, by usage kind (the TOML keys are the kinds' names)."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    chat: int = Field(ge=0, alias=UsageKind.CHAT.value)
    image_gen: int = Field(ge=0, alias=UsageKind.IMAGE_GEN.value)
    image_edit: int = Field(ge=0, alias=UsageKind.IMAGE_EDIT.value)

    def for_kind(self, kind: str) -> int | None:
        """The daily limit of ``kind``; None when the kind is counted but never limited
        (``UsageKind.API_CALL``)."""
        if kind == UsageKind.CHAT:
            return self.chat
        if kind == UsageKind.IMAGE_GEN:
            return self.image_gen
        if kind == UsageKind.IMAGE_EDIT:
            return self.image_edit
        return None

    def by_kind(self) -> dict[str, int]:
        """Every daily limit, keyed by kind (``LIMITED_KINDS`` order)."""
        return {kind: self.for_kind(kind) or 0 for kind in LIMITED_KINDS}


class Plan(BaseModel):
    """One row of the plan table; ``key`` is what users and the API call it ("free")."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    key: str
    name: str
    price_eur_per_week: Decimal = Field(ge=0)
    models: tuple[str, ...]
    max_api_keys: int = Field(ge=0)
    max_apps: int = Field(ge=0)
    limits: PlanLimits

    def allows_model(self, model_id: str) -> bool:
        return model_id in self.models


class PlanTable(BaseModel):
    """Every plan, in file order, and the one new users get."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    default: str
    plans: dict[str, Plan]

    @model_validator(mode="after")
    def _default_exists(self) -> PlanTable:
        if not self.plans:
            raise ValueError("the plan table has no plans")
        if self.default not in self.plans:
            raise ValueError(f"default plan {self.default!r} is not in the table")
        return self

    def __iter__(self) -> Iterator[Plan]:  # type: ignore[override]
        return iter(self.plans.values())

    def get(self, key: str) -> Plan | None:
        return self.plans.get(key)

    def resolve(self, key: str) -> Plan:
        """The plan called ``key``, or the default one for an empty key."""
        plan = self.plans.get(key or self.default)
        if plan is None:
            names = ", ".join(self.plans)
            raise InvalidRequest(
                f"Unknown plan '{key}'; plans are: {names}.", metadata={"param": "plan"}
            )
        return plan

    @property
    def default_plan(self) -> Plan:
        return self.plans[self.default]

    def check_models(self, models: ModelTable) -> None:
        """Raises ValueError when a plan names a model the model table lacks or one that
        is not a chat model (image models are open to every plan)."""
        for plan in self:
            for model_id in plan.models:
                spec = models.get(model_id)
                if spec is None or spec.id != model_id or spec.kind != "chat":
                    raise ConfigError(
                        f"plan {plan.key!r} lists {model_id!r}, which is not a chat model id"
                        " of the model table"
                    )


def parse_plans(text: str, source: str = "plans.toml") -> PlanTable:
    """Parses and validates a plan table; ValueError names the source and the problem."""
    try:
        raw = tomllib.loads(text)
        plans_raw = raw.get("plans", {})
        plans = {key: Plan(key=key, **body) for key, body in plans_raw.items()}
        return PlanTable(default=raw.get("default") or next(iter(plans), ""), plans=plans)
    except (tomllib.TOMLDecodeError, ValidationError, TypeError, ValueError) as exc:
        raise ConfigError(f"invalid plan table {source}: {exc}") from exc


def load_plans(path: Path | None = None, models: ModelTable | None = None) -> PlanTable:
    """The plan table from ``path`` (DRAFTER_PLANS_FILE) or the built-in one; checked
    against ``models`` when given."""
    if path is not None:
        table = parse_plans(path.read_text(), str(path))
    else:
        text = resources.files(__package__).joinpath("plans.toml").read_text()
        table = parse_plans(text)
    if models is not None:
        table.check_models(models)
    return table
