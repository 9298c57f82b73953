"""Images sent as files keep their metadata (GPS position, device): strip it before use.

Photos sent the normal way are re-encoded by Telegram without metadata; a JPEG sent as a
*file* arrives byte for byte, EXIF and all. We decode it, apply its orientation, and encode a
fresh image with no metadata at all; only that clean copy is ever forwarded.

Pillow is imported at the first image, not when the bot starts (issue 16: the cold start).
"""

from __future__ import annotations

import io

MAX_IMAGE_BYTES = 10 * 1024 * 1024
MAX_SIDE = 2560  # the size Telegram itself keeps for photos


class NotAnImage(ValueError):
    pass


def strip_metadata(data: bytes) -> bytes:
    """A clean JPEG of the image in ``data`` (EXIF, XMP, ICC, comments all dropped)."""
    if len(data) > MAX_IMAGE_BYTES:
        raise NotAnImage("image too large")
    from PIL import Image, ImageOps, UnidentifiedImageError  # local: see the module docstring

    try:
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            image = ImageOps.exif_transpose(image)  # keep how it looked, lose the tag
            image = image.convert("RGB")
            image.thumbnail((MAX_SIDE, MAX_SIDE))
            clean = Image.new("RGB", image.size)
            clean.paste(image)
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as exc:
        raise NotAnImage(str(exc)) from exc
    out = io.BytesIO()
    clean.save(out, format="JPEG", quality=88, optimize=True)
    return out.getvalue()
