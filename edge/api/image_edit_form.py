"""The multipart body of ``/images/edits``, as the OpenAI SDKs send it: the files in
``image`` (one) or ``image[]`` (several), ``mask``, and every other parameter as a text
field, validated as :class:`ImageEditRequest`."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import ValidationError
from starlette.datastructures import UploadFile
from starlette.requests import Request

from drafter.edge.api.uploads import read_form
from drafter.edge.errors import api_error_from_validation, invalid_request
from drafter.edge.openai.images_protocol import ImageEditRequest
from drafter.limits import IMAGE_EDIT_MAX_IMAGES, IMAGE_EDIT_MAX_TOTAL_BYTES, IMAGE_MASK_MAX_BYTES

IMAGE_FIELDS = ("image", "image[]")
FILE_FIELDS = (*IMAGE_FIELDS, "mask", "markup")
# Form fields besides the files: every parameter once, with room to spare.
MAX_FIELDS = 40


@dataclass(frozen=True, slots=True)
class EditForm:
    body: ImageEditRequest
    images: list[bytes]
    mask: bytes


async def read_edit_form(request: Request) -> EditForm:
    """The edit's parameters and files; 400 naming the field at fault, 413 past the
    upload limits (the images service checks each image's type, size and the mask)."""
    form = await read_form(
        request,
        "image",
        IMAGE_EDIT_MAX_TOTAL_BYTES + IMAGE_MASK_MAX_BYTES,
        max_files=IMAGE_EDIT_MAX_IMAGES + 2,
        max_fields=MAX_FIELDS,
        what="The uploaded images are together",
    )
    try:
        fields: dict[str, str] = {}
        for name, value in form.multi_items():
            if name in FILE_FIELDS:
                if not isinstance(value, UploadFile):
                    raise invalid_request(f"'{name}' must be a file.", name.rstrip("[]"))
            elif isinstance(value, str):
                fields[name] = value
            else:
                raise invalid_request(f"Unrecognized file field supplied: {name}", name)
        if form.get("markup") is not None:
            raise invalid_request(
                "'markup' is not supported by this image model; send a 'mask' instead.",
                "markup",
            )
        try:
            body = ImageEditRequest.model_validate(fields)
        except ValidationError as exc:
            raise api_error_from_validation(list(exc.errors())) from None
        uploads = [u for name in IMAGE_FIELDS for u in form.getlist(name)]
        images = [await u.read() for u in uploads if isinstance(u, UploadFile)]
        if not images:
            raise invalid_request("Missing required file field: 'image'.", "image")
        mask_upload = form.get("mask")
        mask = await mask_upload.read() if isinstance(mask_upload, UploadFile) else b""
        return EditForm(body, images, mask)
    finally:
        await form.close()
