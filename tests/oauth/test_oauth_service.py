"""OAuthService over real gRPC: apps, the code grant with PKCE, the attacks it must stop
(replay, expiry, the wrong client, the wrong secret, PKCE), revocation and connections."""

from __future__ import annotations

import asyncio

import grpc
import pytest
import sqlalchemy as sa

from drafter.accounts.v1 import accounts_service_pb2 as accounts_pb
from drafter.accounts.v1 import oauth_service_pb2 as oauth_pb
from drafter.common.v1 import errors_pb2
from drafter.rpc.errors import RemoteError, error_from_rpc
from drafter.services.accounts.db.engine import create_engine
from drafter.services.accounts.oauth.rules import s256
from tests.support.accounts import Account, Stubs, make_account
from tests.support.clock import FakeClock
from tests.support.oauth import (
    REDIRECT_URI,
    RegisteredApp,
    authorization,
    authorize,
    exchange_request,
    issue,
    register_app,
    token_for,
)

VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"


async def failure(call: object) -> RemoteError:
    with pytest.raises(grpc.RpcError) as caught:
        await call  # type: ignore[misc]
    return error_from_rpc(caught.value)


async def test_create_app_shows_the_secret_once_and_lists_it(
    stubs: Stubs, app: RegisteredApp
) -> None:
    assert app.client_id.startswith("dpa_") and app.client_secret.startswith("dpcs_")
    listed = await stubs.oauth.ListApps(oauth_pb.ListAppsRequest(user_id=app.owner.user_id))
    assert [a.client_id for a in listed.apps] == [app.client_id]
    assert list(listed.apps[0].redirect_uris) == [REDIRECT_URI]
    assert app.client_secret not in str(listed)


async def test_a_user_registers_at_most_three_apps(stubs: Stubs, app: RegisteredApp) -> None:
    await register_app(stubs, app.owner)
    await register_app(stubs, app.owner)
    err = await failure(register_app(stubs, app.owner))
    assert (
        err.code == grpc.StatusCode.FAILED_PRECONDITION
        and err.reason == errors_pb2.ERROR_REASON_PLAN_LIMIT
    )


@pytest.mark.parametrize(
    "uri",
    ["http://app.example.com/cb", "https://app.example.com/cb#frag", "/callback", "javascript:x"],
)
async def test_unsafe_redirect_uris_cannot_be_registered(stubs: Stubs, uri: str) -> None:
    owner = await make_account(stubs.accounts)
    err = await failure(register_app(stubs, owner, (uri,)))
    assert err.code == grpc.StatusCode.INVALID_ARGUMENT


async def test_code_exchange_gives_a_client_token_that_authorizes_chat(
    stubs: Stubs, app: RegisteredApp, user: Account, database_url: str
) -> None:
    code = await issue(stubs, app, user)
    issued = await stubs.oauth.ExchangeCode(exchange_request(app, code))
    assert issued.access_token.startswith("dpai_ct_")
    assert issued.scope == "ai:chat ai:images" and issued.app_name.startswith("App ")
    auth = await stubs.accounts.Authorize(authorize(issued.access_token))
    assert auth.caller.user_id == user.user_id and auth.caller.plan == "free"
    await stubs.accounts.Settle(
        accounts_pb.SettleRequest(
            reservation_id=auth.reservation_id, outcome=accounts_pb.OUTCOME_SUCCEEDED
        )
    )
    engine = create_engine(database_url, pool_size=1)
    row = None
    for _ in range(100):  # successful requests are recorded in batches
        async with engine.connect() as conn:
            found = await conn.execute(sa.text("SELECT app_id, credential_id FROM usage_records"))
            row = found.first()
            app_id = (await conn.execute(sa.text("SELECT id FROM oauth_apps"))).scalar()
        if row is not None:
            break
        await asyncio.sleep(0.05)
    await engine.dispose()
    assert row is not None
    assert row.app_id == app_id and row.credential_id.startswith("ct_")


async def test_second_use_of_a_code_fails_and_revokes_its_token(
    stubs: Stubs, app: RegisteredApp, user: Account
) -> None:
    code = await issue(stubs, app, user)
    first = await stubs.oauth.ExchangeCode(exchange_request(app, code))
    err = await failure(stubs.oauth.ExchangeCode(exchange_request(app, code)))
    assert err.metadata["oauth_error"] == "invalid_grant"
    err = await failure(stubs.accounts.Authorize(authorize(first.access_token)))
    assert err.code == grpc.StatusCode.UNAUTHENTICATED


