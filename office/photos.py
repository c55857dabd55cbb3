"""Photos attached to a field report: bounded before they are decoded, re-encoded without their metadata.

A phone's photo carries where it was taken (GPS EXIF), the phone's make and serial, sometimes
the owner's name.  None of that is kept: every photo is decoded once and written again as a
plain JPEG from its pixels alone (turned upright first, as its EXIF orientation says), so no
EXIF, XMP, ICC or comment block survives.  Before any pixel is decoded the file's size, its
format and its pixel count (from the header) are checked, so a decompression bomb is refused
by its header.
"""

from __future__ import annotations

import io
import logging
import threading
import warnings

from config.settings import settings
from layers.errors import InputFileError

log = logging.getLogger(__name__)

#: Formats a photo may arrive in (as Pillow names them).
FORMATS = ("JPEG", "PNG", "WEBP")
MAX_PHOTOS = 3
#: Photos decoded at once in this process (the ``photo_decodes`` setting, read when the module loads).
_DECODES = threading.BoundedSemaphore(settings().photo_decodes)
#: The longest side of a stored photo, in pixels (larger photos are scaled down).
MAX_SIDE = 1600


def max_photo_mb() -> float:
    """The largest photo file accepted (the ``max_photo_mb`` setting, 8 MB by default)."""
    return settings().max_photo_mb


def max_photo_megapixels() -> float:
    """The most pixels a photo may declare (the ``max_photo_megapixels`` setting, 40 by default)."""
    return settings().max_photo_megapixels


def clean_photo(content: bytes, name: str) -> tuple[bytes, int, int]:
    """The photo as a JPEG without metadata, with its width and height.

    Raises
    ------
    InputFileError
        Too large a file or too many pixels, not an image, a format other than JPEG/PNG/WebP,
        or an image that cannot be decoded; the message names the file and what is accepted.
    """
    from PIL import Image, ImageOps, UnidentifiedImageError

    limit_mb = max_photo_mb()
    if len(content) > limit_mb * 1024 * 1024:
        raise InputFileError.coded("photo.too_big", name=name, mb=f"{len(content) / 1048576:.1f}",
                                   limit=f"{limit_mb:g}")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(content))  # reads the header only
            if image.format not in FORMATS:
                raise InputFileError.coded("photo.format", name=name, found=str(image.format),
                                           formats="JPEG, PNG, WebP")
            megapixels = image.width * image.height / 1e6
            if megapixels > max_photo_megapixels():
                raise InputFileError.coded("photo.pixels", name=name, mp=f"{megapixels:.0f}",
                                           limit=f"{max_photo_megapixels():g}")
            with _DECODES:  # a few decodes at a time: a 40-megapixel PNG takes 160 MB while it is decoded
                if image.format == "JPEG":
                    image.draft("RGB", (MAX_SIDE, MAX_SIDE))  # the decoder scales down as it reads
                image.load()
                factor = max(1, min(image.width, image.height) // MAX_SIDE)
                small = image.reduce(factor) if factor > 1 else image
                upright = ImageOps.exif_transpose(small).convert("RGB")
                del image, small
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise InputFileError.coded("photo.not_image", name=name, formats="JPEG, PNG, WebP") from None
    except (OSError, SyntaxError, ValueError) as exc:
        if isinstance(exc, InputFileError):
            raise
        log.info("photo %s could not be decoded: %s", name, exc)
        raise InputFileError.coded("photo.broken", name=name) from None
    upright.thumbnail((MAX_SIDE, MAX_SIDE))
    pixels = Image.new("RGB", upright.size)  # a new image holds the pixels and nothing else: no EXIF, GPS, XMP,
    pixels.paste(upright)                    # ICC profile or comment can ride along into the saved file
    out = io.BytesIO()
    pixels.save(out, format="JPEG", quality=85, optimize=True)
    return out.getvalue(), pixels.width, pixels.height


def clean_photos(files: list[tuple[bytes, str]]) -> list[tuple[bytes, int, int]]:
    """Every photo of a report cleaned (:func:`clean_photo`); at most :data:`MAX_PHOTOS`."""
    if len(files) > MAX_PHOTOS:
        raise InputFileError.coded("photo.too_many", n=len(files), limit=MAX_PHOTOS)
    return [clean_photo(content, name) for content, name in files]


__all__ = ["clean_photo", "clean_photos", "max_photo_mb", "max_photo_megapixels", "MAX_PHOTOS", "FORMATS"]
