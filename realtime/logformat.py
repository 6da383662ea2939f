"""Log records as JSON lines (``LOG_FORMAT=json``): one object per record, for log shippers.

Every line holds ``time`` (UTC, ISO 8601 to the millisecond), ``level``, ``logger`` and
``message``. While a request is served it also holds ``request_id`` and ``user`` (put on
the record by :class:`realtime.accesslog.UserFilter`). Fields a line was logged with
(``extra=``: the access line's ``method``, ``route``, ``status``, ``duration_ms``...)
follow, and ``exception`` holds a traceback. Plain text stays the default.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime, timezone
from typing import Any

import orjson

__all__ = ["JsonFormatter"]

# What every record has: not worth a field. user_suffix is the plain format's; color_message uvicorn's.
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "taskName",
    "user_suffix",
    "color_message",
    "request_id",
    "user",
}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds")[:-6] + "Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        # The request's id and user first (UserFilter's), then the fields the line was logged with.
        for key in ("request_id", "user"):
            if (value := getattr(record, key, None)) is not None:
                out[key] = value
        for key, value in vars(record).items():
            if value is not None and key not in _STANDARD and not key.startswith("_"):
                out[key] = value
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            out["exception"] = record.exc_text
        if record.stack_info:
            out["stack"] = self.formatStack(record.stack_info)
        try:
            return orjson.dumps(out, default=str).decode()
        except orjson.JSONEncodeError:  # e.g. an integer beyond 64 bits: slower, but a line all the same
            return json.dumps(out, default=str, ensure_ascii=False)
