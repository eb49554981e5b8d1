"""Where generated images live: a small interface and its filesystem implementation.

Ids are random (192 bits, url-safe base64), so a stored image is reachable only by whoever
was given its id. An S3-compatible store implements the same two methods.
"""

from __future__ import annotations

import asyncio
import os
import re
import secrets
import tempfile
from pathlib import Path
from typing import Protocol

from drafter.rpc.errors import InvalidRequest, NotFound
from drafter.services.images.limits import IMAGE_ID_BYTES

# What new_image_id() produces; anything else is refused before touching the store.
IMAGE_ID_RE = re.compile(r"[A-Za-z0-9_-]{32}")


def new_image_id() -> str:
    """A fresh unguessable id (32 url-safe characters)."""
    return secrets.token_urlsafe(IMAGE_ID_BYTES)


def check_image_id(image_id: str) -> str:
    """``image_id`` if it has the shape of an id this service hands out; InvalidRequest
    otherwise, so no caller-chosen string ever becomes a path or key."""
    if not IMAGE_ID_RE.fullmatch(image_id):
        raise InvalidRequest("Invalid image id.", metadata={"param": "id"})
    return image_id


class ImageStore(Protocol):
    """Stores image bytes under new ids and reads them back."""

    async def put(self, png: bytes) -> str:
        """Stores ``png`` and answers its new id."""
        ...

    async def get(self, image_id: str) -> bytes:
        """The PNG stored under ``image_id``; NotFound when there is none."""
        ...


class FilesystemImageStore:
    """One file per image under ``root/<first two id characters>/<id>.png``; the name
    keeps the suffix of the first version, when every image was a PNG: the bytes say their
    format (PNG, JPEG or WebP)."""

    def __init__(self, root: Path) -> None:
        self._root = root

    def _path(self, image_id: str) -> Path:
        check_image_id(image_id)
        return self._root / image_id[:2] / f"{image_id}.png"

    async def put(self, png: bytes) -> str:
        image_id = new_image_id()
        await asyncio.to_thread(self._write, self._path(image_id), png)
        return image_id

    async def get(self, image_id: str) -> bytes:
        path = self._path(image_id)
        try:
            return await asyncio.to_thread(path.read_bytes)
        except FileNotFoundError:
            raise NotFound(f"No image with id {image_id}.", metadata={"param": "id"}) from None

    @staticmethod
    def _write(path: Path, data: bytes) -> None:
        """Writes ``data`` to ``path`` atomically: readers see the whole file or none."""
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".png")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
