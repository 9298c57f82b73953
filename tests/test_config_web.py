"""Config of issue 12 part A: ``[telegram] proxy / mode / webhook_secret``, ``[web]``,
``[health]`` — accepted forms, refusals in plain words, and what check-config shows."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from bot.cli import describe_connection
from bot.config import ConfigError, mask_proxy, parse_config
from tests.harness import config_text

FAKE_API = SimpleNamespace(
    token="123456:TEST-TOKEN",
    base_url="https://api.telegram.org/bot",
    base_file_url="https://api.telegram.org/file/bot",
)


def load(tmp_path: Path, env: dict[str, str] | None = None, **extra: str):
    text = config_text(FAKE_API, tmp_path / "w.sqlite3", **extra)  # type: ignore[arg-type]
    return parse_config(text, tmp_path / "config.toml", env=env or {})


def refused(tmp_path: Path, env: dict[str, str] | None = None, **extra: str) -> str:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, env, **extra)
    return str(caught.value)


@pytest.mark.parametrize(
    "proxy",
    [
        "http://127.0.0.1:7890",
        "https://proxy.example.org:443",
        "socks5://127.0.0.1:1080",
        "socks5h://warm:p%40ss%3Aword@127.0.0.1:1080",
        "SOCKS5H://[::1]:1080",
    ],
)
def test_proxy_forms_accepted(tmp_path: Path, proxy: str) -> None:
    assert load(tmp_path, proxy=proxy).telegram.proxy == proxy


@pytest.mark.parametrize(
    ("proxy", "said"),
    [
        ("127.0.0.1:1080", "has no scheme"),
        ("ftp://127.0.0.1:21", "ftp:// proxies are not supported"),
        ("socks4://127.0.0.1:1080", "socks4:// proxies are not supported"),
        ("socks5://127.0.0.1:port", "is not a proxy address"),
        ("http://:8080", "is not a proxy address"),
        ("http://127.0.0.1:7890/some/path", "is not a proxy address"),
        ("socks5://warm:s3cret-pw@127.0.0.1:99999", "is not a proxy address"),
    ],
)
def test_a_malformed_proxy_is_a_config_error_in_plain_words(
    tmp_path: Path, proxy: str, said: str
) -> None:
    message = refused(tmp_path, proxy=proxy)
    assert "telegram.proxy" in message and said in message, message
    assert "socks5h://127.0.0.1:1080" in message  # an example of what to write
    assert "s3cret-pw" not in message  # a password is never shown


def test_check_config_shows_the_proxy_with_the_password_masked(tmp_path: Path) -> None:
    config = load(tmp_path, proxy="socks5h://warm:s3cret-pw@127.0.0.1:1080")
    lines = describe_connection(config, env={})
    assert lines[0] == "proxy: socks5h://warm:***@127.0.0.1:1080"
    assert "s3cret-pw" not in "\n".join(lines)
    assert lines[1] == "updates: polling (getUpdates)"
    assert mask_proxy("http://127.0.0.1:7890") == "http://127.0.0.1:7890"


def test_check_config_shows_the_environments_proxy_when_none_is_set(tmp_path: Path) -> None:
    config = load(tmp_path)
    env = {"HTTPS_PROXY": "http://user:hidden-pw@10.0.0.5:3128"}
    assert describe_connection(config, env=env)[0] == (
        "proxy: http://user:***@10.0.0.5:3128 (from the environment, HTTPS_PROXY)"
    )
    bypassed = describe_connection(config, env={**env, "NO_PROXY": "api.telegram.org"})
    assert bypassed[0] == "proxy: none (the host is in NO_PROXY)"
    assert describe_connection(config, env={})[0] == "proxy: none (direct connection)"


def test_webhook_mode_needs_an_https_public_url(tmp_path: Path) -> None:
    message = refused(tmp_path, mode="webhook")
    assert "web.public_url" in message and "https" in message and 'mode = "polling"' in message
    message = refused(tmp_path, mode="webhook", public_url="http://warmline.example.org")
    assert "only to https addresses" in message
    ok = load(tmp_path, mode="webhook", public_url="https://warmline.example.org/")
    assert ok.web.public_url == "https://warmline.example.org"  # no trailing slash
    lines = describe_connection(ok, env={})
    assert lines[1] == (
        "updates: webhook at https://warmline.example.org/telegram "
        "(secret: generated on first start, kept in the database)"
    )
    # http on this machine's loopback only: tests and the sandbox.
    for local in ("http://127.0.0.1:8780", "http://localhost:8780", "http://[::1]:8780"):
        assert load(tmp_path, mode="webhook", public_url=local).telegram.mode == "webhook"
    assert "not a web address" in refused(tmp_path, public_url="warmline.example.org")


def test_webhook_secret_from_the_environment_wins_and_is_checked(tmp_path: Path) -> None:
    env = {"WARMLINE_WEBHOOK_SECRET": "from-the-env_123"}
    assert load(tmp_path, env).telegram.webhook_secret == "from-the-env_123"
    message = refused(tmp_path, {"WARMLINE_WEBHOOK_SECRET": "has spaces and ✓"})
    assert "WARMLINE_WEBHOOK_SECRET" in message and "letters, digits, _ or -" in message
    assert "has spaces" not in message


def test_web_and_health_defaults_and_refusals(tmp_path: Path) -> None:
    config = load(tmp_path)
    assert config.telegram.mode == "polling" and config.telegram.proxy == ""
    assert config.health.outage_notice_minutes == 5
    assert config.health.undeliverable_minutes == 10
    base = config_text(FAKE_API, tmp_path / "w.sqlite3")  # type: ignore[arg-type]
    text = base.replace('listen = "127.0.0.1"', 'listen = "my server"')
    with pytest.raises(ConfigError, match="is not an address to listen on"):
        parse_config(text, tmp_path / "config.toml", env={})
    with pytest.raises(ConfigError, match=r"health\.outage_notice_minutes"):
        parse_config(base + "\n[health]\noutage_notice_minutes = 0\n", tmp_path / "c.toml",
                     env={})
