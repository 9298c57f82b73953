"""``GET /healthz``: 200 with a small JSON when the bot is well, 503 with the reasons when not
(bot/services/health.py says what is checked)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from bot.services.health import HealthService

PATH = "/healthz"


def routes(service: HealthService) -> list[BaseRoute]:
    async def healthz(request: Request) -> Response:
        report = await service.report()
        return JSONResponse(report.body, status_code=200 if report.ok else 503)

    return [Route(PATH, healthz, methods=["GET"])]
