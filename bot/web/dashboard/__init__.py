"""The officers' dashboard at ``/dashboard`` (issue 14): a Starlette app of its own, mounted
on the bot's web server (``bot.web.app.MOUNT_POINTS``).

``routes``   the pages, the map's data, the live change stream, tip details, evidence,
             actions, sign-in and sign-out; parse → call ``DashboardService`` → render
``pages``    the HTML (no inline script or style: the page's data rides in a JSON block)
``security`` the session cookie, CSRF, and the strict headers of every dashboard answer
``feed``     "something changed": woken by every commit that queued a message
``mapdata``  the map's JSON: markers, service area, districts, landmarks, optional layers
"""

from bot.web.dashboard.routes import create_dashboard

__all__ = ["create_dashboard"]
