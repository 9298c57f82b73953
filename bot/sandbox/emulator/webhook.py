"""Webhook delivery: while a webhook is set, updates are POSTed to it instead of waiting for
``getUpdates``, as Telegram does.

One delivery thread sends queued updates in order, each as a JSON body with the
``X-Telegram-Bot-Api-Secret-Token`` header when ``setWebhook`` gave a ``secret_token``. An
update leaves the queue only on a 2xx answer; a non-2xx answer or an unreachable bot is
retried with a growing pause (Telegram waits longer; a test has no time to lose), and
``getWebhookInfo`` reports the last error. ``webhook_posts`` records every attempt
``(update_id, status)`` (status 0: not reachable).
"""

from __future__ import annotations

import http.client
import json
import threading
import time
from urllib.parse import urlsplit

from bot.sandbox.emulator.world import World

RETRY_FIRST_S = 0.05
RETRY_MAX_S = 1.0
POST_TIMEOUT_S = 30.0


class WebhookDelivery(World):
    def _webhook_changed(self) -> None:
        """Call with the lock held after the webhook was set or deleted."""
        if self._webhook_url and (
            self._webhook_thread is None or not self._webhook_thread.is_alive()
        ):
            self._webhook_thread = threading.Thread(
                target=self._deliver, name="bot-api-emulator:webhook", daemon=True
            )
            self._webhook_thread.start()
        self._cond.notify_all()

    def _next_for_webhook(self) -> tuple[str, str, dict] | None:
        """(url, secret, update) to deliver next; None once the emulator stops."""
        with self._cond:
            while True:
                if self._stopping:
                    return None
                if self._allowed_updates is not None:
                    self._updates[:] = [
                        u
                        for u in self._updates
                        if next((k for k in u if k != "update_id"), "") in self._allowed_updates
                    ]
                if self._webhook_url and self._updates:
                    return self._webhook_url, self._webhook_secret, dict(self._updates[0])
                if not self._webhook_url:
                    return None  # deleted: getUpdates takes over
                self._cond.wait(0.5)

    def _deliver(self) -> None:
        pause = RETRY_FIRST_S
        while True:
            job = self._next_for_webhook()
            if job is None:
                return
            url, secret, update = job
            status, error = _post(url, secret, update)
            with self._cond:
                self.webhook_posts.append((update["update_id"], status))
                if 200 <= status < 300:
                    if self._updates and self._updates[0].get("update_id") == update["update_id"]:
                        self._updates.pop(0)
                    self._webhook_error = None
                    pause = RETRY_FIRST_S
                    self._cond.notify_all()
                    continue
                self._webhook_error = (int(time.time()), error)
            time.sleep(pause)
            pause = min(RETRY_MAX_S, pause * 2)


def _post(url: str, secret: str, update: dict) -> tuple[int, str]:
    parts = urlsplit(url)
    cls = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    body = json.dumps(update, ensure_ascii=False).encode("utf-8")
    headers = {"Content-Type": "application/json", "Content-Length": str(len(body))}
    if secret:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    try:
        conn = cls(parts.hostname, parts.port, timeout=POST_TIMEOUT_S)
        try:
            conn.request("POST", parts.path or "/", body=body, headers=headers)
            response = conn.getresponse()
            response.read()
            return response.status, f"Wrong response from the webhook: {response.status}"
        finally:
            conn.close()
    except OSError as exc:
        return 0, f"Connection failed: {exc}"
