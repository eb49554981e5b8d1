"""The pydantic model of OpenAI's Responses create request, as Drafter accepts it.

Every parameter of the Responses reference (the openai SDK's ``response_create_params``)
is accepted, and ``client_metadata``, which Codex sends; any other top-level field is
OpenAI's 400 "Unrecognized request argument supplied". What cannot be honoured is refused
here, naming the parameter (``refusal``): ``background: true`` (no background runs),
``conversation`` and ``prompt`` (OpenAI's Conversations and reusable prompts live on
OpenAI), ``top_logprobs`` above 0 (the upstream gives no log probabilities) and
``include`` values other than ``reasoning.encrypted_content`` and the ones that ask for
nothing Drafter produces. The items, tools and the rest are the chat service's to
translate (``services/chat/responses``), which names what it cannot serve in a 400 too.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from drafter.edge.errors import APIError, invalid_request

ENCRYPTED_REASONING = "reasoning.encrypted_content"
# ``include`` values that ask for outputs Drafter never produces (hosted tool results,
# log probabilities of an upstream that has none): accepted, nothing to add.
INCLUDES = frozenset(
    {
        ENCRYPTED_REASONING,
        "message.output_text.logprobs",
        "message.input_image.image_url",
        "web_search_call.action.sources",
        "web_search_call.results",
        "code_interpreter_call.outputs",
        "computer_call_output.output.image_url",
        "file_search_call.results",
    }
)


class ResponsesRequest(BaseModel):
    """``POST /responses``'s body."""

    model_config = ConfigDict(extra="forbid")

    model: str
    input: str | list[dict[str, Any]] = Field(default_factory=list)
    instructions: str | None = None
    tools: list[dict[str, Any]] | None = None
    tool_choice: str | dict[str, Any] | None = None
    parallel_tool_calls: bool | None = None
    max_output_tokens: int | None = Field(None, ge=1, le=2**31 - 1)
    max_tool_calls: int | None = Field(None, ge=1)
    temperature: float | None = Field(None, ge=0, le=2)
    top_p: float | None = Field(None, ge=0, le=1)
    top_logprobs: int | None = Field(None, ge=0, le=20)
    reasoning: dict[str, Any] | None = None
    text: dict[str, Any] | None = None
    metadata: dict[str, str] | None = None
    user: str | None = None
    safety_identifier: str | None = None
    prompt_cache_key: str | None = None
    prompt_cache_retention: str | None = None
    prompt_cache_options: dict[str, Any] | None = None
    store: bool | None = None
    previous_response_id: str | None = None
    include: list[str] | None = None
    stream: bool | None = None
    stream_options: dict[str, Any] | None = None
    service_tier: str | None = None
    truncation: str | None = None
    background: bool | None = None
    background_options: dict[str, Any] | None = None
    conversation: str | dict[str, Any] | None = None
    prompt: dict[str, Any] | None = None
    context_management: list[dict[str, Any]] | None = None
    moderation: dict[str, Any] | None = None
    image: dict[str, Any] | None = None
    access_programs: dict[str, Any] | list[Any] | None = None
    client_metadata: dict[str, Any] | None = None

    @property
    def stored(self) -> bool:
        """Whether the response is stored (OpenAI's default: yes)."""
        return self.store is not False

    @property
    def encrypted_reasoning(self) -> bool:
        return ENCRYPTED_REASONING in (self.include or ())

    def input_items(self) -> list[dict[str, Any]]:
        """``input`` as items (a string is one user message)."""
        if isinstance(self.input, str):
            return [{"type": "message", "role": "user", "content": self.input}]
        return list(self.input)


def refusal(body: ResponsesRequest) -> APIError | None:
    """The 400 for a value Drafter cannot honour, naming the parameter; None when none."""
    if body.background:
        return invalid_request("background mode is not supported; leave it out.", "background")
    if body.conversation is not None:
        return invalid_request(
            "conversation (OpenAI's Conversations API) is not supported; use previous_response_id.",
            "conversation",
        )
    if body.prompt is not None:
        return invalid_request(
            "prompt (reusable prompts stored on OpenAI) is not supported; send instructions.",
            "prompt",
        )
    if body.top_logprobs:
        return invalid_request("top_logprobs is not supported by Claude models.", "top_logprobs")
    for value in body.include or ():
        if value not in INCLUDES:
            return invalid_request(f"include value '{value}' is not supported.", "include")
    return None
