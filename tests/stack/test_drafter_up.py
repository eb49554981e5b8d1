"""End to end through ``drafter up``: the official OpenAI SDK against the edge, the edge
against real accounts and chat services, the chat service against the fake Anthropic."""

from __future__ import annotations

import itertools
import signal

import httpx
import openai
import pytest

from tests.fakes.anthropic_server import FakeAnthropic, Reply
from tests.support.stack import DrafterStack, start_drafter_up

_emails = (f"user{i}@example.com" for i in itertools.count())


@pytest.fixture(scope="module")
def key(drafter_up: DrafterStack) -> str:
    return drafter_up.create_user_with_key(next(_emails), "free")


@pytest.fixture(scope="module")
def client(drafter_up: DrafterStack, key: str) -> openai.OpenAI:
    return openai.OpenAI(api_key=key, base_url=drafter_up.api_url, max_retries=0)


def test_chat_completion(client: openai.OpenAI, fake_anthropic: FakeAnthropic) -> None:
    fake_anthropic.enqueue(text="Hello from Claude", usage={"input_tokens": 12, "output_tokens": 4})
    completion = client.chat.completions.create(
        model="claude-haiku-4-5",
        messages=[
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Hello!"},
        ],
        stop=["END"],
    )
    assert completion.id.startswith("chatcmpl-")
    assert completion.object == "chat.completion"
    assert completion.model == "claude-haiku-4-5"
    assert completion.choices[0].message.content == "Hello from Claude"
    assert completion.choices[0].message.role == "assistant"
    assert completion.choices[0].finish_reason == "stop"
    assert completion.usage is not None
    assert (completion.usage.prompt_tokens, completion.usage.completion_tokens) == (12, 4)
    assert completion.usage.total_tokens == 16
    sent = fake_anthropic.last_request.body
    assert sent["model"] == "claude-haiku-4-5-20251001"
    assert sent["max_tokens"] == 1024
    assert sent["stop_sequences"] == ["END"]
    assert sent["messages"] == [
        {"role": "user", "content": [{"type": "text", "text": "Hello!"}]}
    ] or sent["messages"] == [{"role": "user", "content": "Hello!"}]
    system = sent["system"]
    assert "Be brief." in (system if isinstance(system, str) else system[0]["text"])


