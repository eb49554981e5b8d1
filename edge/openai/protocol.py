"""Pydantic models of the OpenAI chat completions request, as Drafter accepts it.

Every parameter of OpenAI's Chat Completions reference (the openai SDK's
``completion_create_params``) is accepted; the README's parameter table says what each
becomes. Those without an upstream equivalent (``seed``, ``store``, ``metadata``,
``service_tier``, penalties, ...) are validated and not forwarded; those whose value cannot
be honoured (``logprobs: true``, audio output) are a 400 naming the parameter
(``to_proto.refuse_unsupported``). Other unknown top-level fields are
refused with OpenAI's own message ("Unrecognized request argument supplied"), so a typo is
not silently dropped. Every integer is
bounded by the chat proto's 32-bit field it travels in (a 400 naming the parameter, not an
overflow); the model table's own limits (``max_output_tokens``) are the chat service's
check, also a 400 naming ``max_tokens``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from drafter.limits import DEFAULT_MAX_TOKENS, MAX_CHOICES

# The largest value of the chat proto's int32 fields (max_tokens, top_k).
PROTO_INT32_MAX = 2**31 - 1


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="ignore")


class CacheControl(_Strict):
    """A prompt-cache breakpoint as OpenAI-compatible clients send it: Anthropic's own
    ``{"type": "ephemeral", "ttl": "5m" | "1h"}`` (the prompt caching page)."""

    type: Literal["ephemeral"]
    ttl: Literal["5m", "1h"] | None = None


class TextPart(_Lenient):
    type: Literal["text"]
    text: str
    cache_control: CacheControl | None = None


class ImageURL(_Lenient):
    url: str
    detail: Literal["auto", "low", "high"] = "auto"


class ImagePart(_Lenient):
    type: Literal["image_url"]
    image_url: ImageURL
    cache_control: CacheControl | None = None


class FileData(_Lenient):
    """OpenAI's file part: inline ``file_data`` (a base64 ``data:`` URL) or a ``file_id``
    of OpenAI's Files API, which Drafter does not have (``to_proto`` refuses it)."""

    file_data: str | None = None
    file_id: str | None = None
    filename: str | None = None


class FilePart(_Lenient):
    type: Literal["file"]
    file: FileData
    cache_control: CacheControl | None = None


ContentPart = Annotated[TextPart | ImagePart | FilePart, Field(discriminator="type")]


class RefusalPart(_Lenient):
    """A refusal the model gave earlier, sent back in an assistant turn."""

    type: Literal["refusal"]
    refusal: str


AssistantPart = Annotated[TextPart | RefusalPart, Field(discriminator="type")]


class FunctionCall(_Lenient):
    name: str
    arguments: str


class ToolCall(_Lenient):
    id: str
    type: Literal["function"] = "function"
    function: FunctionCall


class SystemMessage(_Lenient):
    role: Literal["system", "developer"]
    content: str | list[TextPart]
    name: str | None = None


class UserMessage(_Lenient):
    role: Literal["user"]
    content: str | list[ContentPart]
    name: str | None = None


class AssistantMessage(_Lenient):
    role: Literal["assistant"]
    content: str | list[AssistantPart] | None = None
    refusal: str | None = None
    tool_calls: list[ToolCall] | None = None
    # The deprecated single call of the ``functions`` API.
    function_call: FunctionCall | None = None
    name: str | None = None


class ToolMessage(_Lenient):
    role: Literal["tool"]
    content: str | list[TextPart]
    tool_call_id: str


class FunctionMessage(_Lenient):
    """The deprecated ``functions`` API's result message; ``name`` is the function's."""

    role: Literal["function"]
    content: str | None = None
    name: str


Message = Annotated[
    SystemMessage | UserMessage | AssistantMessage | ToolMessage | FunctionMessage,
    Field(discriminator="role"),
]


class FunctionDefinition(_Lenient):
    name: str
    description: str = ""
    parameters: dict[str, Any] = Field(default_factory=lambda: {"type": "object"})
    strict: bool | None = None
    # Some clients put the breakpoint inside the function; the tool's own wins.
    cache_control: CacheControl | None = None


class ToolDefinition(_Lenient):
    type: Literal["function"]
    function: FunctionDefinition
    cache_control: CacheControl | None = None


