"""The models Anthropic's live Messages API serves, as data for the fake server.

This is Anthropic's catalog, not Drafter's: nothing here comes from ``drafter/models.toml``.
A request naming an id that is not listed is answered 404 by the fake, as the live API
answers it. Where each column comes from:

- ids, aliases, the id echoed in ``model``, max output tokens, context window: the models
  overview, https://platform.claude.com/docs/en/about-claude/models/overview, and the live
  400 ``max_tokens: <n> > <max>, which is the maximum allowed number of output tokens for
  <id>`` (it names the dated id for an alias).
- ``thinking_types``: extended thinking (``enabled``, budget_tokens >= 1024 and below
  max_tokens), https://platform.claude.com/docs/en/build-with-claude/extended-thinking;
  adaptive thinking (the 4.6 models and later; Haiku 4.5 answers 400 "adaptive thinking is
  not supported on this model"), .../build-with-claude/adaptive-thinking; Opus 4.7 takes
  only ``adaptive`` ("enabled" and "disabled" are a 400), .../about-claude/models/
  whats-new-claude-opus-4-7 and .../about-claude/models/migration-guide.
- ``effort_levels``: .../build-with-claude/effort (Opus 4.5: low, medium, high; the 4.6
  models add max; Opus 4.7 adds xhigh; Sonnet 4.5 and Haiku 4.5 take no effort at all).
- ``sampling_defaults_only``: Opus 4.7 removed temperature, top_p and top_k (the migration
  guide; the live 400 is "`temperature` is deprecated for this model.").
- ``temperature_with_top_p``: the Claude 4.5 migration notes (temperature or top_p, not
  both; the live 400 is "`temperature` and `top_p` cannot both be specified for this
  model. Please use only one.").
- ``structured_outputs``: ``output_config.format``, .../build-with-claude/structured-outputs.
- ``assistant_prefill``: "Prefilling assistant messages returns a 400 error on Claude 4.6
  models" (the migration guide); the live 400 is "This model does not support assistant
  message prefill. The conversation must end with a user message."
- ``structured_outputs`` also governs ``strict`` tools (strict tool use is the same
  feature, .../agents-and-tools/tool-use/strict-tool-use; no beta header).
- ``mid_conversation_system``: "What's new in Claude Opus 4.8" and "Mid-conversation
  system messages" (.../build-with-claude/mid-conversation-system-messages): a
  ``{"role": "system"}`` message right after a user turn, content a string or text blocks,
  with optional ``clear_at`` ("next_user_message" or "never") and its own
  ``output_config``; no beta header. Claude Code sends them on claude-opus-5-5. Older
  models answer "messages: roles must be 'user' or 'assistant'".
- ``thinking_always_on`` and ``forced_tool_use``: "What's new in Claude Opus 5.5"
  (.../models/opus-5-5/whats-new-opus-5-5): thinking can't be disabled ("disabled" and
  "enabled" are a 400; a request without ``thinking`` thinks adaptively), and forced tool
  use returns an error, live 400 'tool_choice: type "tool" and "any" are not supported for
  this model.' (quoted in can1357/oh-my-pi#12939 and vercel/ai#21364, with and without
  ``thinking``). Sonnet 5 ("Migrating to Claude Sonnet 5", .../models/sonnet-5/
  migration-guide): adaptive on by default, "enabled" a 400, non-default sampling a 400
  (live "`temperature` is deprecated for this model.", braintrustdata/lingua#335).
- ``cache_min_tokens``: "Minimum cacheable prompt length", .../build-with-claude/
  prompt-caching (4,096 tokens for Opus 4.7, 4.6, 4.5 and Haiku 4.5; 1,024 for Sonnet 4.6
  and 4.5); a shorter prefix is processed without caching, no error.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class AnthropicModel:
    """One model of the live API. ``id`` is the id it echoes in a response's ``model``;
    a request may name it by ``id`` or by any of ``aliases``."""

    id: str
    aliases: tuple[str, ...]
    thinking_types: frozenset[str]  # accepted ``thinking.type`` values, "disabled" included
    effort_levels: tuple[str, ...]  # accepted ``output_config.effort``; empty: no effort
    sampling_defaults_only: bool  # temperature/top_p only at 1, top_k never
    temperature_with_top_p: bool  # both in one request (n/a when sampling_defaults_only)
    structured_outputs: bool  # ``output_config.format``
    assistant_prefill: bool  # a conversation may end with an assistant message
    max_output_tokens: int
    context_window: int
    cache_min_tokens: int = 1024  # the shortest prefix a cache breakpoint caches
    thinking_always_on: bool = False  # thinks without ``thinking``; sampling rules apply
    forced_tool_use: bool = True  # tool_choice "any" / "tool" accepted
    # ``role: "system"`` messages after a user turn (from Claude Opus 4.8 on)
    mid_conversation_system: bool = False

    @property
    def request_ids(self) -> tuple[str, ...]:
        return (self.id, *self.aliases)


BUDGET_THINKING = frozenset({"enabled", "disabled"})
BOTH_THINKING = frozenset({"enabled", "disabled", "adaptive"})
ADAPTIVE_ONLY = frozenset({"adaptive"})
ADAPTIVE_OR_OFF = frozenset({"adaptive", "disabled"})

HAIKU_4_5 = AnthropicModel(
    id="claude-haiku-4-5-20251001",
    aliases=("claude-haiku-4-5",),
    thinking_types=BUDGET_THINKING,
    effort_levels=(),
    sampling_defaults_only=False,
    temperature_with_top_p=False,
    structured_outputs=True,
    assistant_prefill=True,
    max_output_tokens=64_000,
    context_window=200_000,
    cache_min_tokens=4096,
)
SONNET_4_5 = AnthropicModel(
    id="claude-sonnet-4-5-20250929",
    aliases=("claude-sonnet-4-5",),
    thinking_types=BUDGET_THINKING,
    effort_levels=(),
    sampling_defaults_only=False,
    temperature_with_top_p=False,
    structured_outputs=True,
    assistant_prefill=True,
    max_output_tokens=64_000,
    context_window=200_000,
)
OPUS_4_5 = AnthropicModel(
    id="claude-opus-4-5-20251101",
    aliases=("claude-opus-4-5",),
    thinking_types=BUDGET_THINKING,
    effort_levels=("low", "medium", "high"),
    sampling_defaults_only=False,
    temperature_with_top_p=False,
    structured_outputs=True,
    assistant_prefill=True,
    max_output_tokens=64_000,
    context_window=200_000,
    cache_min_tokens=4096,
)
SONNET_4_6 = AnthropicModel(
    id="claude-sonnet-4-6",
    aliases=(),
    thinking_types=BOTH_THINKING,
    effort_levels=("low", "medium", "high", "max"),
    sampling_defaults_only=False,
    temperature_with_top_p=False,
    structured_outputs=True,
    assistant_prefill=False,
    max_output_tokens=64_000,
    context_window=1_000_000,
)
OPUS_4_6 = AnthropicModel(
    id="claude-opus-4-6",
    aliases=(),
    thinking_types=BOTH_THINKING,
    effort_levels=("low", "medium", "high", "max"),
    sampling_defaults_only=False,
    temperature_with_top_p=False,
    structured_outputs=True,
    assistant_prefill=False,
    max_output_tokens=128_000,
    context_window=1_000_000,
    cache_min_tokens=4096,
)
OPUS_4_7 = AnthropicModel(
    id="claude-opus-4-7",
    aliases=(),
    thinking_types=ADAPTIVE_ONLY,
    effort_levels=("low", "medium", "high", "xhigh", "max"),
    sampling_defaults_only=True,
    temperature_with_top_p=False,  # n/a: only the defaults are accepted
    structured_outputs=True,
    assistant_prefill=False,
    max_output_tokens=128_000,
    context_window=1_000_000,
    cache_min_tokens=4096,
)
SONNET_5 = AnthropicModel(
    id="claude-sonnet-5",
    aliases=(),
    thinking_types=ADAPTIVE_OR_OFF,
    effort_levels=("low", "medium", "high", "xhigh", "max"),
    sampling_defaults_only=True,
    temperature_with_top_p=False,  # n/a: only the defaults are accepted
    structured_outputs=True,
    assistant_prefill=False,
    max_output_tokens=128_000,
    context_window=1_000_000,
    mid_conversation_system=True,
)
OPUS_5_5 = AnthropicModel(
    id="claude-opus-5-5",
    aliases=(),
    thinking_types=ADAPTIVE_ONLY,
    effort_levels=("low", "medium", "high", "xhigh", "max"),
    sampling_defaults_only=True,
    temperature_with_top_p=False,  # n/a: only the defaults are accepted
    structured_outputs=True,
    assistant_prefill=False,
    max_output_tokens=128_000,
    context_window=1_000_000,
    cache_min_tokens=4096,
    thinking_always_on=True,
    forced_tool_use=False,
    mid_conversation_system=True,
)

MODELS: tuple[AnthropicModel, ...] = (
    HAIKU_4_5,
    SONNET_4_5,
    OPUS_4_5,
    SONNET_4_6,
    OPUS_4_6,
    OPUS_4_7,
    SONNET_5,
    OPUS_5_5,
)


def find_model(models: Iterable[AnthropicModel], requested: str) -> AnthropicModel | None:
    """The model a request's ``model`` names (its id or an alias), or None."""
    return next((m for m in models if requested in m.request_ids), None)