def test_streaming_chat_completion(client: openai.OpenAI, fake_anthropic: FakeAnthropic) -> None:
    fake_anthropic.enqueue(
        text="Once upon a time", chunks=4, usage={"input_tokens": 5, "output_tokens": 4}
    )
    stream = client.chat.completions.create(
        model="claude-haiku-4-5",
        messages=[{"role": "user", "content": "Tell me a story"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    content = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert content == "Once upon a time"
    with_choices = [c for c in chunks if c.choices]
    assert with_choices[0].choices[0].delta.role == "assistant"
    assert with_choices[-1].choices[0].finish_reason == "stop"
    assert len({c.id for c in chunks}) == 1 and chunks[0].id.startswith("chatcmpl-")
    assert chunks[-1].choices == [] and chunks[-1].usage is not None
    assert chunks[-1].usage.prompt_tokens == 5 and chunks[-1].usage.completion_tokens == 4
    assert fake_anthropic.last_request.body["stream"] is True


def test_raw_stream_is_openai_sse(drafter_up: DrafterStack, key: str) -> None:
    body = {
        "model": "claude-haiku",
        "messages": [{"role": "user", "content": "hi"}],
        "stream": True,
    }
    with httpx.stream(
        "POST",
        f"{drafter_up.api_url}/chat/completions",
        json=body,
        headers={"Authorization": f"Bearer {key}"},
        timeout=30,
    ) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        lines = [line for line in response.iter_lines() if line]
    assert all(line.startswith("data: ") for line in lines)
    assert lines[-1] == "data: [DONE]"


def test_v1_alias_and_family_alias(
    drafter_up: DrafterStack, key: str, fake_anthropic: FakeAnthropic
) -> None:
    client = openai.OpenAI(api_key=key, base_url=f"{drafter_up.base_url}/v1", max_retries=0)
    completion = client.chat.completions.create(
        model="claude-haiku", messages=[{"role": "user", "content": "ping"}]
    )
    assert completion.model == "claude-haiku"
    assert fake_anthropic.last_request.body["model"] == "claude-haiku-4-5-20251001"


def test_models_lists_only_the_plan(client: openai.OpenAI) -> None:
    ids = [m.id for m in client.models.list()]
    assert "claude-haiku-4-5" in ids
    assert "claude-opus-4-6" not in ids and "claude-sonnet-4-6" not in ids


def test_missing_and_invalid_keys_are_401(drafter_up: DrafterStack) -> None:
    response = httpx.post(
        f"{drafter_up.api_url}/chat/completions",
        json={"model": "claude-haiku-4-5", "messages": [{"role": "user", "content": "x"}]},
    )
    assert response.status_code == 401
    assert response.json()["error"]["type"] == "authentication_error"
    bad = openai.OpenAI(api_key="dp_" + "x" * 43, base_url=drafter_up.api_url, max_retries=0)
    with pytest.raises(openai.AuthenticationError) as exc:
        bad.chat.completions.create(
            model="claude-haiku-4-5", messages=[{"role": "user", "content": "x"}]
        )
    assert exc.value.status_code == 401
    assert "dp_xxxx" not in str(exc.value.body)


def test_model_not_in_plan_is_403(client: openai.OpenAI) -> None:
    with pytest.raises(openai.PermissionDeniedError) as exc:
        client.chat.completions.create(
            model="claude-opus-4-6", messages=[{"role": "user", "content": "x"}]
        )
    assert exc.value.body["type"] == "permission_error"  # type: ignore[index]
    assert exc.value.body["code"] == "model_not_in_plan"  # type: ignore[index]


def test_upgrading_the_plan_opens_the_model(drafter_up: DrafterStack) -> None:
    email = next(_emails)
    key = drafter_up.create_user_with_key(email, "free")
    client = openai.OpenAI(api_key=key, base_url=drafter_up.api_url, max_retries=0)
    with pytest.raises(openai.PermissionDeniedError):
        client.chat.completions.create(
            model="claude-sonnet-4-6", messages=[{"role": "user", "content": "x"}]
        )
    drafter_up.admin("user", "set-plan", email, "pro")
    completion = client.chat.completions.create(
        model="claude-sonnet-4-6", messages=[{"role": "user", "content": "x"}]
    )
    assert completion.choices[0].message.content


def test_unknown_model_is_404_model_not_found_as_openai_answers(client: openai.OpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as exc:
        client.chat.completions.create(model="gpt-9", messages=[{"role": "user", "content": "x"}])
    assert exc.value.body["param"] == "model"  # type: ignore[index]
    assert "gpt-9" in exc.value.body["message"]  # type: ignore[index]
    assert exc.value.body["code"] == "model_not_found"  # type: ignore[index]


@pytest.mark.parametrize(
    ("payload", "fragment"),
    [
        (b"{not json", "parse the JSON"),
        (b"[1, 2]", "JSON object"),
        (b'{"messages": [{"role": "user", "content": "x"}]}', "'model'"),
        (b'{"model": "claude-haiku-4-5", "messages": []}', "'messages'"),
        (
            b'{"model": "claude-haiku-4-5", "messages": [{"role": "wizard", "content": "x"}]}',
            "messages.0",
        ),
        (
            b'{"model": "claude-haiku-4-5", "messages": [{"role": "user", "content": "x"}], '
            b'"max_tokens": "lots"}',
            "'max_tokens'",
        ),
        (
            b'{"model": "claude-haiku-4-5", "messages": [{"role": "user", "content": "x"}], '
            b'"frobnicate": 1}',
            "frobnicate",
        ),
    ],
)
def test_bad_requests_are_400_naming_the_problem(
    drafter_up: DrafterStack, key: str, payload: bytes, fragment: str
) -> None:
    response = httpx.post(
        f"{drafter_up.api_url}/chat/completions",
        content=payload,
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
    )
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error" and error["code"] is None
    assert fragment in error["message"]
    assert "Traceback" not in response.text


def test_upstream_failure_is_503_and_the_server_keeps_serving(
    client: openai.OpenAI, fake_anthropic: FakeAnthropic
) -> None:
    fake_anthropic.enqueue(*[Reply(status=529)] * 5)
    with pytest.raises(openai.InternalServerError) as exc:
        client.chat.completions.create(
            model="claude-haiku-4-5", messages=[{"role": "user", "content": "x"}]
        )
    assert exc.value.status_code == 503
    fake_anthropic.reset()
    assert (
        client.chat.completions.create(
            model="claude-haiku-4-5", messages=[{"role": "user", "content": "again"}]
        )
        .choices[0]
        .message.content
    )


def test_status_reports_every_service_and_the_database(drafter_up: DrafterStack) -> None:
    assert httpx.get(f"{drafter_up.base_url}/healthz").json() == {"status": "ok"}
    for prefix in ("/api/v1", "/v1"):
        body = httpx.get(f"{drafter_up.base_url}{prefix}/status").json()
        assert body["status"] == "ok"
        services = body["services"]
        assert {"edge", "accounts", "chat", "images", "database"} <= set(services)
        assert all(s["status"] == "up" for s in services.values())
        assert services["database"]["backend"] == "sqlite"
        assert services["chat"]["health"] == "SERVING"


def _preflight(base_url: str, path: str, origin: str) -> httpx.Response:
    return httpx.options(
        base_url + path,
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )


def _cors_headers(response: httpx.Response) -> dict[str, str]:
    return {k: v for k, v in response.headers.items() if k.startswith("access-control-")}


def test_browsers_on_any_origin_may_call_the_api_and_never_the_pages(
    drafter_up: DrafterStack, key: str, fake_anthropic: FakeAnthropic
) -> None:
    origin = "https://chat.example.com"
    for path in ("/v1/chat/completions", "/api/v1/models"):
        allowed = _preflight(drafter_up.base_url, path, origin)
        assert allowed.status_code in (200, 204)
        assert allowed.headers["access-control-allow-origin"] == "*"
        assert "POST" in allowed.headers["access-control-allow-methods"]
        assert allowed.headers["access-control-allow-headers"] == "authorization, content-type"
        assert "access-control-allow-credentials" not in allowed.headers
    fake_anthropic.enqueue(text="Hi", usage={"input_tokens": 3, "output_tokens": 1})
    response = httpx.post(
        f"{drafter_up.api_url}/chat/completions",
        headers={"Authorization": f"Bearer {key}", "Origin": origin},
        json={"model": "claude-haiku-4-5", "messages": [{"role": "user", "content": "Hi"}]},
    )
    assert response.status_code == 200, response.text
    assert response.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-credentials" not in response.headers
    assert response.headers["x-request-id"]
    assert "x-request-id" in response.headers["access-control-expose-headers"]
    for path in ("/dashboard", "/auth/login", "/oauth/authorize", "/status"):
        assert _cors_headers(_preflight(drafter_up.base_url, path, origin)) == {}
        page = httpx.get(drafter_up.base_url + path, headers={"Origin": origin})
        assert _cors_headers(page) == {}


def test_cors_origins_narrows_the_api_to_the_listed_origins(
    tmp_path, fake_anthropic: FakeAnthropic
) -> None:
    listed, unlisted = "https://chat.example.com", "https://evil.example.net"
    stack = start_drafter_up(
        tmp_path,
        anthropic_base_url=fake_anthropic.base_url,
        DRAFTER_CORS_ORIGINS=f"{listed},http://localhost:5173",
    )
    try:
        echoed = _preflight(stack.base_url, "/v1/chat/completions", listed)
        assert echoed.status_code in (200, 204)
        assert echoed.headers["access-control-allow-origin"] == listed
        assert "origin" in echoed.headers["vary"].lower()
        models = httpx.get(f"{stack.api_url}/models", headers={"Origin": listed})
        assert models.headers["access-control-allow-origin"] == listed
        refused = _preflight(stack.base_url, "/v1/chat/completions", unlisted)
        assert _cors_headers(refused) == {}
        models = httpx.get(f"{stack.api_url}/models", headers={"Origin": unlisted})
        assert _cors_headers(models) == {}
        assert _cors_headers(_preflight(stack.base_url, "/auth/login", listed)) == {}
    finally:
        assert stack.stop() == 0, stack.output()


def test_ctrl_c_stops_the_stack_cleanly(tmp_path, fake_anthropic: FakeAnthropic) -> None:
    stack = start_drafter_up(tmp_path, anthropic_base_url=fake_anthropic.base_url)
    assert stack.stop(signal.SIGINT) == 0, stack.output()
    assert "Traceback" not in stack.output()
