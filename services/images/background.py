"""Background removal: upload validation, the one rembg session, and a bounded worker pool.

Uploads are recognised by content (magic bytes, then Pillow with only that format allowed),
never by name. The pixel count is read from the header and checked before anything is
decoded, so a small file that would decode to a huge bitmap is refused cheaply. Inference
runs in a small thread pool so the event loop keeps answering (health checks included).
"""

from __future__ import annotations

import asyncio
import io
import logging
import os
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from PIL import Image, ImageOps

from drafter.common.v1 import errors_pb2
from drafter.limits import IMAGE_MAX_INPUT_PIXELS, IMAGE_MAX_UPLOAD_BYTES, MiB
from drafter.rpc.errors import InvalidRequest, UpstreamUnavailable
from drafter.services.images.limits import MAX_INPUT_SIDE

log = logging.getLogger("drafter.images")

_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"\xff\xd8\xff", "JPEG"),
)


class ModelUnavailable(Exception):
    """The rembg model cannot be loaded (not installed, unknown name, unreadable file)."""


def configure_pillow() -> None:
    """Pillow's own bomb guard, set deliberately to our limit: past it Pillow warns (and
    raises at twice it); the warning is made an error so ``Image.open`` refuses outright."""
    Image.MAX_IMAGE_PIXELS = IMAGE_MAX_INPUT_PIXELS
    warnings.simplefilter("error", Image.DecompressionBombWarning)


def sniff_format(data: bytes) -> str:
    """``PNG``, ``JPEG`` or ``WEBP`` from the file's first bytes; InvalidRequest otherwise."""
    for magic, name in _MAGIC:
        if data.startswith(magic):
            return name
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    raise InvalidRequest(
        "The uploaded file is not a PNG, JPEG or WebP image.", metadata={"param": "image"}
    )


def check_upload_size(data: bytes) -> None:
    """Refuses an empty upload (400) and one over IMAGE_MAX_UPLOAD_BYTES (413)."""
    if not data:
        raise InvalidRequest("No image was uploaded.", metadata={"param": "image"})
    if len(data) > IMAGE_MAX_UPLOAD_BYTES:
        raise InvalidRequest(
            f"The image is {len(data)} bytes; the limit is {IMAGE_MAX_UPLOAD_BYTES // MiB} MB "
            f"({IMAGE_MAX_UPLOAD_BYTES} bytes).",
            reason=errors_pb2.ERROR_REASON_PAYLOAD_TOO_LARGE,
            metadata={"param": "image"},
        )


def check_dimensions(width: int, height: int) -> None:
    """Refuses images whose header announces more pixels than we decode."""
    if width * height > IMAGE_MAX_INPUT_PIXELS or max(width, height) > MAX_INPUT_SIDE:
        raise InvalidRequest(
            f"The image is {width}x{height} pixels; the limit is {IMAGE_MAX_INPUT_PIXELS:,} pixels "
            f"and {MAX_INPUT_SIDE:,} on a side.",
            metadata={"param": "image"},
        )


def decode_upload(data: bytes) -> Image.Image:
    """The uploaded image, validated, decoded, turned upright (EXIF) and in RGBA."""
    check_upload_size(data)
    fmt = sniff_format(data)
    try:
        image = Image.open(io.BytesIO(data), formats=[fmt])
        check_dimensions(*image.size)
        image.load()
        upright = ImageOps.exif_transpose(image)
        return upright.convert("RGBA")
    except InvalidRequest:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise InvalidRequest(
            f"The image has more than {IMAGE_MAX_INPUT_PIXELS:,} pixels.",
            metadata={"param": "image"},
        ) from None
    except (OSError, ValueError, SyntaxError) as exc:
        raise InvalidRequest(
            f"The {fmt} image could not be decoded: {exc}", metadata={"param": "image"}
        ) from None


def encode_png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG", compress_level=6)
    return out.getvalue()


REMBG_OFF = "none"


def _new_model_file_session(model_path: Path) -> Any:
    """rembg's ``u2net_custom`` session over a model file anywhere on disk.

    rembg >= 2.0.70 loads ``model_path`` only from inside its home folder (``U2NET_HOME``
    / ``REMBG_HOME``, checked in ``BaseSession.validate_model_path``, called from
    ``download_models``). The operator chose this path on purpose, so this subclass
    resolves it as given instead of changing process-wide environment variables."""
    import onnxruntime as ort
    from rembg.sessions.u2net_custom import U2netCustomSession

    class ModelFileSession(U2netCustomSession):
        @classmethod
        def download_models(cls, *args: Any, **kwargs: Any) -> str:
            return str(Path(kwargs["model_path"]).expanduser().resolve())

    return ModelFileSession("u2net_custom", ort.SessionOptions(), model_path=str(model_path))


