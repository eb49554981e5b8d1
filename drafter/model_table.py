"""The model table: ids, aliases, live upstream ids and per-model upstream rules, as data.

It is the one place that knows which names mean which model and what the upstream takes
for each: the accounts service resolves a requested name before checking the plan; the
chat service finds the upstream id and maps thinking, effort and sampling onto what the
model accepts (``services/chat/model_rules.py``); the images service finds its upstream.

The built-in table is ``models.toml`` beside this module; ``DRAFTER_MODELS_FILE`` names a
TOML file of the same shape that replaces it whole. A file that does not validate raises
:class:`ModelTableError`, which names the file and the problem in one line.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from drafter.common.v1 import errors_pb2
from drafter.config import ConfigError
from drafter.rpc.errors import NotFound

ModelKind = Literal["chat", "image"]
# How the upstream takes extended thinking: ``thinking.type = "enabled"`` with
# ``budget_tokens``, or ``"adaptive"`` steered by ``output_config.effort``.
ThinkingStyle = Literal["adaptive", "budget"]
# ``output_config.effort`` levels, lowest first.
Effort = Literal["low", "medium", "high", "xhigh", "max"]
EFFORTS: tuple[Effort, ...] = ("low", "medium", "high", "xhigh", "max")
SamplingParam = Literal["temperature", "top_p", "top_k"]
# The one image model (the reference: "a single model from Google ... for all image
# generation requests"): the default of image requests and the images service's upstream.
IMAGE_MODEL_ID = "nano-banano-pro"
# How long the upstream may take (see ModelSpec.upstream_timeout_s): the Anthropic SDK's
# own default for a non-streaming request, 10 minutes.
DEFAULT_UPSTREAM_TIMEOUT_S = 600.0


class ModelSpec(BaseModel):
    """One row of the model table.

    ``thinking`` lists the styles the upstream accepts, the one Drafter uses first;
    ``efforts`` the ``output_config.effort`` levels it accepts (none: it takes no
    effort); ``sampling`` the sampling parameters it accepts with other than their
    default values (none: only the defaults); ``temperature_with_top_p`` whether those
    two may be sent together. ``thinking_always_on``: the model always thinks (adaptive;
    it cannot be turned off). ``forced_tool_use``: the upstream takes a forced tool
    choice. ``structured_outputs`` covers JSON-schema answers and strict
    tool use (one feature upstream). ``cache_min_tokens`` is the shortest prompt prefix the
    upstream caches. ``upstream_timeout_s`` bounds each upstream call: a call for
    the whole message must be answered within it; a streamed one must open and then send
    its next event (Anthropic pings while it thinks) within it, however long it runs."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(min_length=1)
    kind: ModelKind
    owned_by: str
    created: dt.date
    upstream: str = Field(min_length=1)
    aliases: tuple[str, ...] = ()
    context_window: int | None = Field(None, gt=0)
    max_output_tokens: int | None = Field(None, gt=0)
    thinking: tuple[ThinkingStyle, ...] = ()
    efforts: tuple[Effort, ...] = ()
    sampling: tuple[SamplingParam, ...] = ()
    temperature_with_top_p: bool = False
    structured_outputs: bool = False
    # The model always thinks: thinking cannot be disabled nor given a budget.
    thinking_always_on: bool = False
    # The upstream accepts tool_choice "any" and "tool" (a forced tool call).
    forced_tool_use: bool = True
    # The shortest prefix the upstream caches, in tokens (Anthropic's prompt caching page,
    # "Minimum cacheable prompt length"); automatic cache breakpoints wait for it.
    cache_min_tokens: int = Field(1024, gt=0)
    upstream_timeout_s: float = Field(DEFAULT_UPSTREAM_TIMEOUT_S, gt=0)

    @model_validator(mode="after")
    def _consistent(self) -> ModelSpec:
        if self.kind == "chat" and (self.context_window is None or self.max_output_tokens is None):
            raise ValueError(f"chat model {self.id!r} needs context_window and max_output_tokens")
        for name, values in (
            ("thinking", self.thinking),
            ("efforts", self.efforts),
            ("sampling", self.sampling),
        ):
            if len(set(values)) != len(values):
                raise ValueError(f"model {self.id!r}: {name} lists a value twice")
        if "adaptive" in self.thinking and not self.efforts:
            raise ValueError(
                f"model {self.id!r}: adaptive thinking is steered by effort levels; list them"
                " in efforts"
            )
        if self.thinking_always_on and self.thinking != ("adaptive",):
            raise ValueError(f'model {self.id!r}: thinking_always_on needs thinking = ["adaptive"]')
        if not self.forced_tool_use and not self.structured_outputs:
            raise ValueError(
                f"model {self.id!r}: without forced_tool_use, response_format needs"
                " structured_outputs"
            )
        return self

    @property
    def created_ts(self) -> int:
        return int(dt.datetime.combine(self.created, dt.time(), dt.UTC).timestamp())

    @property
    def thinking_style(self) -> ThinkingStyle | None:
        """The style Drafter asks for when the caller wants thinking."""
        return self.thinking[0] if self.thinking else None

    def accepts(self, param: SamplingParam) -> bool:
        return param in self.sampling