async def test_expired_code_is_refused(
    stubs: Stubs, app: RegisteredApp, user: Account, clock: FakeClock
) -> None:
    code = await issue(stubs, app, user)
    clock.advance(minutes=5, seconds=1)
    err = await failure(stubs.oauth.ExchangeCode(exchange_request(app, code)))
    assert err.metadata["oauth_error"] == "invalid_grant" and "expired" in err.message


async def test_code_issued_to_app_a_cannot_be_redeemed_by_app_b(
    stubs: Stubs, app: RegisteredApp, user: Account
) -> None:
    other = await register_app(stubs)
    code = await issue(stubs, app, user)
    err = await failure(stubs.oauth.ExchangeCode(exchange_request(other, code)))
    assert err.metadata["oauth_error"] == "invalid_grant"
    assert (await stubs.oauth.ExchangeCode(exchange_request(app, code))).access_token


async def test_wrong_client_secret_is_invalid_client(
    stubs: Stubs, app: RegisteredApp, user: Account
) -> None:
    code = await issue(stubs, app, user)
    err = await failure(stubs.oauth.ExchangeCode(exchange_request(app, code, secret="dpcs_nope")))
    assert err.code == grpc.StatusCode.UNAUTHENTICATED
    assert err.metadata["oauth_error"] == "invalid_client"


async def test_redirect_uri_must_match_the_authorization_request(
    stubs: Stubs, app: RegisteredApp, user: Account
) -> None:
    code = await issue(stubs, app, user)
    request = exchange_request(app, code, redirect_uri=REDIRECT_URI + "/")
    err = await failure(stubs.oauth.ExchangeCode(request))
    assert err.metadata["oauth_error"] == "invalid_grant"


async def test_pkce_s256_verifier_is_checked(
    stubs: Stubs, app: RegisteredApp, user: Account
) -> None:
    pkce = {"code_challenge": s256(VERIFIER), "code_challenge_method": "S256"}
    code = await issue(stubs, app, user, **pkce)
    issued = await stubs.oauth.ExchangeCode(exchange_request(app, code, code_verifier=VERIFIER))
    assert issued.access_token.startswith("dpai_ct_")


async def test_pkce_mismatch_is_invalid_grant(
    stubs: Stubs, app: RegisteredApp, user: Account
) -> None:
    pkce = {"code_challenge": s256(VERIFIER), "code_challenge_method": "S256"}
    code = await issue(stubs, app, user, **pkce)
    wrong = "x" * 43
    err = await failure(stubs.oauth.ExchangeCode(exchange_request(app, code, code_verifier=wrong)))
    assert err.metadata["oauth_error"] == "invalid_grant"


async def test_pkce_missing_verifier_is_refused(
    stubs: Stubs, app: RegisteredApp, user: Account
) -> None:
    code = await issue(stubs, app, user, code_challenge=VERIFIER, code_challenge_method="plain")
    err = await failure(stubs.oauth.ExchangeCode(exchange_request(app, code)))
    assert err.metadata["oauth_error"] == "invalid_request"


async def test_token_from_a_deleted_app_stops_working(
    stubs: Stubs, app: RegisteredApp, user: Account
) -> None:
    token = await token_for(stubs, app, user)
    await stubs.accounts.Authorize(authorize(token))
    await stubs.oauth.DeleteApp(
        oauth_pb.DeleteAppRequest(user_id=app.owner.user_id, client_id=app.client_id)
    )
    err = await failure(stubs.accounts.Authorize(authorize(token)))
    assert err.code == grpc.StatusCode.UNAUTHENTICATED


