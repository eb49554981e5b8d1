from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ImageFormat(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    IMAGE_FORMAT_UNSPECIFIED: _ClassVar[ImageFormat]
    IMAGE_FORMAT_PNG: _ClassVar[ImageFormat]
    IMAGE_FORMAT_JPEG: _ClassVar[ImageFormat]
    IMAGE_FORMAT_WEBP: _ClassVar[ImageFormat]

class ImageQuality(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    IMAGE_QUALITY_UNSPECIFIED: _ClassVar[ImageQuality]
    IMAGE_QUALITY_LOW: _ClassVar[ImageQuality]
    IMAGE_QUALITY_MEDIUM: _ClassVar[ImageQuality]
    IMAGE_QUALITY_HIGH: _ClassVar[ImageQuality]
    IMAGE_QUALITY_XHIGH: _ClassVar[ImageQuality]
    IMAGE_QUALITY_MAX: _ClassVar[ImageQuality]
IMAGE_FORMAT_UNSPECIFIED: ImageFormat
IMAGE_FORMAT_PNG: ImageFormat
IMAGE_FORMAT_JPEG: ImageFormat
IMAGE_FORMAT_WEBP: ImageFormat
IMAGE_QUALITY_UNSPECIFIED: ImageQuality
IMAGE_QUALITY_LOW: ImageQuality
IMAGE_QUALITY_MEDIUM: ImageQuality
IMAGE_QUALITY_HIGH: ImageQuality
IMAGE_QUALITY_XHIGH: ImageQuality
IMAGE_QUALITY_MAX: ImageQuality

class GenerateRequest(_message.Message):
    __slots__ = ("prompt", "n", "size", "user", "output")
    PROMPT_FIELD_NUMBER: _ClassVar[int]
    N_FIELD_NUMBER: _ClassVar[int]
    SIZE_FIELD_NUMBER: _ClassVar[int]
    USER_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_FIELD_NUMBER: _ClassVar[int]
    prompt: str
    n: int
    size: int
    user: str
    output: ImageOutput
    def __init__(self, prompt: _Optional[str] = ..., n: _Optional[int] = ..., size: _Optional[int] = ..., user: _Optional[str] = ..., output: _Optional[_Union[ImageOutput, _Mapping]] = ...) -> None: ...

class ImageOutput(_message.Message):
    __slots__ = ("width", "height", "format", "compression", "transparent", "quality")
    WIDTH_FIELD_NUMBER: _ClassVar[int]
    HEIGHT_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    COMPRESSION_FIELD_NUMBER: _ClassVar[int]
    TRANSPARENT_FIELD_NUMBER: _ClassVar[int]
    QUALITY_FIELD_NUMBER: _ClassVar[int]
    width: int
    height: int
    format: ImageFormat
    compression: int
    transparent: bool
    quality: ImageQuality
    def __init__(self, width: _Optional[int] = ..., height: _Optional[int] = ..., format: _Optional[_Union[ImageFormat, str]] = ..., compression: _Optional[int] = ..., transparent: _Optional[bool] = ..., quality: _Optional[_Union[ImageQuality, str]] = ...) -> None: ...

class ImageUsage(_message.Message):
    __slots__ = ("input_text_tokens", "input_image_tokens", "output_tokens")
    INPUT_TEXT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    INPUT_IMAGE_TOKENS_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    input_text_tokens: int
    input_image_tokens: int
    output_tokens: int
    def __init__(self, input_text_tokens: _Optional[int] = ..., input_image_tokens: _Optional[int] = ..., output_tokens: _Optional[int] = ...) -> None: ...

class EditRequest(_message.Message):
    __slots__ = ("prompt", "images", "mask", "n", "output", "user")
    PROMPT_FIELD_NUMBER: _ClassVar[int]
    IMAGES_FIELD_NUMBER: _ClassVar[int]
    MASK_FIELD_NUMBER: _ClassVar[int]
    N_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_FIELD_NUMBER: _ClassVar[int]
    USER_FIELD_NUMBER: _ClassVar[int]
    prompt: str
    images: _containers.RepeatedScalarFieldContainer[bytes]
    mask: bytes
    n: int
    output: ImageOutput
    user: str
    def __init__(self, prompt: _Optional[str] = ..., images: _Optional[_Iterable[bytes]] = ..., mask: _Optional[bytes] = ..., n: _Optional[int] = ..., output: _Optional[_Union[ImageOutput, _Mapping]] = ..., user: _Optional[str] = ...) -> None: ...

class EditResponse(_message.Message):
    __slots__ = ("images", "failed", "usage")
    IMAGES_FIELD_NUMBER: _ClassVar[int]
    FAILED_FIELD_NUMBER: _ClassVar[int]
    USAGE_FIELD_NUMBER: _ClassVar[int]
    images: _containers.RepeatedCompositeFieldContainer[GeneratedImage]
    failed: int
    usage: ImageUsage
    def __init__(self, images: _Optional[_Iterable[_Union[GeneratedImage, _Mapping]]] = ..., failed: _Optional[int] = ..., usage: _Optional[_Union[ImageUsage, _Mapping]] = ...) -> None: ...

class GeneratedImage(_message.Message):
    __slots__ = ("id", "png", "revised_prompt", "mime_type", "width", "height")
    ID_FIELD_NUMBER: _ClassVar[int]
    PNG_FIELD_NUMBER: _ClassVar[int]
    REVISED_PROMPT_FIELD_NUMBER: _ClassVar[int]
    MIME_TYPE_FIELD_NUMBER: _ClassVar[int]
    WIDTH_FIELD_NUMBER: _ClassVar[int]
    HEIGHT_FIELD_NUMBER: _ClassVar[int]
    id: str
    png: bytes
    revised_prompt: str
    mime_type: str
    width: int
    height: int
    def __init__(self, id: _Optional[str] = ..., png: _Optional[bytes] = ..., revised_prompt: _Optional[str] = ..., mime_type: _Optional[str] = ..., width: _Optional[int] = ..., height: _Optional[int] = ...) -> None: ...

class GenerateResponse(_message.Message):
    __slots__ = ("images", "failed", "usage")
    IMAGES_FIELD_NUMBER: _ClassVar[int]
    FAILED_FIELD_NUMBER: _ClassVar[int]
    USAGE_FIELD_NUMBER: _ClassVar[int]
    images: _containers.RepeatedCompositeFieldContainer[GeneratedImage]
    failed: int
    usage: ImageUsage
    def __init__(self, images: _Optional[_Iterable[_Union[GeneratedImage, _Mapping]]] = ..., failed: _Optional[int] = ..., usage: _Optional[_Union[ImageUsage, _Mapping]] = ...) -> None: ...

class RemoveBackgroundRequest(_message.Message):
    __slots__ = ("image",)
    IMAGE_FIELD_NUMBER: _ClassVar[int]
    image: bytes
    def __init__(self, image: _Optional[bytes] = ...) -> None: ...

class RemoveBackgroundResponse(_message.Message):
    __slots__ = ("png",)
    PNG_FIELD_NUMBER: _ClassVar[int]
    png: bytes
    def __init__(self, png: _Optional[bytes] = ...) -> None: ...

class GetImageRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class GetImageResponse(_message.Message):
    __slots__ = ("png", "mime_type")
    PNG_FIELD_NUMBER: _ClassVar[int]
    MIME_TYPE_FIELD_NUMBER: _ClassVar[int]
    png: bytes
    mime_type: str
    def __init__(self, png: _Optional[bytes] = ..., mime_type: _Optional[str] = ...) -> None: ...
