"""``document`` content blocks as the live Messages API checks them, for the fake server.

Sources: the PDF support page, https://platform.claude.com/docs/en/build-with-claude/
pdf-support (a base64 source takes ``media_type`` "application/pdf"; a ``text`` source
``media_type`` "text/plain" and the text in ``data``; ``url`` and ``file`` sources), the
citations page (the ``text`` and ``content`` sources), and the live 400 "The PDF
specified was not valid." for data that is not a PDF. Messages marked "the fake's
wording" state a documented rule in the fake's own words.
"""

from __future__ import annotations

import binascii
from typing import Any

SOURCE_TYPES = ("base64", "text", "content", "url", "file")


def document_error(block: dict[str, Any], where: str) -> str | None:
    """What the live API says about one ``document`` block, or None when it is valid."""
    source = block.get("source")
    if not isinstance(source, dict):
        return f"{where}.source: Field required"
    kind = source.get("type")
    if kind not in SOURCE_TYPES:
        tags = ", ".join(repr(t) for t in SOURCE_TYPES)
        return (
            f"{where}.source: Input tag '{kind}' found using 'type' does not match any of "
            f"the expected tags: {tags}"
        )
    if kind == "text":
        if source.get("media_type") != "text/plain":
            return f"{where}.source.text.media_type: Input should be 'text/plain'"
        if not isinstance(source.get("data"), str):
            return f"{where}.source.text.data: Input should be a valid string"
        return None
    if kind != "base64":
        return None
    if source.get("media_type") != "application/pdf":
        return f"{where}.source.base64.media_type: Input should be 'application/pdf'"
    data = source.get("data")
    if not isinstance(data, str):
        return f"{where}.source.base64.data: Input should be a valid string"
    try:
        content = binascii.a2b_base64(data, strict_mode=True)
    except binascii.Error:
        return f"{where}.source.base64.data: invalid base64 data"  # the fake's wording
    if not content.startswith(b"%PDF-"):
        return "The PDF specified was not valid."
    return None
