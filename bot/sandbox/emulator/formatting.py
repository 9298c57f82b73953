"""Telegram's text formatting: its HTML ``parse_mode`` and the length limits of texts and
captions, counted as Telegram counts them (UTF-16 code units).

Only the allowed tags, balanced nesting, the four named entities plus numeric ones.
``Markdown``/``MarkdownV2`` are not parsed: such text is stored as sent, without entities.
"""

from __future__ import annotations

import html
import re
from typing import Any

from bot.sandbox.emulator.errors import bad

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024


class HtmlParseError(ValueError):
    """Markup that Telegram would refuse with ``can't parse entities``."""


_SIMPLE_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "code": "code",
    "pre": "pre",
    "tg-spoiler": "spoiler",
}
_ALLOWED_TAGS = {*_SIMPLE_TAGS, "a", "span", "blockquote", "tg-emoji"}
_TAG_NAME_RE = re.compile(r"([A-Za-z][A-Za-z0-9-]*)")
_ATTR_RE = re.compile(
    r"""\s*([A-Za-z_:][-A-Za-z0-9_:.]*)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?"""
)
_CHAR_REF_RE = re.compile(r"&(#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|lt|gt|amp|quot);")
_NAMED_REFS = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}


def u16(text: str) -> int:
    """Length of ``text`` in UTF-16 code units (Telegram's unit for offsets and limits)."""
    return len(text.encode("utf-16-le")) // 2


def _parse_attrs(rest: str) -> dict[str, str]:
    attrs: dict[str, str] = {}
    pos = 0
    rest = rest.rstrip().removesuffix("/")
    while pos < len(rest):
        m = _ATTR_RE.match(rest, pos)
        if not m or m.end() == pos:
            break
        value = next((g for g in m.groups()[1:] if g is not None), "")
        attrs[m.group(1).lower()] = html.unescape(value)
        pos = m.end()
    return attrs


def parse_html(text: str) -> tuple[str, list[dict]]:
    """Parse Telegram-flavoured HTML into ``(plain_text, entities)``.

    Raises :class:`HtmlParseError` with a Telegram-like message for unsupported tags,
    unbalanced tags or an unterminated tag.
    """
    out: list[str] = []
    pos16 = 0
    stack: list[dict] = []
    entities: list[dict] = []
    i = 0
    n = len(text)

    def byte_offset(idx: int) -> int:
        return len(text[:idx].encode("utf-8"))

    while i < n:
        ch = text[i]
        if ch == "<":
            end = text.find(">", i + 1)
            if end == -1:
                raise HtmlParseError(f"Can't find end of the tag at byte offset {byte_offset(i)}")
            inner = text[i + 1 : end]
            if inner.startswith("/"):
                name = inner[1:].strip().lower()
                if not stack:
                    raise HtmlParseError(f"Unexpected end tag at byte offset {byte_offset(i)}")
                top = stack.pop()
                if name != top["tag"]:
                    raise HtmlParseError(
                        f"Unmatched end tag at byte offset {byte_offset(i)}, "
                        f'expected "</{top["tag"]}>", found "</{name}>"'
                    )
                entity = top["entity"]
                length = pos16 - top["start"]
                if entity is not None and length > 0:
                    entity.update(offset=top["start"], length=length)
                    entities.append(entity)
            else:
                m = _TAG_NAME_RE.match(inner)
                if not m:
                    raise HtmlParseError(
                        f'Unsupported start tag "{inner}" at byte offset {byte_offset(i)}'
                    )
                name = m.group(1).lower()
                if name not in _ALLOWED_TAGS:
                    raise HtmlParseError(
                        f'Unsupported start tag "{name}" at byte offset {byte_offset(i)}'
                    )
                attrs = _parse_attrs(inner[m.end() :])
                entity = _entity_for_tag(name, attrs, stack, pos16)
                stack.append({"tag": name, "start": pos16, "entity": entity})
            i = end + 1
        elif ch == "&":
            m = _CHAR_REF_RE.match(text, i)
            if m:
                ref = m.group(1)
                if ref.startswith("#"):
                    code = int(ref[2:], 16) if ref[1:2] in ("x", "X") else int(ref[1:])
                    try:
                        piece = chr(code)
                    except (ValueError, OverflowError):
                        piece = "\ufffd"
                else:
                    piece = _NAMED_REFS[ref]
                i = m.end()
            else:
                piece = "&"
                i += 1
            out.append(piece)
            pos16 += u16(piece)
        else:
            j = i
            while j < n and text[j] not in "<&":
                j += 1
            piece = text[i:j]
            out.append(piece)
            pos16 += u16(piece)
            i = j
    if stack:
        raise HtmlParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1]["tag"]}"')
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), entities


def _entity_for_tag(name: str, attrs: dict[str, str], stack: list[dict], pos16: int) -> dict | None:
    if name in _SIMPLE_TAGS:
        if name == "code" and stack and stack[-1]["tag"] == "pre" and stack[-1]["start"] == pos16:
            # <pre><code class="language-python"> sets the language of the pre block.
            lang = attrs.get("class", "")
            pre = stack[-1]["entity"]
            if lang.startswith("language-") and pre is not None:
                pre["language"] = lang.removeprefix("language-")
                return None
        return {"type": _SIMPLE_TAGS[name]}
    if name == "a":
        href = attrs.get("href")
        return {"type": "text_link", "url": href} if href else None
    if name == "span":
        if attrs.get("class") != "tg-spoiler":
            raise HtmlParseError('Tag "span" must have class "tg-spoiler"')
        return {"type": "spoiler"}
    if name == "blockquote":
        return {"type": "expandable_blockquote" if "expandable" in attrs else "blockquote"}
    if name == "tg-emoji":
        emoji_id = attrs.get("emoji-id")
        if not emoji_id:
            raise HtmlParseError("Custom emoji identifier must be non-empty")
        return {"type": "custom_emoji", "custom_emoji_id": emoji_id}
    return None  # pragma: no cover - every allowed tag is handled above


def format_text(
    raw: Any, parse_mode: Any, entities: Any, *, caption: bool
) -> tuple[str | None, list[dict]]:
    """``(plain text, entities)`` of a text or caption as sent, checked as Telegram does."""
    if raw is None:
        return None, []
    raw = str(raw)
    mode = str(parse_mode or "").lower()
    if mode == "html":
        try:
            plain, ents = parse_html(raw)
        except HtmlParseError as exc:
            raise bad(f"can't parse entities: {exc}") from None
    elif mode in ("markdown", "markdownv2"):
        plain, ents = raw, []
    elif mode == "":
        plain = raw
        ents = list(entities) if isinstance(entities, list) else []
    else:
        raise bad(f"unsupported parse_mode {parse_mode}")
    if caption:
        if u16(plain) > CAPTION_LIMIT:
            raise bad("message caption is too long")
    else:
        if not plain.strip():
            raise bad("message text is empty")
        if u16(plain) > TEXT_LIMIT:
            raise bad("message is too long")
    return plain, ents


def caption_content(caption: str | None, entities: list[dict]) -> dict:
    """The ``caption`` and ``caption_entities`` of a message (neither for an empty caption)."""
    if not caption:
        return {}
    return {"caption": caption, "caption_entities": entities} if entities else {"caption": caption}


def format_caption(params: dict) -> tuple[Any, str | None, list[dict]]:
    """``(caption as sent, plain text, entities)`` of the ``caption`` parameters of a send."""
    plain, ents = format_text(
        params.get("caption"),
        params.get("parse_mode"),
        params.get("caption_entities"),
        caption=True,
    )
    return params.get("caption"), plain, ents
