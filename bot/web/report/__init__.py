"""The public web report form (``/report``) and a web tip's status page (``/t/CODE``).

``app``    the two sub-apps (mounted at :data:`bot.web.app.MOUNT_POINTS`): parse → call
           :class:`bot.services.webreport.WebReportService` → render
``guard``  what stands before them: their headers (a strict CSP, self only), the browser
           cookie and CSRF tokens, the rate limits by client address (in memory only)
``pages``  the HTML, server-rendered; ``static/`` the stylesheet and the small script that
           adds the phone's location and the map (Leaflet, vendored) — the form works
           without it
"""
