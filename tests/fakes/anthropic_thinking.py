"""Signed thinking as the live API checks it: a ``thinking`` block sent back in a request
must be one the API issued, its ``thinking`` text and ``signature`` unchanged; anything
else is a 400 "messages.{i}.content.{j}: Invalid `signature` in `thinking` block".

Sources: the live 400 as quoted in anthropics/claude-code#10627; Anthropic's answer in
anthropics/anthropic-sdk-python#1598 ("the check fails when a thinking/redacted_thinking
block reaching the API differs in any way from what was originally returned"); the
extended thinking page (thinking blocks of earlier turns are sent back with their
signatures). A block without a signature is refused by the request schema.
"""

from __future__ import annotations

from typing import Any


class SignedThinking:
    """The signatures the fake issued, each with the thinking text it signed."""

    def __init__(self) -> None:
        self._issued: dict[str, str] = {}

    def issue(self, signature: str, thinking: str) -> None:
        self._issued[signature] = thinking

    def error(self, body: dict[str, Any]) -> str | None:
        """The live API's 400 message for the first thinking block it would refuse."""
        for i, message in enumerate(body.get("messages") or []):
            content = message.get("content") if isinstance(message, dict) else None
            if message.get("role") != "assistant" or not isinstance(content, list):
                continue
            for j, block in enumerate(content):
                if not isinstance(block, dict) or block.get("type") != "thinking":
                    continue
                if "signature" not in block:
                    return f"messages.{i}.content.{j}.thinking.signature: Field required"
                if self._issued.get(block["signature"]) != block.get("thinking"):
                    return f"messages.{i}.content.{j}: Invalid `signature` in `thinking` block"
        return None
