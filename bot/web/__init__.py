"""The bot's one web server (Starlette on uvicorn, inside the bot's own event loop).

It starts with the bot, whatever the update mode, and stops with it (``bot/lifecycle.py``).
One module a job:

``app``         the app factory: the routes of each group, the sub-apps at their mount points,
                the middleware and the exception mapping
``server``      uvicorn's ``Server`` in the bot's loop (the run loop keeps SIGINT/SIGTERM)
``middleware``  security headers on every answer; request size limits
``errors``      every exception mapped to an answer, in one place
``telegram``    ``POST /telegram``: the webhook (secret header, journal, then 200)
``health``      ``GET /healthz``: small JSON for monitoring, 200 or 503
``report/``     the public web report form ``/report`` and a web tip's status page ``/t/CODE``

Routes parse → call a service → render, like handlers. Mount points for what later issues
add (:data:`bot.web.app.MOUNT_POINTS`): the officers' dashboard, the public report form, the
demo's web chat — each a Starlette (or any ASGI) app of its own, mounted under its prefix.
"""
