"""One Responses call (``ChatService.Respond``): the body translated (``request``), one
upstream call over the chat service's Messages API client, its events translated
(``output``, which writes them as JSON), then the usage.

The upstream is always asked for a stream, each wait on it bounded by the model's
``upstream_timeout_s`` (``upstream.clock``); failures go through the one error table
(``upstream.errors``). ``response.created`` is sent only once the upstream has answered
2xx, so a refusal before it keeps its own status at the edge. With thinking on, the
signed thinking of a turn that called tools is also kept in the thinking store (as chat
completions keep it), for clients that send tool outputs back without the reasoning item.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx2

from drafter.chat.v1 import chat_service_pb2 as chat_pb
from drafter.model_table import ModelSpec, ModelTable
from drafter.rpc.errors import InvalidRequest, UpstreamUnavailable
from drafter.rpc.local import LocalContext
from drafter.services.chat.as_it_arrives import each_as, taken_as_it_arrives
from drafter.services.chat.model_rules import effort_from_request
from drafter.services.chat.output_format import format_tool_name
from drafter.services.chat.passthrough_body import parsed_body
from drafter.services.chat.prompt_cache import PromptCacheMode
from drafter.services.chat.responses.output import ResponseWriter
from drafter.services.chat.responses.request import translate
from drafter.services.chat.responses.tools import add_server_tools
from drafter.services.chat.thinking_store import ThinkingStore, get_quietly, put_quietly
from drafter.services.chat.to_anthropic import message_params_from_request
from drafter.services.chat.upstream.client import MessagesApi
from drafter.services.chat.upstream.clock import UpstreamClock
from drafter.services.chat.upstream.errors import error_from_upstream
from drafter.services.chat.upstream.events import (
    WHOLE_ANSWER_MAX_TOKENS,
    Fields,
    UpstreamEvents,
    whole_message_reader,
)
from drafter.services.chat.upstream.exceptions import UpstreamError
from drafter.upstream_observer import observing_upstream

Answer = chat_pb.RespondResponse
# The chat request's parameter names, as the Responses API names them in a 400.
PARAM_NAMES: dict[str, str] = {
    "max_tokens": "max_output_tokens",
    "reasoning_effort": "reasoning.effort",
    "thinking": "reasoning.effort",
    "response_format": "text.format",
    "response_format.json_schema.schema": "text.format.schema",
    "messages": "input",
    "tools.function.parameters": "tools",
    "tool_choice": "tool_choice",
}
# Fields of the request echoed in the response object, with OpenAI's defaults.
ECHOED: dict[str, Any] = {
    "instructions": None,
    "max_output_tokens": None,
    "metadata": {},
    "parallel_tool_calls": True,
    "previous_response_id": None,
    "prompt_cache_key": None,
    "reasoning": {"effort": None, "summary": None},
    "safety_identifier": None,
    "store": True,
    "temperature": 1.0,
    "text": {"format": {"type": "text"}},
    "tool_choice": "auto",
    "tools": [],
    "top_p": 1.0,
    "truncation": "disabled",
    "user": None,
}


@dataclass(frozen=True, slots=True)
class ResponseCall:
    """A validated Responses request, ready to send."""

    model: ModelSpec
    params: dict[str, Any]
    writer: ResponseWriter
    # The caller does not stream and the answer is bounded short enough to be asked for
    # whole (``WHOLE_ANSWER_MAX_TOKENS``): one JSON body upstream instead of a stream.
    whole: bool = False


def response_object(body: dict[str, Any], request: chat_pb.RespondRequest) -> dict[str, Any]:
    """The response's fields that do not depend on the answer."""
    response: dict[str, Any] = {
        "id": request.response_id,
        "object": "response",
        "created_at": request.created_at,
        "status": "in_progress",
        "background": False,
        "error": None,
        "incomplete_details": None,
        "model": body.get("model") or request.model,
        "output": [],
        "service_tier": "default",
        "usage": None,
    }
    for name, default in ECHOED.items():
        value = body.get(name)
        response[name] = default if value is None else value
    return response


