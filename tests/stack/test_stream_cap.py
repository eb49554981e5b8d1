"""``DRAFTER_MAX_STREAMS``: past the cap a new stream is refused at once, 503 with
Retry-After in the API's own shape, while the streams already open run to their end."""

from __future__ import annotations

import time
from pathlib import Path

import anthropic
import openai
import pytest

from tests.fakes.anthropic_server import FakeAnthropic, Reply
from tests.support.stack import start_drafter_up

MESSAGES = [{"role": "user", "content": "Count slowly to ten, please."}]
ECHO = "Echo: Count slowly to ten, please."  # the fake upstream's answer


def test_streams_past_the_cap_are_refused_at_once(
    tmp_path: Path, fake_anthropic: FakeAnthropic
) -> None:
    fake_anthropic.enqueue(Reply(delay_s=0.1, chunks=8), Reply(delay_s=0.1, chunks=8))
    stack = start_drafter_up(
        tmp_path, anthropic_base_url=fake_anthropic.base_url, DRAFTER_MAX_STREAMS="2"
    )
    try:
        key = stack.create_user_with_key("cap@example.com", "plus")
        client = openai.OpenAI(api_key=key, base_url=stack.api_url, max_retries=0)
        held = []
        for _ in range(2):
            stream = client.chat.completions.create(
                model="claude-haiku-4-5", messages=MESSAGES, stream=True
            )
            chunks = iter(stream)
            next(chunks)  # open: its first chunk arrived
            held.append(chunks)

        started = time.monotonic()
        with pytest.raises(openai.InternalServerError) as refused:
            client.chat.completions.create(model="claude-haiku-4-5", messages=MESSAGES, stream=True)
        assert time.monotonic() - started < 1.0  # at once, not after the open streams
        assert refused.value.status_code == 503
        assert refused.value.response.headers["retry-after"] == "2"
        error = refused.value.body
        assert isinstance(error, dict)
        assert error["type"] == "overloaded_error" and error["code"] == "too_many_streams"

        messages = anthropic.Anthropic(api_key=key, base_url=stack.base_url, max_retries=0)
        with pytest.raises(anthropic.InternalServerError) as refused_messages:
            messages.messages.create(
                model="claude-haiku-4-5", max_tokens=64, messages=MESSAGES, stream=True
            )
        assert refused_messages.value.status_code == 503
        assert refused_messages.value.response.headers["retry-after"] == "2"
        body = refused_messages.value.response.json()
        assert body["type"] == "error" and body["error"]["type"] == "overloaded_error"

        # An answer that does not stream is not counted against the cap.
        whole = client.chat.completions.create(model="claude-haiku-4-5", messages=MESSAGES)
        assert whole.choices[0].message.content == ECHO

        for chunks in held:  # the open streams run to their end
            text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
            assert text and ECHO.endswith(text)  # after the first chunk read above

        # Their slots are free again.
        stream = client.chat.completions.create(
            model="claude-haiku-4-5", messages=MESSAGES, stream=True
        )
        text = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
        assert text == ECHO
    finally:
        code = stack.stop()
    assert code == 0, stack.output()
