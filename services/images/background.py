"""Background removal: upload validation, the one rembg session (loaded in the
background, ``loading.py``), and a bounded worker pool.

Uploads are recognised by content (magic bytes, then Pillow with only that format allowed),
never by name. The pixel count is read from the header and checked before anything is
decoded, so a small file that would decode to a huge bitmap is refused cheaply. Inference
runs in a small thread pool so the event loop keeps answering (health checks included).
"""

from __future__ import annotations

import asyncio
import enum
import io
import logging
import os
import warnings
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from PIL import Image, ImageOps

from drafter.common.v1 import errors_pb2
from drafter.limits import IMAGE_MAX_INPUT_PIXELS, IMAGE_MAX_UPLOAD_BYTES, MiB
from drafter.rpc.errors import InvalidRequest, UpstreamUnavailable
from drafter.services.images.limits import MAX_INPUT_SIDE
from drafter.services.images.loading import BackgroundLoad, LoadState

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
# What a caller of RemoveBackground is told to wait while the model loads (Retry-After).
REMOVAL_RETRY_AFTER_S = 5


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
    """rembg's session for ``model``, only when its file is already on disk (checked first
    without rembg by :func:`session_loader`, then as rembg sees it): never downloads."""
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


def session_loader(model: str, model_path: Path | None) -> Callable[[], Any]:
    """What loads THE rembg session for the life of the process: a blocking function
    (it imports rembg, whose pymatting compiles with numba: run it in the background).
    What can be told without importing rembg is checked now, raising ModelUnavailable:
    ``model`` "none" turns background removal off, and a missing model file or a named
    model that is not installed leaves it off, rembg never imported (its dependencies,
    numba, scipy and scikit-image, take about 200 MB of memory)."""
    if model_path is None and model == REMBG_OFF:
        raise ModelUnavailable(f"background removal is turned off (DRAFTER_REMBG_MODEL={model})")
    if model_path is not None and not model_path.is_file():
        raise ModelUnavailable(f"DRAFTER_REMBG_MODEL_PATH {model_path} is not a file")
    if model_path is None and installed_model_file(model) is None:
        raise ModelUnavailable(
            f"rembg model {model!r} is not installed (no {model}.onnx in U2NET_HOME, "
            "REMBG_HOME or their defaults ~/.u2net, ~/.rembg/models/NAME); pre-fetch it "
            "into U2NET_HOME or set DRAFTER_REMBG_MODEL_PATH"
        )

    def load() -> Any:
        try:
            if model_path is not None:
                return _new_model_file_session(model_path)
            return _new_named_session(model)
        except ModelUnavailable:
            raise
        except Exception as exc:
            raise ModelUnavailable(f"rembg model could not be loaded: {exc}") from exc

    return load


class RemovalState(enum.Enum):
    """What the images service's health says of RemoveBackground (edge/health.py)."""

    STARTING = "starting"
    READY = "ready"
    UNAVAILABLE = "unavailable"


_STATES = {
    LoadState.LOADING: RemovalState.STARTING,
    LoadState.READY: RemovalState.READY,
    LoadState.FAILED: RemovalState.UNAVAILABLE,
}


class BackgroundRemover:
    """Runs rembg on uploads with one shared session in a bounded pool of worker threads.

    The session loads in the background (:meth:`start_loading`): STARTING until it is
    loaded, then READY, or UNAVAILABLE when it cannot be (or there is nothing to load:
    ``load`` None, ``unavailable`` saying why). While STARTING, :meth:`remove` answers
    UNAVAILABLE with the reason WARMING_UP and ``retry_after_s``."""

    def __init__(
        self, load: Callable[[], Any] | None, *, workers: int, unavailable: str = ""
    ) -> None:
        self._loading = BackgroundLoad(load, name="rembg-loader") if load is not None else None
        self._unavailable = unavailable or "no rembg model is loaded"
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="rembg")

    def start_loading(self) -> None:
        if self._loading is not None:
            self._loading.start()

    @property
    def state(self) -> RemovalState:
        if self._loading is None:
            return RemovalState.UNAVAILABLE
        return _STATES[self._loading.state]

    async def wait_loaded(self) -> RemovalState:
        """The state once loading has ended (READY or UNAVAILABLE), logged once."""
        if self._loading is None:
            return self.state
        if await self._loading.wait() is LoadState.READY:
            log.info("rembg model loaded in %.1f s", self._loading.seconds)
        else:
            log.warning("background removal disabled: %s", self._loading.error)
        return self.state

    def _unavailable_reason(self) -> str:
        error = self._loading.error if self._loading is not None else None
        return str(error) if error is not None else self._unavailable

    def check_ready(self) -> None:
        """Nothing when the model is loaded; UNAVAILABLE (WARMING_UP while it loads)
        otherwise."""
        state = self.state
        if state is RemovalState.STARTING:
            raise UpstreamUnavailable(
                "Background removal is starting (its model is loading); "
                f"retry in {REMOVAL_RETRY_AFTER_S} seconds.",
                reason=errors_pb2.ERROR_REASON_WARMING_UP,
                metadata={"component": "rembg", "retry_after_s": str(REMOVAL_RETRY_AFTER_S)},
            )
        if state is RemovalState.UNAVAILABLE:
            raise UpstreamUnavailable(
                f"Background removal is unavailable: {self._unavailable_reason()}.",
                metadata={"component": "rembg"},
            )

    async def remove(self, data: bytes) -> bytes:
        """A PNG with alpha, the input's (upright) size, with the background transparent."""
        check_upload_size(data)
        self.check_ready()
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, self._remove_sync, data)

    async def cut_out(self, image: Image.Image) -> Image.Image:
        """``image`` (one we produced, not an upload) with its background transparent."""
        self.check_ready()
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, self._cut_out_sync, image)

    def _remove_sync(self, data: bytes) -> bytes:
        return encode_png(self._cut_out_sync(decode_upload(data)))

    def _cut_out_sync(self, image: Image.Image) -> Image.Image:
        from rembg import remove

        assert self._loading is not None
        cutout = remove(image, session=self._loading.value)
        assert isinstance(cutout, Image.Image)
        return cutout

    async def aclose(self) -> None:
        await asyncio.to_thread(self._pool.shutdown, wait=True, cancel_futures=True)


def start_remover(model: str, model_path: Path | None, *, workers: int) -> BackgroundRemover:
    """A remover whose session loads in the background from now on (call in the event
    loop); without one (logged once) when the model is off or missing, so the service
    still starts and RemoveBackground answers UNAVAILABLE."""
    configure_pillow()
    try:
        load = session_loader(model, model_path)
    except ModelUnavailable as exc:
        log.warning("background removal disabled: %s", exc)
        return BackgroundRemover(None, workers=workers, unavailable=str(exc))
    log.info("loading rembg model %s in the background", model_path or model)
    remover = BackgroundRemover(load, workers=workers)
    remover.start_loading()
    return remover
