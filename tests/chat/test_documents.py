"""File parts become Anthropic ``document`` blocks; what cannot is a 400 naming the
parameter and the supported types."""

from __future__ import annotations

import base64

import pytest

from drafter.chat.v1 import chat_service_pb2 as chat_pb
from drafter.model_table import load_model_table
from drafter.rpc.errors import InvalidRequest
from drafter.services.chat.documents import DOCUMENT_MEDIA_TYPES, document_block_from_file
from drafter.services.chat.to_anthropic import message_params_from_request

PDF_BYTES = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
HAIKU = load_model_table().resolve("claude-haiku-4-5")


def data_url(media_type: str, content: bytes) -> str:
    return f"data:{media_type};base64,{base64.b64encode(content).decode()}"


def file(url: str, filename: str = "") -> chat_pb.FilePart:
    return chat_pb.FilePart(file_data=url, filename=filename)


def test_a_pdf_is_a_base64_document_titled_by_its_file_name() -> None:
    url = data_url("application/pdf", PDF_BYTES)
    block = document_block_from_file(file(url, "report.pdf"), "f")
    assert block == {
        "type": "document",
        "source": {
            "type": "base64",
            "media_type": "application/pdf",
            "data": base64.b64encode(PDF_BYTES).decode(),
        },
        "title": "report.pdf",
    }


@pytest.mark.parametrize(
    "media_type", ["text/plain", "text/markdown", "text/csv", "application/json"]
)
def test_text_formats_are_a_plain_text_document(media_type: str) -> None:
    block = document_block_from_file(file(data_url(media_type, "a,b\nß,1\n".encode())), "f")
    assert block == {
        "type": "document",
        "source": {"type": "text", "media_type": "text/plain", "data": "a,b\nß,1\n"},
    }


@pytest.mark.parametrize(
    ("url", "says"),
    [
        (data_url("application/zip", b"PK"), "file type 'application/zip' is not supported"),
        ("https://example.com/a.pdf", "must be a base64 data: URL"),
        ("data:application/pdf;base64,%%%notbase64", "is not valid base64"),
        ("data:application/pdf;base64,", "the file is empty"),
        (data_url("text/plain", b"\xff\xfe\x00"), "a text file must be UTF-8"),
        (data_url("text/plain", b"  \n"), "the text file is blank"),
    ],
)
def test_what_cannot_be_a_document_is_a_400_naming_the_parameter(url: str, says: str) -> None:
    with pytest.raises(InvalidRequest) as info:
        document_block_from_file(file(url), "messages.1.content.0.file")
    assert info.value.metadata == {"param": "messages.1.content.0.file.file_data"}
    assert says in str(info.value)


def test_the_unsupported_type_400_lists_the_supported_ones() -> None:
    with pytest.raises(InvalidRequest) as info:
        document_block_from_file(file(data_url("image/tiff", b"II*")), "f")
    for media_type in DOCUMENT_MEDIA_TYPES:
        assert media_type in str(info.value)


def test_a_file_part_in_a_conversation_names_its_position_and_keeps_its_breakpoint() -> None:
    part = chat_pb.ContentPart(file=file(data_url("text/markdown", b"# Notes")))
    part.cache_control.CopyFrom(chat_pb.CacheControl())
    user = chat_pb.Message(
        role=chat_pb.ROLE_USER, content=[chat_pb.ContentPart(text="Sum up"), part]
    )
    request = chat_pb.ChatRequest(model=HAIKU.id, messages=[user])
    sent = message_params_from_request(request, HAIKU)
    assert sent["messages"][0]["content"][1] == {
        "type": "document",
        "source": {"type": "text", "media_type": "text/plain", "data": "# Notes"},
        "cache_control": {"type": "ephemeral"},
    }
    bad = chat_pb.ContentPart(file=file(data_url("video/mp4", b"x")))
    system = chat_pb.Message(role=chat_pb.ROLE_SYSTEM, content=[chat_pb.ContentPart(text="s")])
    user = chat_pb.Message(role=chat_pb.ROLE_USER, content=[chat_pb.ContentPart(text="a"), bad])
    with pytest.raises(InvalidRequest) as info:
        message_params_from_request(
            chat_pb.ChatRequest(model=HAIKU.id, messages=[system, user]), HAIKU
        )
    assert info.value.metadata == {"param": "messages.1.content.1.file.file_data"}
