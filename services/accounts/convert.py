"""Proto ⇄ domain conversions of the accounts service, nothing else."""

from __future__ import annotations

import datetime as dt

from google.protobuf.timestamp_pb2 import Timestamp
from sqlalchemy.engine import Row

from drafter.accounts.v1 import accounts_service_pb2 as accounts_pb
from drafter.accounts.v1 import oauth_service_pb2 as oauth_pb
from drafter.model_table import ModelSpec
from services.accounts.oauth_apps import AppInfo
from services.accounts.plans import Plan
from services.accounts.usage import DayTotals, TokenCounts

# Usage kind as the plan table, usage records and the usage API name it → proto enum.
KIND_VALUES: dict[str, accounts_pb.UsageKind] = {
    "chat": accounts_pb.USAGE_KIND_CHAT,
    "imageGen": accounts_pb.USAGE_KIND_IMAGE_GEN,
    "imageEdit": accounts_pb.USAGE_KIND_IMAGE_EDIT,
    "apiCall": accounts_pb.USAGE_KIND_API_CALL,
}
KIND_NAMES: dict[int, str] = {value: name for name, value in KIND_VALUES.items()}
OUTCOME_STATUSES: dict[int, str] = {
    accounts_pb.OUTCOME_SUCCEEDED: "succeeded",
    accounts_pb.OUTCOME_REJECTED: "rejected",
    accounts_pb.OUTCOME_FAILED: "failed",
    accounts_pb.OUTCOME_CANCELLED: "cancelled",
}


def timestamp(value: dt.datetime | None) -> Timestamp | None:
    if value is None:
        return None
    stamp = Timestamp()
    stamp.FromDatetime(value if value.tzinfo else value.replace(tzinfo=dt.UTC))
    return stamp


def app_proto(app: AppInfo) -> oauth_pb.App:
    return oauth_pb.App(
        client_id=app.client_id,
        name=app.name,
        redirect_uris=list(app.redirect_uris),
        homepage=app.homepage,
        created_at=timestamp(app.created_at),
    )


def model_proto(spec: ModelSpec) -> accounts_pb.Model:
    return accounts_pb.Model(
        id=spec.id, owned_by=spec.owned_by, created=Timestamp(seconds=spec.created_ts)
    )


def token_counts(usage: accounts_pb.TokenUsage) -> TokenCounts:
    return TokenCounts(
        input_tokens=usage.input_tokens,
        output_tokens=usage.output_tokens,
        reasoning_tokens=usage.reasoning_tokens,
        cache_read_input_tokens=usage.cache_read_input_tokens,
        cache_creation_input_tokens=usage.cache_creation_input_tokens,
    )


def usage_counts(values: dict[str, int]) -> accounts_pb.UsageCounts:
    return accounts_pb.UsageCounts(
        chat=values["chat"], image_gen=values["imageGen"], image_edit=values["imageEdit"]
    )


def plan_limits(plan: Plan) -> dict[str, int]:
    limits = plan.limits
    return {"chat": limits.chat, "imageGen": limits.image_gen, "imageEdit": limits.image_edit}


def api_key_proto(row: Row) -> accounts_pb.ApiKey:
    return accounts_pb.ApiKey(
        key_id=row.id,
        name=row.name,
        prefix=row.prefix,
        created_at=timestamp(row.created_at),
        last_used_at=timestamp(row.last_used_at),
    )


def day_usage_proto(totals: DayTotals) -> accounts_pb.DayUsage:
    return accounts_pb.DayUsage(
        day=totals.day.isoformat(),
        kind=KIND_VALUES.get(totals.kind, accounts_pb.USAGE_KIND_UNSPECIFIED),
        requests=totals.requests,
        input_tokens=totals.input_tokens,
        output_tokens=totals.output_tokens,
    )
