"""The model table: ids, aliases and upstream capabilities, as data (``models.toml``).

It is the one place that knows which names mean which model. The accounts service uses
it to resolve a requested name before checking the plan; the chat and images services use
it to find the upstream id and how the upstream takes thinking and sampling parameters.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Literal

from drafter.common.v1 import errors_pb2
from drafter.rpc.errors import NotFound

ModelKind = Literal["chat", "image"]
ThinkingStyle = Literal["budget", "adaptive", "none"]


@dataclass(frozen=True, slots=True)
class ModelSpec:
    id: str
    kind: ModelKind
    owned_by: str
    created: dt.date
    upstream: str
    aliases: tuple[str, ...]
    thinking: ThinkingStyle
    sampling: bool
    structured_outputs: bool = False

    @property
    def created_ts(self) -> int:
        return int(dt.datetime.combine(self.created, dt.time(), dt.UTC).timestamp())


class ModelNotFound(NotFound):
    reason = errors_pb2.ERROR_REASON_MODEL_NOT_FOUND


class ModelTable:
    """Models in table order, looked up by id or alias (case-insensitive)."""

    def __init__(self, models: list[ModelSpec]) -> None:
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


def _spec(raw: dict) -> ModelSpec:
    return ModelSpec(
        id=raw["id"],
        kind=raw["kind"],
        owned_by=raw["owned_by"],
        created=raw["created"],
        upstream=raw["upstream"],
        aliases=tuple(raw.get("aliases", ())),
        thinking=raw.get("thinking", "none"),
        sampling=bool(raw.get("sampling", False)),
        structured_outputs=bool(raw.get("structured_outputs", False)),
    )


def load_model_table(path: Path | None = None) -> ModelTable:
    """Reads the model table from ``path``, or the one shipped with Drafter."""
    text = (
        path.read_text()
        if path is not None
        else resources.files("drafter").joinpath("models.toml").read_text()
    )
    return ModelTable([_spec(raw) for raw in tomllib.loads(text)["models"]])
