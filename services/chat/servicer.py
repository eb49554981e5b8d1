"""ChatService: resolves the model, calls Anthropic and translates back.

Both RPCs share one path: every choice is one upstream call whose message events
``from_anthropic`` turns into proto events, a batch per upstream read (coalesced as they
arrive, ``coalesce``; several choices' interleaved, ``interleaved``); StreamComplete
forwards them, Complete folds them into Choices. StreamComplete always streams from
upstream. One choice (the common case) is read straight off its upstream call: a stream's
reads are its events, and each generator between the call and the caller would be passed
through once per event.
Complete asks for the whole Message (one JSON body instead of an event per token, about
a quarter less CPU per request), unfolded into the same events, unless the answer may be
long (more than ``WHOLE_ANSWER_MAX_TOKENS``): then it streams too, as Anthropic advises
for requests that may run for minutes. Closing the event stream (the caller went away,
or an error) closes the upstream HTTP response.

Each upstream call is bounded by its model's ``upstream_timeout_s`` (the model table): a
call for the whole Message must be answered within it, a streamed one must open and then
send each next event within it (Anthropic pings a stream while the model thinks, so a
long answer that keeps coming is never cut). Past it the call is closed and fails as
``UPSTREAM_TIMEOUT`` (DEADLINE_EXCEEDED; the edge answers 504 and bills by what was sent).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Sequence
from contextlib import aclosing
from dataclasses import dataclass
from typing import Any

import httpx2
from grpc import aio

from drafter.chat.v1 import chat_service_pb2 as chat_pb
from drafter.chat.v1 import chat_service_pb2_grpc as chat_grpc
from drafter.common.v1 import usage_pb2 as usage_pb
from drafter.limits import MAX_CHOICES
from drafter.model_table import DEFAULT_UPSTREAM_TIMEOUT_S, ModelTable
from drafter.rpc.errors import InvalidRequest, UpstreamUnavailable
from drafter.rpc.local import LocalContext
from drafter.services.chat.as_it_arrives import as_text, taken_as_it_arrives
from drafter.services.chat.coalesce import coalesce, interleaved
from drafter.services.chat.from_anthropic import ChoiceBuilder, ChoiceStream, add_usage
from drafter.services.chat.model_rules import effort_from_request
from drafter.services.chat.output_format import format_tool_name
from drafter.services.chat.passthrough import MessagesPassthrough
from drafter.services.chat.prompt_cache import PromptCacheMode
from drafter.services.chat.reservation_check import ReservationCheck
from drafter.services.chat.responses.respond import Responder
from drafter.services.chat.stop_sequences import split_stop_sequences
from drafter.services.chat.thinking_store import ThinkingStore, get_quietly, put_quietly
from drafter.services.chat.to_anthropic import message_params_from_request
from drafter.services.chat.upstream.client import MessagesApi
from drafter.services.chat.upstream.clock import UpstreamClock as _UpstreamClock
from drafter.services.chat.upstream.errors import error_from_upstream
from drafter.services.chat.upstream.events import (
    WHOLE_ANSWER_MAX_TOKENS,
    UpstreamEvents,
    whole_message_reader,
)
from drafter.services.chat.upstream.exceptions import UpstreamError
from drafter.services.chat.upstream.key_pool import upstream_keys_response
from drafter.upstream_observer import observing_upstream

Event = chat_pb.StreamCompleteResponse
Batches = AsyncGenerator[list[Event], None]


@dataclass(frozen=True, slots=True)
class UpstreamCall:
    """A validated request, ready to send: the create() arguments and how many choices."""

    params: dict[str, Any]
    n: int
    include_reasoning: bool
    format_tool: str | None = None
    local_stops: tuple[str, ...] = ()  # stop sequences Drafter enforces (stop_sequences)
    # The model's upstream_timeout_s (see the module docstring).
    timeout_s: float = DEFAULT_UPSTREAM_TIMEOUT_S

    @property
    def upstream_model(self) -> str:
        return str(self.params["model"])

    @property
    def thinking(self) -> bool:
        return "thinking" in self.params

    @property
    def short(self) -> bool:
        """Whether the answer is bounded short enough to be asked for whole."""
        return int(self.params["max_tokens"]) <= WHOLE_ANSWER_MAX_TOKENS

    def choice(self, index: int) -> ChoiceStream:
        return ChoiceStream(
            index,
            include_reasoning=self.include_reasoning,
            keep_thinking=self.thinking,
            format_tool=self.format_tool,
            local_stops=self.local_stops,
        )


class ChatServicer(chat_grpc.ChatServiceServicer):
    """Complete and StreamComplete over the one upstream client (the Messages API:
    ``upstream.client``), Respond (OpenAI's Responses API, ``responses``)
    over the same client, and Messages and CountTokens passing that API through
    untranslated (``passthrough``); each request admitted by the reservation it
    names (``reservation_check``)."""

    def __init__(
        self,
        messages: MessagesApi,
        models: ModelTable,
        thinking: ThinkingStore,
        reservations: ReservationCheck,
        prompt_cache: PromptCacheMode = "auto",
    ) -> None:
        self._messages = messages
        self._models = models
        self._prompt_cache: PromptCacheMode = prompt_cache
        self._thinking = thinking
        self._reservations = reservations
        self._passthrough = MessagesPassthrough(messages, models)
        self._responder = Responder(messages, models, thinking, prompt_cache)

    async def Complete(
        self, request: chat_pb.CompleteRequest, context: aio.ServicerContext
    ) -> chat_pb.CompleteResponse:
        call = await self._prepare(request.request, request.reservation_id)
        builders = [ChoiceBuilder(i) for i in range(call.n)]
        response = chat_pb.CompleteResponse(upstream_model=call.upstream_model)
        choices, batches = self._batches(call, stream=not call.short)
        async with aclosing(batches):
            async for batch in batches:
                for event in coalesce(batch):
                    builders[_choice_index(event)].add(event)
        response.usage.CopyFrom(_total_usage(choices))
        response.choices.extend(builder.build() for builder in builders)
        return response

    async def StreamComplete(
        self, request: chat_pb.StreamCompleteRequest, context: aio.ServicerContext
    ) -> AsyncIterator[Event]:
        call = await self._prepare(request.request, request.reservation_id)
        del request  # a stream may last minutes: nothing it no longer needs stays alive
        local = _in_process(context)  # its reader may take answer text as it arrives
        choices, batches = self._batches(call, stream=True, local=local)
        del call  # the request's parameters went to the upstream calls
        async with aclosing(batches):
            async for batch in batches:
                if len(batch) == 1:  # a model at its own pace: one event per read
                    yield batch[0]
                else:
                    for event in coalesce(batch):
                        yield event
                del batch  # not kept while the next one is awaited
        yield Event(usage=_total_usage(choices))

    async def Messages(
        self, request: chat_pb.MessagesRequest, context: aio.ServicerContext
    ) -> AsyncIterator[chat_pb.MessagesResponse]:
        call = self._passthrough.prepare(request)
        self._reservations.admit(request.reservation_id, call.model.id)
        del request  # a stream may last minutes: its prompt does not stay alive
        local = _in_process(context)  # its reader may take the events as they arrive
        answering = self._passthrough.answers(call, local)
        del call  # held by the answers until sent
        async with aclosing(answering) as answers:
            async for answer in answers:
                yield answer

    async def CountTokens(
        self, request: chat_pb.CountTokensRequest, context: aio.ServicerContext
    ) -> chat_pb.CountTokensResponse:
        return await self._passthrough.count_tokens(request)

    async def GetUpstreamKeys(
        self, request: chat_pb.GetUpstreamKeysRequest, context: aio.ServicerContext
    ) -> chat_pb.GetUpstreamKeysResponse:
        # An operator's read of the key pool (upstream/key_pool.py): no reservation.
        return upstream_keys_response(self._messages.key_health())

    async def Respond(
        self, request: chat_pb.RespondRequest, context: aio.ServicerContext
    ) -> AsyncIterator[chat_pb.RespondResponse]:
        call = await self._responder.prepare(request)
        self._reservations.admit(request.reservation_id, call.model.id)
        del request  # a stream may last minutes: its prompt does not stay alive
        local = _in_process(context)  # its reader may take answer text as it arrives
        answering = self._responder.answers(call, local)
        del call  # held by the answers until sent
        async with aclosing(answering) as answers:
            async for answer in answers:
                yield answer

    async def _prepare(self, req: chat_pb.ChatRequest, reservation_id: str) -> UpstreamCall:
        model = self._models.resolve(req.model)
        if model.kind != "chat":
            raise InvalidRequest(
                f"The model `{req.model}` is not a chat model.", metadata={"param": "model"}
            )
        self._reservations.admit(reservation_id, model.id)
        n = req.n or 1
        if not 1 <= n <= MAX_CHOICES:
            raise InvalidRequest(f"n must be between 1 and {MAX_CHOICES}.", metadata={"param": "n"})
        kept = await self._kept_thinking(req)
        params = message_params_from_request(
            req, model, kept_thinking=kept, prompt_cache=self._prompt_cache
        )
        _, local_stops = split_stop_sequences(req.stop)
        return UpstreamCall(
            params,
            n,
            req.include_reasoning,
            format_tool_name(req, model),
            tuple(local_stops),
            timeout_s=model.upstream_timeout_s,
        )

    async def _kept_thinking(self, req: chat_pb.ChatRequest) -> dict[str, list[dict[str, Any]]]:
        """With thinking on, the kept thinking of the assistant turns that called tools."""
        if effort_from_request(req) is None:
            return {}
        ids = [c.id for m in req.messages if m.role == chat_pb.ROLE_ASSISTANT for c in m.tool_calls]
        return await get_quietly(self._thinking, ids) if ids else {}

    def _batches(
        self, call: UpstreamCall, *, stream: bool, local: LocalContext | None = None
    ) -> tuple[list[ChoiceStream], Batches]:
        """Every choice (whose usage adds up once its batches are read) and their batches
        of events: one choice's as its upstream call reads them (its text taken as it
        arrives by ``local``'s direct reader, if any), several interleaved."""
        choices = [call.choice(i) for i in range(call.n)]
        store = self._thinking if call.thinking else None
        streams = [
            _choice_batches(
                self._messages,
                call.params,
                c,
                store,
                stream,
                call.timeout_s,
                local=local if call.n == 1 else None,
            )
            for c in choices
        ]
        return choices, streams[0] if len(streams) == 1 else interleaved(streams)


async def _choice_batches(
    messages: MessagesApi,
    params: dict[str, Any],
    choice: ChoiceStream,
    store: ThinkingStore | None,
    stream: bool,
    timeout_s: float = DEFAULT_UPSTREAM_TIMEOUT_S,
    *,
    local: LocalContext | None = None,
) -> AsyncGenerator[list[Event], None]:
    """One upstream call (streaming, or for the whole Message) as proto events, a list per
    upstream read, each wait bounded by ``timeout_s`` (``_UpstreamClock``); upstream
    failures as DrafterErrors. With ``store``, the turn's thinking is kept before its end
    is announced, so a client that answers the tool calls at once finds it. The call is
    observed (``observing_upstream``) from its opening to its end.

    With ``local`` (an in-process call), answer text that arrives while the reader waits
    for it goes to the reader's direct reader, when it offers one and is ready, within
    the callback that received it (``taken_as_it_arrives``); everything else, and
    all of it otherwise, is yielded."""
    model = str(params["model"])
    clock = _UpstreamClock(timeout_s, per_event=stream, model=model)
    try:
        with observing_upstream(model):
            async with clock.bounding(messages.open(params, stream=stream)) as response:
                del params  # sent: the prompt is not kept while the answer is read
                next_batch = (
                    UpstreamEvents(
                        response,
                        None
                        if local is None
                        else taken_as_it_arrives(
                            local,
                            clock,
                            choice.plain_text,
                            as_text(choice.index, choice.text_delta),
                        ),
                    ).next_batch
                    if stream
                    else whole_message_reader(response)
                )
                while True:
                    with clock:  # one wait, bounded without a coroutine of its own per event
                        upstream_batch = await next_batch()
                    if upstream_batch is None:
                        break
                    batch = [event for item in upstream_batch for event in choice.events_from(item)]
                    del upstream_batch
                    if (
                        store is not None
                        and choice.has_thinking_to_keep
                        and any(event.HasField("finished") for event in batch)
                    ):
                        await put_quietly(store, choice.tool_call_ids, choice.thinking_blocks)
                    if batch:
                        yield batch
                    del batch  # not kept while the next one is awaited
                    if choice.stopped_early:
                        break  # closes the upstream response: the rest is not wanted
            if choice.stop_reason is None:
                raise UpstreamUnavailable("The upstream stream ended before the message did.")
    except UpstreamError as exc:
        raise error_from_upstream(exc, model) from exc
    except httpx2.HTTPError as exc:
        raise UpstreamUnavailable("The upstream stream broke off.") from exc
    finally:
        clock.stop()


def _in_process(context: aio.ServicerContext) -> LocalContext | None:
    """An in-process call's context, whose reader may take what arrives from upstream
    (``as_it_arrives``); None over gRPC."""
    return context if isinstance(context, LocalContext) else None


def _total_usage(choices: Sequence[ChoiceStream]) -> usage_pb.TokenUsage:
    """One usage over every choice (each its own upstream call), once all were read."""
    total = usage_pb.TokenUsage()
    for choice in choices:
        add_usage(total, choice.usage)
    return total


def _choice_index(event: Event) -> int:
    if event.WhichOneof("event") == "finished":
        return event.finished.choice_index
    return event.delta.choice_index
