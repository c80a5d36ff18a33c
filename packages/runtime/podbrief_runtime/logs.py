"""Logging set-up: human-readable by default, one JSON object per line when asked.

Every URL in a log line is redacted to scheme, host and port: whatever a message, a field or a
traceback quotes, a secret in a URL's path or query does not reach the logs.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

from podbrief_runtime.redact import redact_text

_STANDARD = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """Formats a record and its `extra=` fields as one JSON line."""

    def format(self, record: logging.LogRecord) -> str:
        data = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        data.update({k: v for k, v in record.__dict__.items() if k not in _STANDARD})
        if record.exc_info:
            data["exc"] = self.formatException(record.exc_info)
        # Redacted field by field: a URL cut out of the serialised line could take a JSON escape with it.
        return json.dumps({k: redact_text(v) if isinstance(v, str) else v for k, v in data.items()}, default=str)


class TextFormatter(logging.Formatter):
    """A plain line, with `extra=` fields appended as key=value."""

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        extra = " ".join(f"{k}={v}" for k, v in record.__dict__.items() if k not in _STANDARD)
        return redact_text(f"{line} {extra}" if extra else line)


def setup_logging(service: str, fmt: str = "text", level: str = "INFO") -> None:
    """Configure the root logger for `service` once, at process start."""
    handler = logging.StreamHandler(sys.stderr)
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(TextFormatter(f"%(asctime)s {service} %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("aiokafka", "httpx", "httpcore", "faster_whisper", "sentence_transformers"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
