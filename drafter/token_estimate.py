"""The one estimate of tokens from text, where the upstream gives no count: a stream the
edge or the chat service ended before the upstream's final usage arrived."""

from __future__ import annotations

# Anthropic's rule of thumb for English text.
CHARS_PER_TOKEN = 4


def estimated_tokens(chars: int) -> int:
    """Tokens for ``chars`` characters of text, rounded up."""
    return -(-chars // CHARS_PER_TOKEN)
