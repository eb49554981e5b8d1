"""Stop sequences the upstream refuses: which they are, and cutting text at them."""

from __future__ import annotations

import pytest

from drafter.services.chat.stop_sequences import StopScanner, split_stop_sequences


def test_split_keeps_whitespace_only_sequences_here() -> None:
    assert split_stop_sequences(["END", "\n", " \t", "", "\n", "a\n"]) == (
        ["END", "a\n"],
        ["\n", " \t"],
    )


@pytest.mark.parametrize(
    ("stops", "pieces", "kept", "stopped"),
    [
        (["\n"], ["ab", "c\nd"], "abc", True),
        (["\n\n"], ["a\n", "\nb"], "a", True),
        (["\n\n"], ["a\n", "b\n"], "a\nb\n", False),  # the held "\n" is flushed at the end
        (["\n\n", " \n"], ["x \n\n"], "x", True),  # the first occurrence of any of them
        ([" "], ["", "no-spaces"], "no-spaces", False),
    ],
)
def test_scanner_cuts_at_the_first_occurrence(
    stops: list[str], pieces: list[str], kept: str, stopped: bool
) -> None:
    scanner = StopScanner(stops)

    out = "".join(scanner.feed(piece) for piece in pieces) + scanner.flush()

    assert (out, scanner.stopped) == (kept, stopped)


def test_nothing_passes_after_a_stop() -> None:
    scanner = StopScanner(["\n"])
    scanner.feed("a\nb")

    assert (scanner.feed("more"), scanner.flush()) == ("", "")
