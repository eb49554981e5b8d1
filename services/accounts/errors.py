"""Accounts-specific errors, on top of the shared :mod:`drafter.rpc.errors` hierarchy."""

from __future__ import annotations

import grpc

from drafter.common.v1 import errors_pb2
from drafter.rpc.errors import DrafterError, PermissionDenied


class PlanLimitReached(DrafterError):
    """A plan limit other than the daily quota (API keys, apps)."""

    code = grpc.StatusCode.FAILED_PRECONDITION
    reason = errors_pb2.ERROR_REASON_PLAN_LIMIT


class AccountBlocked(PermissionDenied):
    reason = errors_pb2.ERROR_REASON_ACCOUNT_BLOCKED

    def __init__(self) -> None:
        super().__init__("Account blocked")


class ModelNotInPlan(PermissionDenied):
    reason = errors_pb2.ERROR_REASON_MODEL_NOT_IN_PLAN
