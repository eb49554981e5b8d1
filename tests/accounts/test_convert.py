"""The proto enums map onto the accounts vocabulary, both ways, for every value."""

from __future__ import annotations

import pytest

from drafter.accounts.v1 import accounts_service_pb2 as accounts_pb
from drafter.services.accounts import convert
from drafter.services.accounts.plans.table import load_plans
from drafter.services.accounts.vocab import LIMITED_KINDS, Outcome, UsageKind


@pytest.mark.parametrize(
    ("proto", "kind"),
    [
        (accounts_pb.USAGE_KIND_CHAT, "chat"),
        (accounts_pb.USAGE_KIND_IMAGE_GEN, "imageGen"),
        (accounts_pb.USAGE_KIND_IMAGE_EDIT, "imageEdit"),
        (accounts_pb.USAGE_KIND_API_CALL, "apiCall"),
        (accounts_pb.USAGE_KIND_UNSPECIFIED, ""),
        (99, ""),
    ],
)
def test_usage_kinds(proto: int, kind: str) -> None:
    assert convert.usage_kind(proto) == kind
    if kind:
        assert convert.KIND_VALUES[kind] == proto


@pytest.mark.parametrize(
    ("proto", "outcome"),
    [
        (accounts_pb.OUTCOME_SUCCEEDED, "succeeded"),
        (accounts_pb.OUTCOME_REJECTED, "rejected"),
        (accounts_pb.OUTCOME_FAILED, "failed"),
        (accounts_pb.OUTCOME_CANCELLED, "cancelled"),
        (accounts_pb.OUTCOME_UNSPECIFIED, ""),
    ],
)
def test_outcomes(proto: int, outcome: str) -> None:
    assert convert.outcome(proto) == outcome


def test_every_kind_and_outcome_has_a_proto_value() -> None:
    kinds = {v for v in accounts_pb.UsageKind.values() if v != accounts_pb.USAGE_KIND_UNSPECIFIED}
    assert {convert.KIND_VALUES[k] for k in UsageKind} == kinds
    outcomes = {v for v in accounts_pb.Outcome.values() if v != accounts_pb.OUTCOME_UNSPECIFIED}
    assert {p for p in outcomes if convert.outcome(p) in set(Outcome)} == outcomes


def test_plan_limits_are_the_limited_kinds() -> None:
    limits = load_plans().default_plan.limits
    assert list(limits.by_kind()) == list(LIMITED_KINDS) == ["chat", "imageGen", "imageEdit"]
    assert limits.for_kind(UsageKind.API_CALL) is None
    counts = convert.usage_counts(limits.by_kind())
    assert (counts.chat, counts.image_gen, counts.image_edit) == (20, 3, 5)
