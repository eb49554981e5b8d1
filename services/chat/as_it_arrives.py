"""What an in-process stream takes as it arrives from upstream: its short way (the
``on_arrival`` of ``UpstreamEvents`` and of the Messages passthrough's events), shared by
chat completions, Responses and the Messages passthrough.

What an event is made of on the way to the reader is the caller's: each item as a
message of the call (:func:`each_as`), or, for chat completions, answer text as it is
(:func:`as_text`), to a reader that takes text without a message made of it."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Protocol, TypeVar

from drafter.rpc.local import DirectReader, LocalContext
from drafter.services.chat.upstream.clock import UpstreamClock

Event = TypeVar("Event")
Item = TypeVar("Item")
Hand = Callable[[DirectReader, Item], None]


def taken_as_it_arrives(
    local: LocalContext,
    clock: UpstreamClock,
    translate: Callable[[Event], Item | None],
    hand: Hand[Item],
) -> Callable[[Event], bool]:
    """What takes an upstream event as it arrives: the event, translated by ``translate``
    (None for one that is not to be taken this way, such as anything but answer text on
    the translated paths), handed by ``hand`` to the in-process reader's direct reader,
    which writes it out at once, when it is ready. False (the event is yielded, as every
    event after it) for anything else, or when no reader is ready; ``translate`` is
    called only for an event the reader is ready for."""

    def taken(event: Event) -> bool:
        reader = local.direct_reader
        if reader is None or not reader.ready():
            return False
        item = translate(event)
        if item is None:
            return False
        clock.heard()
        hand(reader, item)
        return True

    return taken


def each_as(message: Callable[[Item], object]) -> Hand[Iterable[Item]]:
    """Hands each of a translation's items to the reader as ``message(item)``."""

    def hand(reader: DirectReader, items: Iterable[Item]) -> None:
        for item in items:
            reader(message(item))

    return hand


class TextReader(Protocol):
    """A direct reader of a chat completion that also takes answer text as it is."""

    def text(self, choice_index: int, text: str) -> None:
        """Takes ``text`` as the choice's next delta: what the reader would make of the
        message of a delta of that text."""
        ...


def as_text(choice_index: int, message: Callable[[str], object]) -> Hand[str]:
    """Hands answer text (none when empty) to a :class:`TextReader` as it is, with no
    message made of it and read back (about 1.7 µs an event on the machine measured); to
    any other reader as ``message(text)``."""

    def hand(reader: DirectReader, text: str) -> None:
        if text:
            take_text: Callable[[int, str], None] | None = getattr(reader, "text", None)
            if take_text is not None:
                take_text(choice_index, text)
            else:
                reader(message(text))

    return hand
