"""Which adjacent stream events merge: pieces of the same choice and kind only."""

from __future__ import annotations

import pytest

from drafter.chat.v1 import chat_service_pb2 as chat_pb
from services.chat.coalesce import merge_into

E = chat_pb.StreamCompleteResponse
D = chat_pb.Delta
T = chat_pb.ToolCallDelta


def text(s: str, choice: int = 0) -> E:
    return E(delta=D(choice_index=choice, text=s))


@pytest.mark.parametrize(
    ("first", "second", "merged", "expected"),
    [
        (text("ab"), text("cd"), True, text("abcd")),
        (text("ab", 0), text("cd", 1), False, text("ab", 0)),
        (E(delta=D(reasoning="x")), E(delta=D(reasoning="y")), True, E(delta=D(reasoning="xy"))),
        (text("ab"), E(delta=D(reasoning="y")), False, text("ab")),
        (
            E(delta=D(tool_call=T(index=0, id="c1", name="f", arguments_json='{"a"'))),
            E(delta=D(tool_call=T(index=0, arguments_json=": 1}"))),
            True,
            E(delta=D(tool_call=T(index=0, id="c1", name="f", arguments_json='{"a": 1}'))),
        ),
        (
            E(delta=D(tool_call=T(index=0, arguments_json="{}"))),
            E(delta=D(tool_call=T(index=1, id="c2", name="g"))),
            False,
            E(delta=D(tool_call=T(index=0, arguments_json="{}"))),
        ),
        (text("ab"), E(finished=chat_pb.ChoiceFinished()), False, text("ab")),
        (E(usage=chat_pb.Usage()), E(usage=chat_pb.Usage()), False, E(usage=chat_pb.Usage())),
    ],
)
def test_merge_into(first: E, second: E, merged: bool, expected: E) -> None:
    assert merge_into(first, second) is merged
    assert first == expected