def installed_model_file(model: str) -> Path | None:
    """Where rembg 2.0 finds ``<model>.onnx`` already downloaded (its per-model folder,
    then its older flat one: ``BaseSession.resolve_existing``), found without importing
    rembg: its import takes about 200 MB (numba, scipy and scikit-image, for the alpha
    matting Drafter does not use), which a service without the model would carry for
    nothing."""
    u2net_home, xdg = os.environ.get("U2NET_HOME"), os.environ.get("XDG_DATA_HOME")
    legacy = Path(u2net_home or os.path.join(xdg or "~", ".u2net")).expanduser()
    default_home = os.path.join(xdg, "rembg") if xdg else os.path.join("~", ".rembg")
    home = legacy if u2net_home else Path(os.environ.get("REMBG_HOME", default_home)).expanduser()
    for candidate in (home / "models" / model / f"{model}.onnx", legacy / f"{model}.onnx"):
        if candidate.exists():
            return candidate
    return None


def _new_named_session(model: str) -> Any:
    """rembg's session for ``model``, only when its file is already on disk: never downloads."""
    if installed_model_file(model) is None:
        raise ModelUnavailable(
            f"rembg model {model!r} is not installed (no {model}.onnx in U2NET_HOME, "
            "REMBG_HOME or their defaults ~/.u2net, ~/.rembg/models/NAME); pre-fetch it "
            "into U2NET_HOME or set DRAFTER_REMBG_MODEL_PATH"
        )
    from rembg import new_session
    from rembg.sessions import sessions

    session_class = sessions.get(model)
    if session_class is None:
        raise ModelUnavailable(f"rembg has no model named {model!r}")
    if session_class.resolve_existing(f"{model}.onnx") is None:
        raise ModelUnavailable(
            f"rembg model {model!r} is not installed (looked for {model}.onnx in "
            f"{session_class.model_dir()} and {session_class.legacy_home()}); pre-fetch it "
            "into U2NET_HOME or set DRAFTER_REMBG_MODEL_PATH"
        )
    return new_session(model)


def load_session(model: str, model_path: Path | None) -> Any:
    """ONE rembg session for the life of the process (blocking: call off the event loop).
    ``model`` "none" turns background removal off, and a named model whose file is not
    installed leaves it off, both without importing rembg, whose dependencies (numba,
    scipy, scikit-image) take about 200 MB of memory."""
    if model_path is None and model == REMBG_OFF:
        raise ModelUnavailable(f"background removal is turned off (DRAFTER_REMBG_MODEL={model})")
    try:
        if model_path is not None:
            if not model_path.is_file():
                raise ModelUnavailable(f"DRAFTER_REMBG_MODEL_PATH {model_path} is not a file")
            return _new_model_file_session(model_path)
        return _new_named_session(model)
    except ModelUnavailable:
        raise
    except Exception as exc:
        raise ModelUnavailable(f"rembg model could not be loaded: {exc}") from exc


class BackgroundRemover:
    """Runs rembg on uploads with one shared session in a bounded pool of worker threads."""

    def __init__(self, session: Any | None, *, workers: int, unavailable: str = "") -> None:
        self._session = session
        self._unavailable = unavailable or "no rembg model is loaded"
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="rembg")

    @property
    def available(self) -> bool:
        return self._session is not None

    async def remove(self, data: bytes) -> bytes:
        """A PNG with alpha, the input's (upright) size, with the background transparent."""
        check_upload_size(data)
        if self._session is None:
            raise UpstreamUnavailable(
                f"Background removal is unavailable: {self._unavailable}.",
                metadata={"component": "rembg"},
            )
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, self._remove_sync, data)

    def _remove_sync(self, data: bytes) -> bytes:
        from rembg import remove

        image = decode_upload(data)
        cutout = remove(image, session=self._session)
        return encode_png(cutout)

    async def aclose(self) -> None:
        await asyncio.to_thread(self._pool.shutdown, wait=True, cancel_futures=True)


async def load_remover(model: str, model_path: Path | None, *, workers: int) -> BackgroundRemover:
    """A remover with its session loaded; without one (logged once) when the model is
    missing, so the service still starts and RemoveBackground answers UNAVAILABLE."""
    configure_pillow()
    try:
        session = await asyncio.to_thread(load_session, model, model_path)
    except ModelUnavailable as exc:
        log.warning("background removal disabled: %s", exc)
        return BackgroundRemover(None, workers=workers, unavailable=str(exc))
    log.info("rembg model %s loaded", model_path or model)
    return BackgroundRemover(session, workers=workers)
