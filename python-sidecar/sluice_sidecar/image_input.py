"""Untrusted image bytes → upright RGB pixels, with the format and size checks OCR and CLIP share."""

import io
import logging

from PIL import Image, ImageOps

from .errors import InvalidInput

logger = logging.getLogger("sluice_sidecar.images")

# Formats Pillow may try: the usual photo and screenshot ones. Naming them keeps Pillow's rarer parsers
# (and what they would make of a text file) out of the path of untrusted bytes.
ACCEPTED_FORMATS = ("PNG", "JPEG", "WEBP", "BMP", "GIF", "TIFF")
# A larger image is refused before decoding (a decompression bomb); RapidOCR shrinks to 2000 px a side anyway.
MAX_IMAGE_PIXELS = 40_000_000


def decode_rgb(data: bytes, param: str) -> Image.Image:
    """RGB pixels, upright per the EXIF orientation; a 400 naming `param` for anything else."""
    if not data:
        raise InvalidInput("The image file is empty.", param=param, code="invalid_image")
    try:
        with Image.open(io.BytesIO(data), formats=ACCEPTED_FORMATS) as image:
            width, height = image.size  # from the header, before any pixel is decoded
            if width * height > MAX_IMAGE_PIXELS:
                raise InvalidInput(f"The image is {width}×{height} pixels; at most {MAX_IMAGE_PIXELS:,} "
                                   "pixels are accepted.", param=param, code="image_too_large")
            image.load()
            return ImageOps.exif_transpose(image).convert("RGB")
    except (InvalidInput, MemoryError):
        raise
    except Exception as error:
        # Pillow's parsers raise UnidentifiedImageError, OSError (truncated), ValueError or SyntaxError for
        # bad input, varying with the format: all of them mean the upload is not an image we can read.
        logger.info("image not decodable", extra={"fields": {"error_class": type(error).__name__, "param": param}})
        raise InvalidInput(
            f"The {'file' if param == 'file' else param!r} could not be decoded as an image "
            f"({', '.join(ACCEPTED_FORMATS)}).",
            param=param,
            code="invalid_image",
        ) from error
