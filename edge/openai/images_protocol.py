"""Pydantic model of the OpenAI image generation request, as Drafter accepts it."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from drafter.model_table import IMAGE_MODEL_ID

SIZES = {"256x256": 256, "512x512": 512, "1024x1024": 1024}


class ImageGenerationRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    prompt: str = Field(min_length=1)
    model: str = IMAGE_MODEL_ID
    n: int = Field(1, ge=1, le=4)
    size: Literal["256x256", "512x512", "1024x1024"] = "1024x1024"
    response_format: Literal["url", "b64_json"] = "url"
    user: str | None = None

    @property
    def side(self) -> int:
        return SIZES[self.size]
