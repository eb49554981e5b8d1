"""What an in-process stream takes as it arrives from upstream: its short way (the
``on_arrival`` of ``UpstreamEvents`` and of the Messages passthrough's events), shared by
chat completions, Responses and the Messages passthrough."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from drafter.rpc.local import LocalContext
from drafter.services.chat.upstream.clock import UpstreamClock

Event = TypeVar("Event")
Item = TypeVar("Item")


def taken_as_it_arrives(
    local: LocalContext,
    clock: UpstreamClock,
    translate: Callable[[Event], Sequence[Item] | None],
    message: Callable[[Item], object] | None = None,
) -> Callable[[Event], bool]:
    """What takes an upstream event as it arrives: the event, translated by ``translate``
    (None for one that is not to be taken this way, such as anything but answer text on
    the translated paths), each item made the call's ``message`` (as it is, without one)
    and handed to the in-process reader's direct reader, which writes it out at once,
    when it is ready. False (the event is yielded, as every event after it) for anything
    else, or when no reader is ready; ``translate`` is called only for an event the
    reader is ready for."""

    def taken(event: Event) -> bool:
        reader = local.direct_reader
        if reader is None or not reader.ready():
            return False
        items = translate(event)
        if items is None:
            return False
        clock.heard()
        if message is None:
            for item in items:
                reader(item)
        else:
            for item in items:
                reader(message(item))
        return True

    return taken
