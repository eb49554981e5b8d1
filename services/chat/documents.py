"""OpenAI file parts → Anthropic ``document`` blocks (pure).

Anthropic's PDF support page: a PDF travels as ``{"type": "document", "source":
{"type": "base64", "media_type": "application/pdf", "data": ...}}``; plain text as a
``text`` source (``media_type`` "text/plain", the text itself). Text formats (Markdown,
CSV, HTML, JSON, ...) are plain text to the model, so they travel as a text source too,
decoded as UTF-8. The file's name becomes the document's ``title``. Anything else is a
400 that names the parameter and the supported types.
"""

from __future__ import annotations

import binascii
import re
from typing import Any

from drafter.chat.v1 import chat_service_pb2 as chat_pb
from drafter.limits import DOCUMENT_MAX_BYTES, MiB
from drafter.rpc.errors import InvalidRequest

PDF = "application/pdf"
TEXT_MEDIA_TYPES = frozenset(
    {
        "text/plain",
        "text/markdown",
        "text/x-markdown",
        "text/csv",
        "text/tab-separated-values",
        "text/html",
        "text/xml",
        "application/json",
        "application/xml",
    }
)
DOCUMENT_MEDIA_TYPES = frozenset({PDF}) | TEXT_MEDIA_TYPES
_DATA_URL = re.compile(r"^data:(?P<media>[\w/+.-]+)(?:;[\w=.-]+)*;base64,(?P<data>.*)$", re.DOTALL)

Block = dict[str, Any]


def document_block_from_file(file: chat_pb.FilePart, param: str) -> Block:
    """The document block of an inline file; ``param`` (``messages.1.content.0.file``) is
    named in a 400."""
    where = f"{param}.file_data"
    match = _DATA_URL.match(file.file_data)
    if match is None:
        raise InvalidRequest(
            f"{where} must be a base64 data: URL (data:application/pdf;base64,...).",
            metadata={"param": where},
        )
    media_type = match["media"].lower()
    if media_type not in DOCUMENT_MEDIA_TYPES:
        raise InvalidRequest(
            f"{where}: file type {media_type!r} is not supported; supported types are "
            + ", ".join(sorted(DOCUMENT_MEDIA_TYPES))
            + ".",
            metadata={"param": where},
        )
    content = _decoded(match["data"], where)
    if media_type == PDF:
        source: Block = {"type": "base64", "media_type": PDF, "data": match["data"]}
    else:
        source = {"type": "text", "media_type": "text/plain", "data": _text(content, where)}
    block: Block = {"type": "document", "source": source}
    if file.filename:
        block["title"] = file.filename
    return block


def _decoded(data: str, where: str) -> bytes:
    try:
        content = binascii.a2b_base64(data, strict_mode=True)
    except binascii.Error as exc:
        raise InvalidRequest(
            f"{where} is not valid base64: {exc}.", metadata={"param": where}
        ) from exc
    if not content:
        raise InvalidRequest(f"{where}: the file is empty.", metadata={"param": where})
    if len(content) > DOCUMENT_MAX_BYTES:
        raise InvalidRequest(
            f"{where}: the file is larger than {DOCUMENT_MAX_BYTES // MiB} MB.",
            metadata={"param": where},
        )
    return content


def _text(content: bytes, where: str) -> str:
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidRequest(
            f"{where}: a text file must be UTF-8 ({exc.reason} at byte {exc.start}).",
            metadata={"param": where},
        ) from exc
    if not text.strip():
        raise InvalidRequest(f"{where}: the text file is blank.", metadata={"param": where})
    return text