class NamedToolChoiceFunction(_Lenient):
    name: str


class NamedToolChoice(_Lenient):
    type: Literal["function"]
    function: NamedToolChoiceFunction


class JSONSchemaFormat(_Lenient):
    name: str
    schema_: dict[str, Any] = Field(default_factory=dict, alias="schema")
    strict: bool | None = None


class ResponseFormat(_Lenient):
    type: Literal["text", "json_object", "json_schema"]
    json_schema: JSONSchemaFormat | None = None


class StreamOptions(_Lenient):
    include_usage: bool = False


class FunctionCallChoice(_Lenient):
    """The deprecated ``function_call: {"name": ...}``."""

    name: str


class ChatCompletionRequest(_Strict):
    model: str = Field(min_length=1)
    messages: list[Message] = Field(min_length=1)
    max_tokens: int | None = Field(None, ge=1, le=PROTO_INT32_MAX)
    max_completion_tokens: int | None = Field(None, ge=1, le=PROTO_INT32_MAX)
    temperature: float | None = Field(None, ge=0, le=2)
    top_p: float | None = Field(None, ge=0, le=1)
    # Not OpenAI's, but Anthropic's, and sent by clients of other gateways.
    top_k: int | None = Field(None, ge=0, le=PROTO_INT32_MAX)
    n: int = Field(1, ge=1, le=MAX_CHOICES)
    stream: bool = False
    stream_options: StreamOptions | None = None
    stop: str | list[str] | None = None
    thinking: Literal["medium", "high", "max"] | None = None
    # OpenAI's values, and Anthropic's max; the model table decides what each becomes.
    reasoning_effort: Literal["none", "minimal", "low", "medium", "high", "xhigh", "max"] | None = (
        None
    )
    include_reasoning: bool = False
    tools: list[ToolDefinition] | None = None
    tool_choice: Literal["none", "auto", "required"] | NamedToolChoice | None = None
    parallel_tool_calls: bool | None = None
    response_format: ResponseFormat | None = None
    user: str | None = None
    # OpenAI's successor of ``user``; it wins when both are sent.
    safety_identifier: str | None = None
    # The deprecated functions API: becomes tools and tool_choice.
    functions: list[FunctionDefinition] | None = None
    function_call: Literal["none", "auto"] | FunctionCallChoice | None = None
    # Accepted and validated, not forwarded: the upstream has no equivalent (README).
    frequency_penalty: float | None = Field(None, ge=-2, le=2)
    presence_penalty: float | None = Field(None, ge=-2, le=2)
    logit_bias: dict[str, int] | None = None
    seed: int | None = None
    store: bool | None = None
    metadata: dict[str, str] | None = None
    service_tier: str | None = None
    verbosity: Literal["low", "medium", "high"] | None = None
    prediction: dict[str, Any] | None = None
    prompt_cache_key: str | None = None
    prompt_cache_retention: str | None = None
    prompt_cache_options: dict[str, Any] | None = None
    moderation: dict[str, Any] | None = None
    web_search_options: dict[str, Any] | None = None
    # Accepted when they ask for nothing Drafter cannot give (to_proto.refuse_unsupported).
    logprobs: bool | None = None
    top_logprobs: int | None = Field(None, ge=0, le=20)
    modalities: list[Literal["text", "audio"]] | None = None
    audio: dict[str, Any] | None = None

    @field_validator("n", "stream", mode="before")
    @classmethod
    def _null_is_default(cls, value: Any, info: Any) -> Any:
        """``n: null`` and ``stream: null`` (some frameworks send them) mean the default."""
        if value is None:
            return 1 if info.field_name == "n" else False
        return value

    @property
    def end_user(self) -> str:
        """Who the end user is, for the upstream's ``metadata.user_id``."""
        return self.safety_identifier or self.user or ""

    @property
    def answer_max_tokens(self) -> int:
        return self.max_completion_tokens or self.max_tokens or DEFAULT_MAX_TOKENS

    @property
    def uses_functions(self) -> bool:
        """Whether the caller speaks the deprecated functions API (``functions``, no
        ``tools``): it is answered in that API's shape (``legacy_functions``)."""
        return bool(self.functions) and not self.tools
