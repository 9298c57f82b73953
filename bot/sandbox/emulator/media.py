"""Files and media: what a photo, document, voice, video or sticker looks like in the Bot API.

No image processing: photo "sizes" share the uploaded bytes; dimensions are read from the
JPEG/PNG/GIF header.
"""

from __future__ import annotations

import base64
import struct
from typing import Any

#: A valid 16x12 baseline JPEG (286 bytes), the default picture of ``send_photo``.
TINY_JPEG: bytes = base64.b64decode(
    "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDABALDA4MChAODQ4SERATGCgaGBYWGDEjJR0oOjM9PDkzODdASFxOQERXRTc4"
    "UG1RV19iZ2hnPk1xeXBkeFxlZ2P/2wBDARESEhgVGC8aGi9jQjhCY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2Nj"
    "Y2NjY2NjY2NjY2NjY2NjY2NjY2P/wAARCAAMABADASIAAhEBAxEB/8QAFQABAQAAAAAAAAAAAAAAAAAAAAT/xAAUEAEA"
    "AAAAAAAAAAAAAAAAAAAA/8QAFAEBAAAAAAAAAAAAAAAAAAAABf/EABQRAQAAAAAAAAAAAAAAAAAAAAD/2gAMAwEAAhED"
    "EQA/AJgBh5//2Q=="
)

DEFAULT_VOICE = b"OggS\x00\x02" + bytes(58)
DEFAULT_VIDEO = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + bytes(40)
DEFAULT_STICKER = b"RIFF\x24\x00\x00\x00WEBPVP8 " + bytes(24)


def image_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) of a JPEG, PNG or GIF from its header, or None."""
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24:
        w, h = struct.unpack(">II", data[16:24])
        return w, h
    if data[:4] == b"GIF8" and len(data) >= 10:
        w, h = struct.unpack("<HH", data[6:10])
        return w, h
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return 512, 512
    if data[:2] == b"\xff\xd8":
        i = 2
        while i + 9 < len(data):
            if data[i] != 0xFF:
                i += 1
                continue
            marker = data[i + 1]
            if marker == 0xFF:
                i += 1
                continue
            if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
                i += 2
                continue
            seg_len = struct.unpack(">H", data[i + 2 : i + 4])[0]
            if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
                h, w = struct.unpack(">HH", data[i + 5 : i + 9])
                return w, h
            i += 2 + seg_len
    return None


def scaled(w: int, h: int, box: int) -> tuple[int, int]:
    biggest = max(w, h, 1)
    if biggest <= box:
        return max(1, w // 2), max(1, h // 2)
    return max(1, round(w * box / biggest)), max(1, round(h * box / biggest))


#: Per kind of file: the folder of its ``file_path`` and the start of its ``file_id``.
KIND_DIRS = {
    "photo": ("photos", "AgACAgUAAxkBAAI"),
    "document": ("documents", "BQACAgUAAxkBAAI"),
    "voice": ("voice", "AwACAgUAAxkBAAI"),
    "video": ("videos", "BAACAgUAAxkBAAI"),
    "sticker": ("stickers", "CAACAgUAAxkBAAI"),
    "audio": ("music", "CQACAgUAAxkBAAI"),
    "animation": ("animations", "CgACAgUAAxkBAAI"),
}
#: The file name extension of each kind (documents keep their own).
KIND_EXT = {
    "photo": "jpg",
    "voice": "oga",
    "video": "mp4",
    "sticker": "webp",
    "audio": "mp3",
    "animation": "mp4",
}


#: Telegram lets bots download files of up to 20 MB.
DOWNLOAD_LIMIT = 20 * 1024 * 1024


def file_ref(entry: dict) -> dict:
    """The identifying fields of a stored file, as every Bot API file object has them."""
    return {
        "file_id": entry["file_id"],
        "file_unique_id": entry["file_unique_id"],
        "file_size": entry["file_size"],
    }


def describe_file(
    kind: str, entry: dict, file_name: str | None, mime: str | None, params: dict
) -> Any:
    """The Bot API object (PhotoSize list, Document, Voice, Video, Sticker, Audio) of a stored
    file; ``params`` may give ``duration``, ``width`` and ``height``."""
    ref = file_ref(entry)
    obj: dict[str, Any]
    if kind == "photo":
        w, h = image_size(entry["data"]) or (1280, 960)
        return [{**ref, "width": w, "height": h}]
    if kind == "document":
        obj = {}
        if file_name:
            obj["file_name"] = file_name
        obj["mime_type"] = mime or "application/octet-stream"
        obj.update(ref)
    elif kind == "voice":
        obj = {"duration": int(params.get("duration") or 0), "mime_type": "audio/ogg", **ref}
    elif kind == "video":
        obj = {
            "width": int(params.get("width") or 640),
            "height": int(params.get("height") or 360),
            "duration": int(params.get("duration") or 0),
        }
        if file_name:
            obj["file_name"] = file_name
        obj.update(mime_type=mime or "video/mp4", **ref)
    elif kind == "sticker":
        obj = {
            "width": 512,
            "height": 512,
            "emoji": "🙂",
            "is_animated": False,
            "is_video": False,
            "type": "regular",
            **ref,
        }
    else:  # audio
        obj = {"duration": int(params.get("duration") or 0), **ref}
        if file_name:
            obj["file_name"] = file_name
        if mime:
            obj["mime_type"] = mime
    return obj
