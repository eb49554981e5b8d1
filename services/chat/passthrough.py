"""Anthropic's Messages API passed through (``Messages`` and ``CountTokens``).

Nothing is translated. The client's body goes upstream with its ``model`` replaced by the
model table's upstream id, after Drafter's own limits (``passthrough_body``); of the
client's headers only ``anthropic-version`` and ``anthropic-beta`` go on (over the
client's defaults, whose credentials are the service's own upstream key), and the query
string (``?beta=true``) as sent. The answer comes back as the upstream sent it: its status
and the headers a client reads, then its body (the whole JSON, or one message per complete
server-sent event as it arrives, ``passthrough_events``), then the usage when the message
ended.

One upstream attempt per call: the client's own SDK retries what it wants to (Anthropic's
``x-should-retry`` and ``retry-after`` reach it unchanged), so retries never multiply. An
error status is passed on verbatim, except the ones that are the operator's to fix and
must never read as the caller's (the upstream refusing the service's key, 401/403, or a
model id of the model table, 404): those go through the one error table
(``upstream.errors``), as on the chat completions path. Every wait on the upstream is
bounded by the model's ``upstream_timeout_s`` (``upstream.clock``): the whole answer, or
for a stream its opening and each next event.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable, Iterable
from dataclasses import dataclass

import httpx2

from drafter.chat.v1 import chat_service_pb2 as chat_pb
from drafter.model_table import ModelSpec, ModelTable
from drafter.rpc.errors import InvalidRequest, UpstreamUnavailable
from drafter.rpc.local import LocalContext
from drafter.services.chat.as_it_arrives import each_as, taken_as_it_arrives
from drafter.services.chat.passthrough_body import upstream_body
from drafter.services.chat.passthrough_events import EventSplitter, UsageReader
from drafter.services.chat.upstream.client import MESSAGES_PATH, MessagesApi
from drafter.services.chat.upstream.clock import UpstreamClock
from drafter.services.chat.upstream.errors import error_from_upstream
from drafter.services.chat.upstream.events import ArrivingEvents
from drafter.services.chat.upstream.exceptions import UpstreamError, status_error

COUNT_TOKENS_PATH = MESSAGES_PATH + "/count_tokens"
# The client's headers the upstream sees; never a credential.
FORWARDED_HEADERS = frozenset({"anthropic-version", "anthropic-beta"})
# The upstream's headers a client reads.
ANSWER_HEADERS = frozenset(
    {"content-type", "request-id", "retry-after", "retry-after-ms", "x-should-retry"}
)
# Upstream refusals that are the operator's to fix (our key, our model table).
OPERATOR_STATUSES = frozenset({401, 403, 404})

Answer = chat_pb.MessagesResponse


@dataclass(frozen=True, slots=True)
class PassthroughCall:
    """A Messages request ready to send: where, what, with which headers."""

    model: ModelSpec
    path: str
    content: bytes
    headers: dict[str, str]
    stream: bool


def forwarded_headers(headers: Iterable[chat_pb.HttpHeader]) -> dict[str, str]:
    """The client's headers the upstream must see; a repeated one joined with commas."""
    kept: dict[str, str] = {}
    for header in headers:
        name = header.name.lower()
        if name in FORWARDED_HEADERS:
            kept[name] = f"{kept[name]},{header.value}" if name in kept else header.value
    return kept


def _head(response: httpx2.Response) -> chat_pb.UpstreamHead:
    headers = [
        chat_pb.HttpHeader(name=name, value=value)
        for name, value in response.headers.items()
        if name in ANSWER_HEADERS
    ]
    return chat_pb.UpstreamHead(status=response.status_code, headers=headers)


def _path(path: str, query: str) -> str:
    return f"{path}?{query}" if query else path


