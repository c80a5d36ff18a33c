"""Print the API's OpenAPI document: `python -m podbrief_notify.api.openapi > services/notify/openapi.json`."""

from __future__ import annotations

import json
from typing import Any

from podbrief_notify.api.app import create_app


def document() -> dict[str, Any]:
    """The OpenAPI document of the notify API."""
    return create_app(None).openapi()


def render() -> str:
    """The document as committed: indented, keys in the order FastAPI gives them, newline at the end."""
    return json.dumps(document(), indent=2, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    print(render(), end="")  # noqa: T201 - this module is a command-line tool
