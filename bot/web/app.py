"""The web app factory: route groups, sub-apps at their mount points, middleware, errors."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import BaseRoute, Mount
from starlette.types import ASGIApp

from bot.web.errors import EXCEPTION_HANDLERS
from bot.web.middleware import MAX_BODY, SECURITY_HEADERS, BodyLimit, ResponseHeaders

#: Where the sub-apps of later issues go (each a Starlette app of its own, with its own
#: pages, assets and stricter headers): the officers' dashboard, the public report form, the
#: demo's web chat. The bot's own routes (/telegram, /healthz) stay at the top level.
MOUNT_POINTS = {
    "dashboard": "/dashboard",
    "report_form": "/report",
    "tip_status": "/t",  # the web reporter's status page of a tip: /t/CODE (issue 15)
    "demo": "/demo",
}


def create_web_app(
    route_groups: Iterable[Iterable[BaseRoute]],
    mounts: Mapping[str, ASGIApp] | None = None,
    *,
    max_body: int = MAX_BODY,
    larger_bodies: Mapping[str, int] | None = None,
) -> Starlette:
    routes: list[BaseRoute] = [route for group in route_groups for route in group]
    for name, sub_app in (mounts or {}).items():
        if name not in MOUNT_POINTS:
            raise ValueError(f"unknown mount point {name!r}: one of {sorted(MOUNT_POINTS)}")
        routes.append(Mount(MOUNT_POINTS[name], app=sub_app))
    return Starlette(
        routes=routes,
        middleware=[
            Middleware(ResponseHeaders, unless_set=SECURITY_HEADERS),
            Middleware(BodyLimit, max_body=max_body, larger=larger_bodies),
        ],
        exception_handlers=dict(EXCEPTION_HANDLERS),
    )
