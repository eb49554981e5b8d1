"""The hosted ``web_search`` tool through the openai Python SDK: Anthropic's web search
server tool upstream, its searches back as ``web_search_call`` items, streamed with
OpenAI's ``response.web_search_call.*`` events."""

from __future__ import annotations

from typing import Any

import openai
import pytest

from tests.fakes.anthropic_server import FakeAnthropic, Reply
from tests.fakes.anthropic_web_search import WebSearch

pytestmark = pytest.mark.slow

HAIKU = "claude-haiku-4-5"
SEARCH = WebSearch(
    "drafter gateway", [("https://example.com/drafter", "Drafter"), ("https://example.org/a", "A")]
)
ANSWER = "Drafter is a gateway."
WEATHER_TOOL: dict[str, Any] = {
    "type": "function",
    "name": "get_weather",
    "description": "The weather in a city.",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
}


def upstream_search_tools(fake: FakeAnthropic) -> list[dict[str, Any]]:
    tools = fake.last_request.body.get("tools") or []
    return [tool for tool in tools if tool.get("type") == "web_search_20250305"]


def test_web_search_runs_upstream_and_comes_back_as_a_web_search_call(
    client: openai.OpenAI, fake_anthropic: FakeAnthropic
) -> None:
    fake_anthropic.enqueue(Reply(text=ANSWER, web_searches=[SEARCH]))

    response = client.responses.create(
        model=HAIKU,
        input="What is Drafter?",
        tools=[
            {
                "type": "web_search",
                "filters": {"allowed_domains": ["example.com", "example.org"]},
                "user_location": {"type": "approximate", "city": "Paris", "country": "FR"},
            }
        ],
        include=["web_search_call.action.sources"],
        store=False,
    )

    assert response.status == "completed"
    search, message = response.output
    assert search.type == "web_search_call"
    assert search.id.startswith("ws_")
    assert search.status == "completed"
    assert search.action.type == "search"
    assert search.action.query == "drafter gateway"
    sources = getattr(search.action, "sources", None) or []
    assert [source.url for source in sources] == [
        "https://example.com/drafter",
        "https://example.org/a",
    ]
    assert message.type == "message"
    assert response.output_text == ANSWER
    assert upstream_search_tools(fake_anthropic) == [
        {
            "type": "web_search_20250305",
            "name": "web_search",
            "allowed_domains": ["example.com", "example.org"],
            "user_location": {"type": "approximate", "city": "Paris", "country": "FR"},
        }
    ]


def test_sources_only_when_include_asks_for_them(
    client: openai.OpenAI, fake_anthropic: FakeAnthropic
) -> None:
    fake_anthropic.enqueue(Reply(text=ANSWER, web_searches=[SEARCH]))

    response = client.responses.create(
        model=HAIKU, input="What is Drafter?", tools=[{"type": "web_search_preview"}], store=False
    )

    search = response.output[0]
    assert search.type == "web_search_call"
    assert getattr(search.action, "sources", None) is None
    assert upstream_search_tools(fake_anthropic) == [
        {"type": "web_search_20250305", "name": "web_search"}
    ]


def test_a_streamed_search_sends_openais_web_search_events(
    client: openai.OpenAI, fake_anthropic: FakeAnthropic
) -> None:
    fake_anthropic.enqueue(Reply(text=ANSWER, web_searches=[SEARCH]))

    with client.responses.stream(
        model=HAIKU,
        input="What is Drafter?",
        tools=[{"type": "web_search"}, WEATHER_TOOL],  # type: ignore[list-item]
        store=False,
    ) as stream:
        events = list(stream)
        final = stream.get_final_response()

    kinds = [event.type for event in events]
    search_events = [kind for kind in kinds if "web_search_call" in kind]
    assert search_events == [
        "response.web_search_call.in_progress",
        "response.web_search_call.searching",
        "response.web_search_call.completed",
    ]
    added = kinds.index("response.output_item.added")
    assert added < kinds.index("response.web_search_call.in_progress")
    done = next(e for e in events if e.type == "response.output_item.done")
    assert done.item.type == "web_search_call" and done.item.status == "completed"
    assert [item.type for item in final.output] == ["web_search_call", "message"]
    assert final.output_text == ANSWER
    tools = fake_anthropic.last_request.body["tools"]
    assert [tool["name"] for tool in tools] == ["get_weather", "web_search"]


def test_tool_choice_none_sends_no_web_search(
    client: openai.OpenAI, fake_anthropic: FakeAnthropic
) -> None:
    response = client.responses.create(
        model=HAIKU,
        input="hi",
        tools=[{"type": "web_search"}, WEATHER_TOOL],  # type: ignore[list-item]
        tool_choice="none",
        store=False,
    )

    assert response.status == "completed"
    assert upstream_search_tools(fake_anthropic) == []


def test_a_search_of_an_earlier_turn_goes_back_as_its_answer_only(
    client: openai.OpenAI, fake_anthropic: FakeAnthropic
) -> None:
    """Stateless continuation: the first answer's output items sent back as input. The
    search itself cannot be replayed upstream; the text it led to is the assistant turn."""
    fake_anthropic.enqueue(Reply(text=ANSWER, web_searches=[SEARCH]))
    first = client.responses.create(
        model=HAIKU, input="What is Drafter?", tools=[{"type": "web_search"}], store=False
    )
    fake_anthropic.enqueue(text="It is self-hostable.")

    again = client.responses.create(  # type: ignore[call-overload]
        model=HAIKU,
        input=[
            {"role": "user", "content": "What is Drafter?"},
            *[item.model_dump(exclude_none=True) for item in first.output],
            {"role": "user", "content": "Can I host it?"},
        ],
        tools=[{"type": "web_search"}],
        store=False,
    )

    assert again.output_text == "It is self-hostable."
    messages = fake_anthropic.last_request.body["messages"]
    assert [m["role"] for m in messages] == ["user", "assistant", "user"]
    assert messages[1]["content"] == [{"type": "text", "text": ANSWER}]


def test_a_function_named_web_search_beside_the_hosted_one_is_a_400(
    client: openai.OpenAI,
) -> None:
    clash = {**WEATHER_TOOL, "name": "web_search"}
    with pytest.raises(openai.BadRequestError) as info:
        client.responses.create(
            model=HAIKU,
            input="hi",
            tools=[clash, {"type": "web_search"}],  # type: ignore[list-item]
            store=False,
        )
    assert info.value.body["param"] == "tools"  # type: ignore[index]
