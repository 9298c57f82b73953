"""Presentation: turning domain values into Telegram text and keyboards (via the catalogs).

Used by handlers (replies) and by jobs (the outbox renders cards when it sends them).
"""
