"""Secrets the process knows, never to be logged (the log filter in bot/logs.py masks
them): the webhook's secret token. The bot token is masked there too, by its own rule."""

from __future__ import annotations

_SECRETS: set[str] = set()


def register(secret: str) -> None:
    if secret and len(secret) >= 8:  # a short string would mask ordinary words
        _SECRETS.add(secret)


def redact(text: str) -> str:
    for secret in _SECRETS:
        if secret in text:
            text = text.replace(secret, "…")
    return text