async def test_scope_limits_what_a_token_may_do(
    stubs: Stubs, app: RegisteredApp, user: Account
) -> None:
    token = await token_for(stubs, app, user, scope="ai:chat")
    await stubs.accounts.Authorize(authorize(token))
    err = await failure(
        stubs.accounts.Authorize(authorize(token, accounts_pb.USAGE_KIND_IMAGE_GEN))
    )
    assert (
        err.code == grpc.StatusCode.PERMISSION_DENIED
        and err.reason == errors_pb2.ERROR_REASON_INSUFFICIENT_SCOPE
    )
    images_only = await token_for(stubs, app, user, scope="ai:images")
    err = await failure(stubs.accounts.Authorize(authorize(images_only)))
    assert err.reason == errors_pb2.ERROR_REASON_INSUFFICIENT_SCOPE
    await stubs.accounts.Authorize(authorize(images_only, accounts_pb.USAGE_KIND_IMAGE_EDIT))


async def test_rotated_secret_replaces_the_old_one(
    stubs: Stubs, app: RegisteredApp, user: Account
) -> None:
    rotated = await stubs.oauth.RotateAppSecret(
        oauth_pb.RotateAppSecretRequest(user_id=app.owner.user_id, client_id=app.client_id)
    )
    code = await issue(stubs, app, user)
    err = await failure(stubs.oauth.ExchangeCode(exchange_request(app, code)))
    assert err.metadata["oauth_error"] == "invalid_client"
    code = await issue(stubs, app, user)
    request = exchange_request(app, code, secret=rotated.client_secret)
    assert (await stubs.oauth.ExchangeCode(request)).access_token


async def test_revoke_token_rfc7009(stubs: Stubs, app: RegisteredApp, user: Account) -> None:
    token = await token_for(stubs, app, user)
    client = oauth_pb.ClientCredentials(client_id=app.client_id, client_secret=app.client_secret)
    await stubs.oauth.RevokeToken(oauth_pb.RevokeTokenRequest(client=client, token="dpai_ct_x"))
    await stubs.oauth.RevokeToken(oauth_pb.RevokeTokenRequest(client=client, token=token))
    err = await failure(stubs.accounts.Authorize(authorize(token)))
    assert err.code == grpc.StatusCode.UNAUTHENTICATED


async def used_connection(stubs: Stubs, user: Account) -> oauth_pb.Connection:
    """The user's one connection, once its last use is recorded (touches are batched)."""
    request = oauth_pb.ListConnectionsRequest(user_id=user.user_id)
    for _ in range(100):
        (connection,) = (await stubs.oauth.ListConnections(request)).connections
        if connection.HasField("last_used_at"):
            return connection
        await asyncio.sleep(0.05)
    raise AssertionError("last_used_at was never recorded")


async def test_connections_are_listed_and_revoked_at_once(
    stubs: Stubs, app: RegisteredApp, user: Account, clock: FakeClock
) -> None:
    token = await token_for(stubs, app, user, scope="ai:chat")
    await token_for(stubs, app, user, scope="ai:images")
    await stubs.accounts.Authorize(authorize(token))
    connection = await used_connection(stubs, user)
    assert connection.client_id == app.client_id
    assert list(connection.scopes) == ["ai:chat", "ai:images"]
    assert connection.first_authorized_at.ToDatetime().year == clock.now.year
    await stubs.oauth.RevokeConnection(
        oauth_pb.RevokeConnectionRequest(user_id=user.user_id, client_id=app.client_id)
    )
    err = await failure(stubs.accounts.Authorize(authorize(token)))
    assert err.code == grpc.StatusCode.UNAUTHENTICATED
    found = await stubs.oauth.ListConnections(oauth_pb.ListConnectionsRequest(user_id=user.user_id))
    assert list(found.connections) == []


async def test_check_authorization_refuses_unregistered_redirects(
    stubs: Stubs, app: RegisteredApp
) -> None:
    ok = await stubs.oauth.CheckAuthorization(authorization(app))
    assert list(ok.scopes) == ["ai:chat", "ai:images"]
    err = await failure(
        stubs.oauth.CheckAuthorization(authorization(app, redirect_uri=REDIRECT_URI + "x"))
    )
    assert err.code == grpc.StatusCode.INVALID_ARGUMENT and "oauth_error" not in err.metadata
    err = await failure(stubs.oauth.CheckAuthorization(authorization(app, client_id="dpa_nope")))
    assert err.code == grpc.StatusCode.NOT_FOUND
    err = await failure(stubs.oauth.CheckAuthorization(authorization(app, scope="ai:admin")))
    assert err.metadata["oauth_error"] == "invalid_scope"
