"""Settings of the images service process, read from the environment once at start."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr

from drafter.config import CommonSettings


class ImagesSettings(CommonSettings):
    """The upstream image model, the rembg model and how hard to retry the upstream."""

    gemini_api_key: SecretStr | None = Field(None, validation_alias="GEMINI_API_KEY")
    gemini_base_url: str | None = Field(None, validation_alias="DRAFTER_GEMINI_BASE_URL")
    # None: the upstream id of `nano-banano-pro` in the model table (gemini-3-pro-image-preview).
    image_upstream_model: str | None = Field(None, validation_alias="DRAFTER_IMAGE_UPSTREAM_MODEL")
    image_upstream_attempts: int = Field(
        3, ge=1, le=10, validation_alias="DRAFTER_IMAGE_UPSTREAM_ATTEMPTS"
    )
    image_upstream_backoff_s: float = Field(
        1.0, ge=0, validation_alias="DRAFTER_IMAGE_UPSTREAM_BACKOFF_S"
    )
    image_upstream_timeout_s: float = Field(
        120.0, gt=0, validation_alias="DRAFTER_IMAGE_UPSTREAM_TIMEOUT_S"
    )
    rembg_model: str = Field("u2net", validation_alias="DRAFTER_REMBG_MODEL")
    rembg_model_path: Path | None = Field(None, validation_alias="DRAFTER_REMBG_MODEL_PATH")
    rembg_workers: int = Field(2, ge=1, le=64, validation_alias="DRAFTER_REMBG_WORKERS")

    @property
    def images_dir(self) -> Path:
        """Where generated images are stored."""
        return self.data_dir / "images"
