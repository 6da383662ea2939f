"""The errors a user sees: a bad setting, or a bad request.

Both carry one line for a person; neither carries a traceback. How an
``ApiError`` becomes a JSON response is ``views/handlers.py``'s business.
"""

from __future__ import annotations

__all__ = ["ApiError", "ConfigError"]


class ConfigError(Exception):
    """A setting is missing or malformed; the message is one line for the user."""


class ApiError(Exception):
    """A request the server cannot serve, with its HTTP status and the parameter at fault."""

    def __init__(self, status: int, message: str, parameter: str | None = None, *, retry_after: int = 0) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.parameter = parameter
        # > 0: seconds a client should wait before trying again (429, 503), sent as Retry-After.
        self.retry_after = retry_after
