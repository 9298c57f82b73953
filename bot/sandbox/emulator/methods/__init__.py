"""The Bot API methods the emulator answers, in groups.

Each module is a :class:`~bot.sandbox.emulator.world.World` subclass whose ``_api_<Method>``
methods answer the Bot API method of that name (case-insensitively): called with the request's
decoded ``params`` and ``uploads`` and the world's lock held, they return the ``result`` or
raise :class:`~bot.sandbox.emulator.errors.ApiError`.
"""