def _renamed(exc: InvalidRequest) -> InvalidRequest:
    param = exc.metadata.get("param")
    if param in PARAM_NAMES:
        exc.metadata["param"] = PARAM_NAMES[param]
    return exc


class Responder:
    """Runs Responses calls over the service's one upstream client."""

    def __init__(
        self,
        messages: MessagesApi,
        models: ModelTable,
        thinking: ThinkingStore,
        prompt_cache: PromptCacheMode = "auto",
    ) -> None:
        self._messages = messages
        self._models = models
        self._thinking = thinking
        self._prompt_cache: PromptCacheMode = prompt_cache

    async def prepare(self, request: chat_pb.RespondRequest) -> ResponseCall:
        """The upstream request for ``request``; a 400 for what cannot be honoured."""
        body = parsed_body(request.body)
        model = self._models.resolve(request.model)
        if model.kind != "chat":
            raise InvalidRequest(
                f"The model `{request.model}` is not a chat model.", metadata={"param": "model"}
            )
        try:
            translation = translate(body, model.id)
            chat = translation.chat
            kept = dict(translation.kept_thinking)
            if translation.unthought_calls and effort_from_request(chat) is not None:
                kept.update(await get_quietly(self._thinking, translation.unthought_calls))
            params = message_params_from_request(
                chat, model, kept_thinking=kept, prompt_cache=self._prompt_cache
            )
            add_server_tools(params, translation.tools)
            format_tool = format_tool_name(chat, model)
        except InvalidRequest as exc:
            raise _renamed(exc) from None
        writer = ResponseWriter(
            response_object(body, request),
            translation.tools,
            summary=chat.include_reasoning,
            format_tool=format_tool,
        )
        whole = body.get("stream") is not True and params["max_tokens"] <= WHOLE_ANSWER_MAX_TOKENS
        return ResponseCall(model, params, writer, whole)

    async def answers(
        self, call: ResponseCall, local: LocalContext | None = None
    ) -> AsyncGenerator[Answer, None]:
        """The response's events as JSON, then its usage. The upstream call is observed
        (``observing_upstream``) from its opening to its end. With ``local`` (an
        in-process call), answer text that arrives while the reader waits for it goes to
        the reader's direct reader, when it offers one and is ready, within the callback
        that received it (``taken_as_it_arrives``); everything else is yielded."""
        upstream = call.model.upstream
        writer = call.writer
        stream = not call.whole
        keeps_thinking = "thinking" in call.params
        clock = UpstreamClock(call.model.upstream_timeout_s, per_event=stream, model=upstream)
        opening = clock.bounding(self._messages.open(call.params, stream=stream))
        del call  # the prompt is not kept while the answer is read (nor by the caller)
        try:
            with observing_upstream(upstream):
                async with opening as response:
                    for event in writer.start():
                        yield Answer(data=event)
                    next_batch: Callable[[], Awaitable[list[Fields] | None]]
                    if stream:
                        taken = (
                            None
                            if local is None
                            else taken_as_it_arrives(
                                local, clock, writer.plain_text_events, each_as(_as_answer)
                            )
                        )
                        next_batch = UpstreamEvents(response, taken).next_batch
                    else:
                        next_batch = whole_message_reader(response)
                    while True:
                        with clock:  # one wait, bounded without a coroutine of its own
                            batch = await next_batch()
                        if batch is None:
                            break
                        for item in batch:
                            for event in writer.events_from(item):
                                yield Answer(data=event)
                if writer.stop_reason is None:
                    raise UpstreamUnavailable("The upstream stream ended before the message did.")
        except UpstreamError as exc:
            raise error_from_upstream(exc, upstream) from exc
        except httpx2.HTTPError as exc:
            raise UpstreamUnavailable("The upstream stream broke off.") from exc
        finally:
            clock.stop()
        if keeps_thinking and writer.tool_call_ids and writer.thinking_blocks:
            await put_quietly(self._thinking, writer.tool_call_ids, writer.thinking_blocks)
        for event in writer.finish():
            yield Answer(data=event)
        yield Answer(usage=writer.usage)


def _as_answer(data: bytes) -> Answer:
    return Answer(data=data)