class MessagesPassthrough:
    """Sends passed-through requests over the service's one upstream client."""

    def __init__(self, messages: MessagesApi, models: ModelTable) -> None:
        self._messages = messages
        self._models = models

    def _chat_model(self, name: str) -> ModelSpec:
        model = self._models.resolve(name)
        if model.kind != "chat":
            raise InvalidRequest(
                f"The model `{name}` is not a chat model.", metadata={"param": "model"}
            )
        return model

    def prepare(self, request: chat_pb.MessagesRequest) -> PassthroughCall:
        """The upstream request for ``request``; a 400 for what Drafter refuses itself."""
        model = self._chat_model(request.model)
        body = upstream_body(request.body, model)
        return PassthroughCall(
            model,
            _path(MESSAGES_PATH, request.query),
            body.content,
            forwarded_headers(request.headers),
            body.stream,
        )

    async def answers(
        self, call: PassthroughCall, local: LocalContext | None = None
    ) -> AsyncGenerator[Answer, None]:
        """The head, the body (whole, or event by event), then the usage when the message
        ended; upstream failures before an answer as DrafterErrors. With ``local`` (an
        in-process call), a stream's events may be taken as they arrive
        (``_stream_answers``)."""
        upstream, stream = call.model.upstream, call.stream
        clock = UpstreamClock(call.model.upstream_timeout_s, per_event=stream, model=upstream)
        sending = self._messages.send_once(call.path, call.content, call.headers)
        del call  # the prompt is not kept while the answer is read (nor by the caller)
        try:
            response = await clock.wait(sending)
            del sending
            try:
                await self._refuse_operator_errors(response, clock)
                yield Answer(head=_head(response))
                if not response.is_success or not stream:
                    body = await clock.wait(response.aread())
                    yield Answer(body=body)
                    if response.is_success:
                        reader = UsageReader()
                        reader.read_message(body)
                        yield Answer(usage=reader.usage)
                    return
                async for answer in _stream_answers(response, clock, local):
                    yield answer
            finally:
                await response.aclose()
        except UpstreamError as exc:
            raise error_from_upstream(exc, upstream) from exc
        except httpx2.HTTPError as exc:
            raise UpstreamUnavailable("The upstream stream broke off.") from exc
        finally:
            clock.stop()

    async def count_tokens(
        self, request: chat_pb.CountTokensRequest
    ) -> chat_pb.CountTokensResponse:
        """The upstream's token count for the body (no limits: nothing is generated)."""
        model = self._chat_model(request.model)
        body = upstream_body(request.body, model, with_limits=False)
        headers = forwarded_headers(request.headers)
        clock = UpstreamClock(model.upstream_timeout_s, per_event=False, model=model.upstream)
        path = _path(COUNT_TOKENS_PATH, request.query)
        try:
            response = await clock.wait(self._messages.send_once(path, body.content, headers))
            try:
                await self._refuse_operator_errors(response, clock)
                content = await clock.wait(response.aread())
            finally:
                await response.aclose()
        except UpstreamError as exc:
            raise error_from_upstream(exc, model.upstream) from exc
        except httpx2.HTTPError as exc:
            raise UpstreamUnavailable("The upstream answer broke off.") from exc
        finally:
            clock.stop()
        return chat_pb.CountTokensResponse(head=_head(response), body=content)

    async def _refuse_operator_errors(
        self, response: httpx2.Response, clock: UpstreamClock
    ) -> None:
        if response.status_code in OPERATOR_STATUSES:
            await clock.wait(response.aread())
            raise status_error(response)


async def _stream_answers(
    response: httpx2.Response, clock: UpstreamClock, local: LocalContext | None = None
) -> AsyncGenerator[Answer, None]:
    """A streamed answer's events, one message each as it completes, then its usage (only
    when the message ended: after an upstream ``error`` event there is none). With
    ``local`` (an in-process call), events that complete while the reader waits for them
    go to the reader's direct reader, when it offers one and is ready, within the callback
    that received them (``taken_as_it_arrives``): nothing here is translated, so every
    event may go that way; the usage is read from each either way."""
    reader = UsageReader()
    failed = False

    def passed(event: bytes) -> tuple[bytes]:
        nonlocal failed
        failed = reader.read_event(event) == b"error" or failed
        return (event,)

    taken = None if local is None else taken_as_it_arrives(local, clock, passed, each_as(_body))
    events = _PassedEvents(response, taken)
    while True:
        with clock:  # one wait, bounded without a coroutine of its own per event
            batch = await events.next_batch()
        if batch is None:
            break
        for event in batch:
            passed(event)
            yield Answer(body=event)
    if reader.stopped:
        yield Answer(usage=reader.usage)
    elif not failed:
        raise UpstreamUnavailable("The upstream stream ended before the message did.")


def _body(event: bytes) -> Answer:
    return Answer(body=event)


class _PassedEvents(ArrivingEvents[bytes]):
    """A streamed answer's complete events, each exactly as it arrived
    (:class:`ArrivingEvents`)."""

    def __init__(
        self, response: httpx2.Response, on_arrival: Callable[[bytes], bool] | None
    ) -> None:
        self._splitter = EventSplitter()
        super().__init__(response, on_arrival)

    def _feed(self, chunk: bytes) -> list[bytes]:
        return self._splitter.feed(chunk)

    def _last(self) -> list[bytes]:
        rest = self._splitter.rest()
        return [rest] if rest.strip() else []
