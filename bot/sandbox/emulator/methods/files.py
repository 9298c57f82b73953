"""Files and media: sending photos, documents, voice, video, stickers and albums (uploaded,
``attach://``, by ``file_id`` or by URL), and ``getFile``.

A URL given as file is accepted, but its content is empty (the emulator fetches nothing).
"""

from __future__ import annotations

import copy
import re
from typing import Any

from bot.sandbox.emulator.errors import bad
from bot.sandbox.emulator.formatting import caption_content, format_caption
from bot.sandbox.emulator.media import DOWNLOAD_LIMIT, describe_file, file_ref, image_size
from bot.sandbox.emulator.world import World
from bot.sandbox.httpd import Upload

_ALBUM_KINDS = ("photo", "video", "document", "audio")


class FilesApi(World):
    def _api_sendPhoto(self, params: dict, uploads: dict) -> dict:
        return self._send_media(params, uploads, "photo")

    def _api_sendDocument(self, params: dict, uploads: dict) -> dict:
        return self._send_media(params, uploads, "document")

    def _api_sendVoice(self, params: dict, uploads: dict) -> dict:
        return self._send_media(params, uploads, "voice")

    def _api_sendVideo(self, params: dict, uploads: dict) -> dict:
        return self._send_media(params, uploads, "video")

    def _api_sendSticker(self, params: dict, uploads: dict) -> dict:
        return self._send_media(params, uploads, "sticker")

    def _api_sendMediaGroup(self, params: dict, uploads: dict) -> list[dict]:
        chat, _, reply = self._prepare({**params, "reply_markup": None})
        media = params.get("media")
        if not isinstance(media, list) or not 2 <= len(media) <= 10:
            raise bad("wrong number of media: an album must contain 2-10 items")
        prepared = []
        for item in media:
            if not isinstance(item, dict) or item.get("type") not in _ALBUM_KINDS:
                raise bad("unsupported media type in the album")
            prepared.append((item, format_caption(item)))
        self._media_group_counter += 1
        extra = {"media_group_id": str(13_000_000_000_000_000 + self._media_group_counter)}
        return [
            self._post_media(
                chat,
                item,
                uploads,
                item["type"],
                item.get("media"),
                caption,
                reply=reply,
                extra=extra,
            )
            for item, caption in prepared
        ]

    def _api_getFile(self, params: dict, uploads: dict) -> dict:
        entry = self._files.get(str(params.get("file_id") or ""))
        if entry is None:
            raise bad("invalid file_id")
        if entry["file_size"] > DOWNLOAD_LIMIT:
            raise bad("file is too big")
        return {**file_ref(entry), "file_path": entry["file_path"]}

    # ---------------------------------------------------------------- helpers

    def _send_media(self, params: dict, uploads: dict, kind: str) -> dict:
        chat, markup, reply = self._prepare(params)
        caption = format_caption(params)
        return self._post_media(
            chat, params, uploads, kind, params.get(kind), caption, markup=markup, reply=reply
        )

    def _post_media(
        self,
        chat: dict,
        params: dict,
        uploads: dict[str, Upload],
        kind: str,
        value: Any,
        caption: tuple[Any, str | None, list[dict]],
        **post: Any,
    ) -> dict:
        """Post a message with the file ``value`` (of parameter ``kind``) and its caption."""
        raw, plain, ents = caption
        entry, upload = self._input_file(value, uploads, kind)
        content = self._media_content(kind, entry, upload, params)
        content.update(caption_content(plain, ents))
        raw_text = str(raw) if plain else None
        return self._post_bot_message(chat, params, kind, content, raw_text, plain or None, **post)

    def _input_file(
        self, value: Any, uploads: dict[str, Upload], kind: str
    ) -> tuple[dict | None, Upload | None]:
        """Resolve the file parameter ``kind``: ``(stored entry, None)`` for a file_id,
        ``(None, upload)`` for new content (multipart upload, ``attach://name`` or a URL)."""
        upload = uploads.get(kind)
        if upload is None and isinstance(value, str) and value.startswith("attach://"):
            upload = uploads.get(value[len("attach://") :])
            if upload is None:
                raise bad(f"file {value} not found in the request")
        if upload is not None:
            if kind == "photo" and image_size(upload.data) is None:
                raise bad("IMAGE_PROCESS_FAILED")
            return None, upload
        if isinstance(value, str) and value:
            if re.match(r"^https?://", value):
                # The emulator cannot fetch URLs: accept them as empty files.
                name = value.rsplit("/", 1)[-1] or "file"
                return None, Upload(filename=name, content_type="", data=b"")
            entry = self._files.get(value)
            if entry is None:
                raise bad("wrong file identifier/HTTP URL specified")
            if entry["type"] != kind:
                raise bad("type of file mismatch")
            return entry, None
        raise bad(f"there is no {kind} in the request")

    def _media_content(
        self, kind: str, entry: dict | None, upload: Upload | None, params: dict
    ) -> dict:
        """The Telegram object (photo sizes, Document, Voice, Video...) for a file parameter."""
        if upload is None:
            assert entry is not None
            if entry.get("object") is None:
                entry["object"] = describe_file(kind, entry, None, None, params)
            return {kind: copy.deepcopy(entry["object"])}
        if kind == "photo":
            return {"photo": self._store_photo(upload.data)}
        mime = upload.content_type or None
        entry = self._store_file(kind, upload.data, file_name=upload.filename, mime=mime)
        entry["object"] = describe_file(kind, entry, upload.filename, mime, params)
        return {kind: copy.deepcopy(entry["object"])}