class ModelNotFound(NotFound):
    reason = errors_pb2.ERROR_REASON_MODEL_NOT_FOUND


class ModelTable:
    """Models in table order, looked up by id or alias (case-insensitive)."""

    def __init__(self, models: list[ModelSpec]) -> None:
        if not models:
            raise ValueError("the model table has no models")
        self._models = tuple(models)
        self._by_name: dict[str, ModelSpec] = {}
        for model in models:
            for name in (model.id, *model.aliases):
                key = name.lower()
                if key in self._by_name:
                    raise ValueError(f"model name {name!r} is used twice in the model table")
                self._by_name[key] = model

    def __iter__(self) -> Iterator[ModelSpec]:
        return iter(self._models)

    def get(self, name: str) -> ModelSpec | None:
        return self._by_name.get(name.lower())

    def resolve(self, name: str) -> ModelSpec:
        """The model ``name`` (id or alias) refers to; :class:`ModelNotFound` otherwise."""
        model = self._by_name.get(name.lower())
        if model is None:
            raise ModelNotFound(
                f"The model `{name}` does not exist.", metadata={"param": "model", "model": name}
            )
        return model


class ModelTableError(ConfigError):
    """A model table file that cannot be read or does not validate."""


def parse_model_table(text: str, source: str = "models.toml") -> ModelTable:
    """Parses and validates a model table; :class:`ModelTableError` names the source, the
    row and the problem in one line."""
    try:
        raw = tomllib.loads(text)
        unknown = set(raw) - {"models"}
        if unknown:
            raise ValueError(f"unknown top-level keys {sorted(unknown)}; expected [[models]]")
        return ModelTable([_row(i, row) for i, row in enumerate(raw.get("models", []))])
    except (tomllib.TOMLDecodeError, TypeError, ValueError) as exc:
        raise ModelTableError(f"invalid model table {source}: {exc}") from exc


def _row(index: int, row: dict[str, object]) -> ModelSpec:
    try:
        return ModelSpec.model_validate(row)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"])
        where = f"models.{index}" + (f" ({row['id']})" if "id" in row else "")
        problem = f"{field}: {first['msg']}" if field else first["msg"]
        raise ValueError(f"{where}: {problem}") from None


def load_model_table(path: Path | None = None) -> ModelTable:
    """The model table from ``path`` (DRAFTER_MODELS_FILE), or the one shipped with Drafter."""
    if path is None:
        return parse_model_table(resources.files("drafter").joinpath("models.toml").read_text())
    try:
        text = path.read_text()
    except OSError as exc:
        raise ModelTableError(f"cannot read model table {path}: {exc.strerror}") from exc
    return parse_model_table(text, str(path))
