"""The values of ``config.toml``'s fields: times of day, the token, web addresses, proxies,
the webhook's secret, paths relative to the file — each checked with a fix in plain words
(bot/config.py builds the sections from them)."""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import re
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit, urlunsplit

from pydantic import BaseModel, BeforeValidator, Field
from pydantic_core import PydanticCustomError

TOKEN_ENV = "WARMLINE_TOKEN"
WEBHOOK_SECRET_ENV = "WARMLINE_WEBHOOK_SECRET"

_TIME_OF_DAY = re.compile(r"^(\d{1,2}):(\d{2})$")


def _time_of_day(value: Any) -> Any:
    """A station time "HH:MM". "9:00" is read as "09:00"; an unquoted TOML time (08:30:00)
    is accepted too. Anything else names the format (see bot/configmsg.py)."""
    if isinstance(value, dt.time) and value.second == 0 and value.microsecond == 0:
        return f"{value.hour:02d}:{value.minute:02d}"
    if isinstance(value, str):
        match = _TIME_OF_DAY.match(value.strip())
        if match and int(match.group(1)) < 24 and int(match.group(2)) < 60:
            return f"{int(match.group(1)):02d}:{match.group(2)}"
    raise PydanticCustomError("time_of_day", "not a time of day")


HHMM = Annotated[str, BeforeValidator(_time_of_day)]


def _one_or_more(value: Any) -> Any:
    """A list of times may be written as one string: "9:00" or "09:00, 20:00"."""
    if isinstance(value, str):
        return [part.strip() for part in value.split(",")]
    return value


TIMES = Annotated[list[HHMM], BeforeValidator(_one_or_more)]


def distinct_sorted(value: list[Any], fix: str) -> list[Any]:
    """A list whose items may each appear once (``fix``: what to do otherwise), sorted."""
    if len(set(value)) != len(value):
        raise ValueError(fix)
    return sorted(value)

_TOKEN = re.compile(r"^\d+:[A-Za-z0-9_-]+$")
_TOKEN_FIX = "copy the whole token from @BotFather: digits, a colon, then letters and digits"


def _clean_token(value: Any) -> Any:
    """Surrounding spaces (a pasted token) are dropped; the rest must look like a token."""
    if not isinstance(value, str):
        return value
    value = value.strip()
    if value and not _TOKEN.match(value):
        # The token itself is never repeated in a message.
        raise ValueError(f"this does not look like a bot token → {_TOKEN_FIX}")
    return value


def _quoted(value: str) -> str:
    """A value as TOML shows text: in double quotes."""
    return json.dumps(value, ensure_ascii=False)


def _http_url(value: str, example: str) -> str:
    value = value.strip()
    if not re.match(r"^https?://[^\s/?#]+(/\S*)?$", value):
        raise ValueError(
            f"{_quoted(value)} is not a web address → write the whole address, starting with "
            f'"https://" (or "http://"), e.g. "{example}"'
        )
    return value


# -- reaching Telegram through a proxy; the web server (issue 12) ---------------------------

PROXY_SCHEMES = ("http", "https", "socks5", "socks5h")
_PROXY_EXAMPLES = '"socks5h://127.0.0.1:1080" or "http://127.0.0.1:7890"'


def _proxy_url(value: Any) -> Any:
    """``[telegram] proxy``: empty, or a whole proxy address (scheme, host, optional port and
    user:password). Anything else is named in plain words with two examples."""
    if not isinstance(value, str):
        return value
    value = value.strip()
    if not value:
        return ""
    shown = _quoted(mask_proxy(value))
    if "://" not in value:
        raise ValueError(
            f"{shown} has no scheme → write the whole address, e.g. {_PROXY_EXAMPLES}"
        )
    parts = urlsplit(value)
    scheme = parts.scheme.lower()
    if scheme not in PROXY_SCHEMES:
        raise ValueError(
            f"{shown}: {scheme}:// proxies are not supported → use http://, https://, "
            "socks5:// or socks5h:// (socks5h: the proxy looks up Telegram's address), e.g. "
            f"{_PROXY_EXAMPLES}"
        )
    try:
        port = parts.port
    except ValueError:
        port = -1
    if not parts.hostname or port == -1 or parts.path not in ("", "/") or parts.query:
        raise ValueError(
            f"{shown} is not a proxy address → write scheme://host:port (with user:password@ "
            f"before the host if the proxy needs it; write @ : / in them as %40 %3A %2F), e.g. "
            f"{_PROXY_EXAMPLES}"
        )
    return value


def mask_proxy(url: str) -> str:
    """A proxy address as it may be shown (check-config, logs): the password as "***"."""
    parts = urlsplit(url) if "://" in url else None
    if parts is None or not parts.password:
        return url
    user = parts.username or ""
    host = parts.netloc.rsplit("@", 1)[1]
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))


_WEBHOOK_SECRET = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
_WEBHOOK_SECRET_FIX = (
    "use 1–256 letters, digits, _ or - (or leave it empty: the bot generates one and keeps "
    "it in its database)"
)


def _webhook_secret(value: Any) -> Any:
    if isinstance(value, str):
        value = value.strip()
        if value and not _WEBHOOK_SECRET.match(value):
            raise ValueError(
                f"this secret has characters Telegram does not allow → {_WEBHOOK_SECRET_FIX}"
            )
    return value


def _public_url(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    value = value.strip().rstrip("/")
    if not value:
        return ""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise ValueError(
            f"{_quoted(value)} is not a web address → write the https address nginx (or another "
            'proxy) serves the web server at, e.g. "https://warmline.example.org"'
        )
    return value


def is_loopback_host(host: str | None) -> bool:
    """Only this machine can reach it: localhost, 127.0.0.0/8, ::1."""
    if not host:
        return False
    if host.lower() in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class _RelativeToConfig:
    """Marks a path written in config.toml: see :func:`_resolve_paths`."""


#: A file or folder path from config.toml (the database; later backup folders...). A relative
#: path is relative to the config file's folder, never to the working directory (which is
#: "/" under a service manager); "~" is the user's home. Resolved by ``parse_config``.
ConfigPath = Annotated[str, Field(min_length=1), _RelativeToConfig()]


def _resolve_paths(model: BaseModel, base_dir: Path) -> Any:
    """``model`` with every :data:`ConfigPath` made absolute against ``base_dir``."""
    updates: dict[str, Any] = {}
    for name, field in type(model).model_fields.items():
        value = getattr(model, name)
        if any(isinstance(m, _RelativeToConfig) for m in field.metadata):
            if value not in (":memory:", ""):  # "": an optional path left unset
                path = Path(value).expanduser()
                updates[name] = str(path if path.is_absolute() else base_dir / path)
        elif isinstance(value, BaseModel):
            updates[name] = _resolve_paths(value, base_dir)
        elif isinstance(value, list) and value and isinstance(value[0], BaseModel):
            updates[name] = [_resolve_paths(item, base_dir) for item in value]
    return model.model_copy(update=updates) if updates else model
