"""Stop sequences the upstream refuses (whitespace-only, such as ``"\\n"``), enforced here.

The Messages API refuses a stop sequence without a non-whitespace character, while OpenAI
clients send ``"\\n"`` routinely. :func:`split_stop_sequences` keeps those out of the
upstream request; a :class:`StopScanner` watches the answer's text on the way back and cuts
it at the first occurrence of any of them (the caller then ends the upstream call early and
reports ``finish_reason: stop``). Text that may be the start of a stop sequence is held
back until the next piece tells.
"""

from __future__ import annotations

from collections.abc import Iterable


def is_upstream_stop(sequence: str) -> bool:
    """Whether the upstream takes ``sequence`` (it must contain a non-whitespace character)."""
    return bool(sequence.strip())


def split_stop_sequences(stop: Iterable[str]) -> tuple[list[str], list[str]]:
    """(sent upstream, enforced by Drafter); empty strings stop nothing and are dropped."""
    upstream: list[str] = []
    local: list[str] = []
    for sequence in stop:
        if is_upstream_stop(sequence):
            upstream.append(sequence)
        elif sequence and sequence not in local:
            local.append(sequence)
    return upstream, local


class StopScanner:
    """Cuts a text that arrives in pieces at the first occurrence of any of ``stops``."""

    def __init__(self, stops: Iterable[str]) -> None:
        self.stops = tuple(s for s in stops if s)
        self.stopped = False
        self._held = ""

    def feed(self, text: str) -> str:
        """The part of ``text`` (after what was held back) that is surely answer; sets
        :attr:`stopped` when a stop sequence was found (nothing after it is answer)."""
        if self.stopped:
            return ""
        buffer = self._held + text
        cut = min((i for i in (buffer.find(s) for s in self.stops) if i >= 0), default=-1)
        if cut >= 0:
            self.stopped, self._held = True, ""
            return buffer[:cut]
        keep = self._pending_length(buffer)
        self._held = buffer[len(buffer) - keep :]
        return buffer[: len(buffer) - keep]

    def flush(self) -> str:
        """What was held back, at the end of a text (it did not become a stop sequence)."""
        held, self._held = self._held, ""
        return "" if self.stopped else held

    def _pending_length(self, buffer: str) -> int:
        """The length of the longest end of ``buffer`` that begins some stop sequence."""
        longest = 0
        for stop in self.stops:
            for size in range(min(len(stop) - 1, len(buffer)), longest, -1):
                if buffer.endswith(stop[:size]):
                    longest = size
                    break
        return longest
