"""Delivering updates: long-polling ``getUpdates`` and the webhook settings.

``getUpdates`` keeps Telegram's offset/limit/timeout semantics (a long poll waits on the
world's condition; a newer ``getUpdates`` ends an older waiting one with 409 Conflict). While
a webhook is set ``getUpdates`` answers 409, as Telegram does, and the updates are POSTed to
it (``emulator/webhook.py``).
"""

from __future__ import annotations

import copy
import time

from bot.sandbox.emulator.errors import ApiError
from bot.sandbox.emulator.world import World


class UpdatesApi(World):
    def _api_getUpdates(self, params: dict, uploads: dict) -> list[dict]:
        if self._webhook_url:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = int(params.get("offset") or 0)
        limit = min(max(int(params.get("limit") or 100), 1), 100)
        timeout = max(float(params.get("timeout") or 0), 0.0)
        allowed = params.get("allowed_updates")
        if isinstance(allowed, list):
            self._allowed_updates = [str(a) for a in allowed] or None
        if offset < 0:
            del self._updates[: max(len(self._updates) + offset, 0)]
        elif offset > 0:
            self._updates[:] = [u for u in self._updates if _update_id(u) >= offset]
        self._poll_generation += 1
        generation = self._poll_generation
        self._cond.notify_all()  # terminates an older waiting getUpdates
        deadline = time.monotonic() + timeout
        while True:
            if self._allowed_updates is not None:
                self._updates[:] = [
                    u for u in self._updates if _update_type(u) in self._allowed_updates
                ]
            if self._updates or self._stopping:
                break
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            self._cond.wait(remaining)
            if self._poll_generation != generation:
                raise ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; make sure that only "
                    "one bot instance is running",
                )
        return copy.deepcopy(self._updates[:limit])

    def _api_setWebhook(self, params: dict, uploads: dict) -> bool:
        return self._set_webhook(str(params.get("url") or ""), params)

    def _api_deleteWebhook(self, params: dict, uploads: dict) -> bool:
        return self._set_webhook("", params)

    def _api_getWebhookInfo(self, params: dict, uploads: dict) -> dict:
        info: dict = {
            "url": self._webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }
        if self._webhook_url and self._allowed_updates is not None:
            info["allowed_updates"] = list(self._allowed_updates)
        if self._webhook_error is not None:
            info["last_error_date"], info["last_error_message"] = self._webhook_error
        return info

    def _set_webhook(self, url: str, params: dict) -> bool:
        if url and not url.startswith(("https://", "http://")):
            raise ApiError(400, "Bad Request: bad webhook: An HTTPS URL must be provided")
        self._webhook_url = url
        self._webhook_secret = str(params.get("secret_token") or "") if url else ""
        self._webhook_error = None
        allowed = params.get("allowed_updates")
        if url and isinstance(allowed, list):
            self._allowed_updates = [str(a) for a in allowed] or None
        if params.get("drop_pending_updates"):
            self._updates.clear()
        self._webhook_changed()
        return True

    def _webhook_changed(self) -> None:
        """Overridden by the webhook delivery (emulator/webhook.py)."""


def _update_id(update: dict) -> int:
    uid = update.get("update_id")
    return uid if isinstance(uid, int) else 0


def _update_type(update: dict) -> str:
    return next((k for k in update if k != "update_id"), "")
