"""Proto ⇄ domain conversions of the accounts service, for all six servicers: every
domain value that goes out as a proto message is built here, and every request message
that becomes a domain value is read here. The servicers (``servicers/``) only fill the
top-level response with these and with plain fields, around one domain call each.

Pure functions, no I/O. The proto enums ``UsageKind`` and ``Outcome`` map onto the
vocabulary of ``vocab``; an unknown or unspecified value maps to "" (the domain refuses it
with an error that names it).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from google.protobuf.timestamp_pb2 import Timestamp
from sqlalchemy.engine import Row

from drafter.accounts.v1 import accounts_service_pb2 as accounts_pb
from drafter.accounts.v1 import dashboard_service_pb2 as dash_pb
from drafter.accounts.v1 import identity_service_pb2 as identity_pb
from drafter.accounts.v1 import notifications_service_pb2 as notifications_pb
from drafter.accounts.v1 import oauth_service_pb2 as oauth_pb
from drafter.accounts.v1 import status_service_pb2 as status_pb
from drafter.common.v1 import usage_pb2 as usage_pb
from drafter.model_table import ModelSpec
from drafter.services.accounts.admission.credentials import Principal
from drafter.services.accounts.notifications.prefs import Prefs
from drafter.services.accounts.oauth.apps import AppInfo
from drafter.services.accounts.oauth.provider import AuthorizationRequest, ConnectionInfo
from drafter.services.accounts.plans.table import Plan
from drafter.services.accounts.status.history import Bucket, Check, History, uptime_percent
from drafter.services.accounts.support.tickets import TicketInfo
from drafter.services.accounts.usage.log import DayTotals, TokenCounts
from drafter.services.accounts.users.identity import SessionInfo
from drafter.services.accounts.vocab import Outcome, UsageKind

KIND_VALUES: dict[str, accounts_pb.UsageKind] = {
    UsageKind.CHAT: accounts_pb.USAGE_KIND_CHAT,
    UsageKind.IMAGE_GEN: accounts_pb.USAGE_KIND_IMAGE_GEN,
    UsageKind.IMAGE_EDIT: accounts_pb.USAGE_KIND_IMAGE_EDIT,
    UsageKind.API_CALL: accounts_pb.USAGE_KIND_API_CALL,
}
_KINDS: dict[int, UsageKind] = {value: UsageKind(name) for name, value in KIND_VALUES.items()}
_OUTCOMES: dict[int, Outcome] = {
    accounts_pb.OUTCOME_SUCCEEDED: Outcome.SUCCEEDED,
    accounts_pb.OUTCOME_REJECTED: Outcome.REJECTED,
    accounts_pb.OUTCOME_FAILED: Outcome.FAILED,
    accounts_pb.OUTCOME_CANCELLED: Outcome.CANCELLED,
    accounts_pb.OUTCOME_ABANDONED: Outcome.ABANDONED,
}


# --- shared pieces ---------------------------------------------------------------------


def timestamp(value: dt.datetime | None) -> Timestamp | None:
    """An aware datetime (every stored time is: ``db.types.UTCDateTime``) as a Timestamp."""
    if value is None:
        return None
    stamp = Timestamp()
    stamp.FromDatetime(value)
    return stamp


def usage_kind(value: int) -> str:
    """The ``vocab.UsageKind`` of a proto ``UsageKind``; "" when unknown or unspecified."""
    return _KINDS.get(value, "")


def outcome(value: int) -> str:
    """The ``vocab.Outcome`` of a proto ``Outcome``; "" when unknown or unspecified."""
    return _OUTCOMES.get(value, "")


def usage_counts(values: dict[str, int]) -> accounts_pb.UsageCounts:
    return accounts_pb.UsageCounts(
        chat=values[UsageKind.CHAT],
        image_gen=values[UsageKind.IMAGE_GEN],
        image_edit=values[UsageKind.IMAGE_EDIT],
    )


# --- AccountsService ---------------------------------------------------------------------


def caller_proto(principal: Principal, plan: Plan) -> accounts_pb.Caller:
    return accounts_pb.Caller(
        user_id=principal.user_id, plan=plan.key, credential_id=principal.credential_id
    )


def token_counts(usage: usage_pb.TokenUsage) -> TokenCounts:
    return TokenCounts(
        input_tokens=usage.input_tokens,
        output_tokens=usage.output_tokens,
        reasoning_tokens=usage.reasoning_tokens,
        cache_read_input_tokens=usage.cache_read_input_tokens,
        cache_creation_input_tokens=usage.cache_creation_input_tokens,
    )


def model_proto(spec: ModelSpec) -> accounts_pb.Model:
    return accounts_pb.Model(
        id=spec.id, owned_by=spec.owned_by, created=Timestamp(seconds=spec.created_ts)
    )


def api_key_proto(row: Row[Any]) -> accounts_pb.ApiKey:
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
        cache_read_tokens=totals.cache_read_tokens,
        cache_creation_tokens=totals.cache_creation_tokens,
    )


# --- OAuthService and IdentityService ------------------------------------------------------


def app_proto(app: AppInfo) -> oauth_pb.App:
    return oauth_pb.App(
        client_id=app.client_id,
        name=app.name,
        redirect_uris=list(app.redirect_uris),
        homepage=app.homepage,
        created_at=timestamp(app.created_at),
    )


def connection_proto(conn: ConnectionInfo) -> oauth_pb.Connection:
    return oauth_pb.Connection(
        client_id=conn.client_id,
        app_name=conn.app_name,
        scopes=list(conn.scopes),
        first_authorized_at=timestamp(conn.first_authorized_at),
        last_used_at=timestamp(conn.last_used_at),
    )


def authorization_request(msg: oauth_pb.CheckAuthorizationRequest) -> AuthorizationRequest:
    return AuthorizationRequest(
        client_id=msg.client_id,
        redirect_uri=msg.redirect_uri,
        response_type=msg.response_type,
        scope=msg.scope,
        code_challenge=msg.code_challenge,
        code_challenge_method=msg.code_challenge_method,
    )


def session_proto(session: SessionInfo) -> identity_pb.Session:
    return identity_pb.Session(
        token=session.token,
        user_id=session.user_id,
        email=session.email,
        plan=session.plan,
        expires_at=timestamp(session.expires_at),
    )


# --- DashboardService ------------------------------------------------------------------------


def plan_proto(plan: Plan) -> dash_pb.Plan:
    return dash_pb.Plan(
        key=plan.key,
        name=plan.name,
        price_eur_per_week=str(plan.price_eur_per_week),
        models=list(plan.models),
        max_api_keys=plan.max_api_keys,
        max_apps=plan.max_apps,
        limits=usage_counts(plan.limits.by_kind()),
    )


def ticket_proto(ticket: TicketInfo) -> dash_pb.Ticket:
    replies = [
        dash_pb.TicketReply(author=r.author, message=r.message, created_at=timestamp(r.created_at))
        for r in ticket.replies
    ]
    return dash_pb.Ticket(
        ticket_id=ticket.id,
        subject=ticket.subject,
        message=ticket.message,
        status=ticket.status,
        created_at=timestamp(ticket.created_at),
        updated_at=timestamp(ticket.updated_at),
        replies=replies,
    )


# --- NotificationsService --------------------------------------------------------------------


def prefs_proto(prefs: Prefs) -> notifications_pb.NotificationPrefs:
    return notifications_pb.NotificationPrefs(
        api_key_created=prefs.api_key_created,
        app_connected=prefs.app_connected,
        quota_warning=prefs.quota_warning,
    )


def prefs_from_proto(msg: notifications_pb.NotificationPrefs) -> Prefs:
    return Prefs(
        api_key_created=msg.api_key_created,
        app_connected=msg.app_connected,
        quota_warning=msg.quota_warning,
    )


# --- StatusService ---------------------------------------------------------------------------


def check_proto(check: Check) -> status_pb.ComponentCheck:
    return status_pb.ComponentCheck(
        name=check.name, up=check.up, latency_ms=check.latency_ms, detail=check.detail
    )


def bucket_proto(bucket: Bucket) -> status_pb.StatusBucket:
    return status_pb.StatusBucket(
        start=timestamp(bucket.start),
        probes=bucket.probes,
        successes=bucket.successes,
        mean_latency_ms=round(bucket.mean_latency_ms, 2),
    )


def component_histories(history: History) -> list[status_pb.ComponentHistory]:
    """One entry per component, by name, each with its buckets and uptime."""
    return [
        status_pb.ComponentHistory(
            name=name,
            buckets=[bucket_proto(b) for b in buckets],
            uptime_percent=uptime_percent(buckets),
        )
        for name, buckets in sorted(history.components.items())
    ]
