"""The plan table: built-in values, DRAFTER_PLANS_FILE override, validation."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from drafter.model_table import load_model_table
from drafter.rpc.errors import InvalidRequest
from drafter.services.accounts.plans.table import load_plans, parse_plans

CUSTOM = """
default = "team"

[plans.team]
name = "Team"
price_eur_per_week = 3
models = ["claude-sonnet-4-6"]
max_api_keys = 2
max_apps = 1

[plans.team.limits]
chat = 2
imageGen = 0
imageEdit = 1
"""


def test_builtin_plans() -> None:
    plans = load_plans(models=load_model_table())
    assert [p.key for p in plans] == ["free", "pro", "plus"]
    assert plans.default_plan.key == "free"
    free, pro, plus = (plans.resolve(k) for k in ("free", "pro", "plus"))
    assert [p.price_eur_per_week for p in (free, pro, plus)] == [
        Decimal("0"),
        Decimal("7.49"),
        Decimal("24.99"),
    ]
    assert free.models == ("claude-haiku-4-5",)
    assert pro.models == ("claude-haiku-4-5", "claude-sonnet-4-5", "claude-sonnet-4-6")
    assert plus.models[-2:] == ("claude-opus-4-5", "claude-opus-4-6")
    assert [p.max_api_keys for p in (free, pro, plus)] == [1, 5, 10]
    assert {p.max_apps for p in (free, pro, plus)} == {3}
    assert [(p.limits.chat, p.limits.image_gen, p.limits.image_edit) for p in plans] == [
        (20, 3, 5),
        (100, 25, 25),
        (500, 50, 100),
    ]
    assert free.limits.for_kind("imageEdit") == 5
    assert free.limits.for_kind("apiCall") is None


def test_plans_file_replaces_the_table(tmp_path: Path) -> None:
    path = tmp_path / "plans.toml"
    path.write_text(CUSTOM)
    plans = load_plans(path, load_model_table())
    assert [p.key for p in plans] == ["team"]
    assert plans.resolve("").key == "team"
    with pytest.raises(InvalidRequest):
        plans.resolve("free")


def test_default_is_the_first_plan_when_not_named() -> None:
    assert parse_plans(CUSTOM.replace('default = "team"', "")).default == "team"


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("chat = 2", "chat = -1"),
        ("max_api_keys = 2", 'max_api_keys = "two"'),
        ('default = "team"', 'default = "gold"'),
        ("imageEdit = 1", "imageEdit = 1\nvideo = 3"),
        ('name = "Team"', ""),
        ("[plans.team]", "[plans.team"),
    ],
)
def test_invalid_tables_are_refused(old: str, new: str) -> None:
    with pytest.raises(ValueError, match="invalid plan table"):
        parse_plans(CUSTOM.replace(old, new))


def test_plan_models_must_be_chat_model_ids() -> None:
    for model in ("gpt-4o", "claude-sonnet", "nano-banano-pro"):
        plans = parse_plans(CUSTOM.replace('"claude-sonnet-4-6"', f'"{model}"'))
        with pytest.raises(ValueError, match=model):
            plans.check_models(load_model_table())
