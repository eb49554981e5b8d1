"""Answer text taken as it arrives: an in-process stream's short way (``UpstreamEvents``'
``on_arrival``), shared by chat completions and Responses."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from drafter.rpc.local import LocalContext
from drafter.services.chat.upstream.clock import UpstreamClock
from drafter.services.chat.upstream.events import Fields

Item = TypeVar("Item")


def text_taken_as_it_arrives(
    local: LocalContext,
    clock: UpstreamClock,
    plain_text_events: Callable[[Fields], Sequence[Item] | None],
    message: Callable[[Item], object] | None = None,
) -> Callable[[Fields], bool]:
    """What takes an upstream event as it arrives: answer text, translated by
    ``plain_text_events`` (None for anything that is not plain text), each item made the
    call's ``message`` (as it is, without one) and handed to the in-process reader's
    direct reader, which writes it out at once, when it is ready. False (the event is
    yielded, as every event after it) for anything else, or when no reader is ready."""

    def taken(event: Fields) -> bool:
        reader = local.direct_reader
        if reader is None or not reader.ready():
            return False
        events = plain_text_events(event)
        if events is None:
            return False
        clock.heard()
        if message is None:
            for item in events:
                reader(item)
        else:
            for item in events:
                reader(message(item))
        return True

    return taken
