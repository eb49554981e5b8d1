"""What a streamed response keeps of its request until it completes: with ``store`` false
nothing (a Codex prompt is often 100 KB, and a stream may last minutes); stored, its
input items, which are stored with it."""

from __future__ import annotations

from typing import cast

from drafter.edge.deps import ApiContext
from drafter.edge.responses.protocol import ResponsesRequest
from drafter.edge.responses.routes import _storing
from tests.support.held import holds

MARKER = b"prompt-marker-51c2"
PROMPT = (MARKER.decode() + " refactor this module. ") * 1_000


def _finished(store: bool) -> object:
    body = ResponsesRequest.model_validate(
        {"model": "claude-haiku-4-5", "input": PROMPT, "store": store, "stream": True}
    )
    return _storing(cast(ApiContext, object()), body, [], body.input_items())


def test_a_response_not_stored_holds_nothing_of_its_request() -> None:
    assert not holds(_finished(store=False), MARKER)


def test_a_stored_response_holds_its_input_items_to_store_them() -> None:
    assert holds(_finished(store=True), MARKER)
