"""Generated documentation is committed and up to date: AsyncAPI per service, settings tables, OpenAPI."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from podbrief_contracts import dlq

from podbrief.docs import SERVICES, generate

ROOT = Path(__file__).resolve().parents[2]


def test_generated_docs_are_committed_and_current():
    stale = [
        str(path.relative_to(ROOT)) for path, content in generate().items() if not path.is_file() or path.read_text() != content
    ]
    assert not stale, f"run `python -m podbrief.docs`: {stale}"


def _spec(name: str) -> dict[str, Any]:
    return json.loads((ROOT / "docs" / "asyncapi" / f"{name}.json").read_text())


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        return [ref for key, value in node.items() for ref in ([value] if key == "$ref" else _refs(value))]
    if isinstance(node, list):
        return [ref for value in node for ref in _refs(value)]
    return []


def _resolve(spec: dict[str, Any], ref: str) -> Any:
    """What a local `$ref` points at, following a reference to a reference."""
    assert ref.startswith("#/"), ref
    node: Any = spec
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return _resolve(spec, node["$ref"]) if isinstance(node, dict) and set(node) == {"$ref"} else node


@pytest.mark.parametrize("doc", SERVICES, ids=lambda doc: doc.name)
def test_every_reference_in_an_asyncapi_document_resolves(doc):
    spec = _spec(doc.name)
    assert spec["asyncapi"] == "3.0.0"
    for ref in _refs(spec):
        _resolve(spec, ref)


@pytest.mark.parametrize("doc", SERVICES, ids=lambda doc: doc.name)
def test_an_asyncapi_document_receives_what_the_service_consumes_and_sends_what_it_publishes(doc):
    spec = _spec(doc.name)
    done: dict[str, set[tuple[str, str]]] = {"receive": set(), "send": set()}
    for operation in spec["operations"].values():
        channel_ref = operation["channel"]["$ref"]
        channel = _resolve(spec, channel_ref)
        for message in operation["messages"]:
            # AsyncAPI 3: an operation's messages are messages of its channel.
            assert message["$ref"].startswith(f"{channel_ref}/messages/"), message
            payload = _resolve(spec, _resolve(spec, message["$ref"])["payload"]["$ref"])
            assert payload["type"] == "object" and payload["properties"], payload["title"]
            done[operation["action"]].add((channel["address"], payload["title"]))
    assert done["receive"] == {(m.topic, m.__name__) for m in doc.consumes}
    # It also sends what it cannot handle to each consumed topic's dead-letter twin, as it arrived.
    dead = {(dlq(m.topic), m.__name__) for m in doc.consumes}
    assert done["send"] == {(m.topic, m.__name__) for m in doc.publishes} | dead
    addresses = {m.topic for m in (*doc.consumes, *doc.publishes)} | {topic for topic, _ in dead}
    assert {channel["address"] for channel in spec["channels"].values()} == addresses


@pytest.mark.parametrize("doc", SERVICES, ids=lambda doc: doc.name)
def test_dead_letter_messages_document_the_headers_the_consumer_loop_writes(doc):
    import inspect

    from podbrief_runtime.kafka import ConsumerLoop

    written = set(re.findall(r'\("(\w+)", ', inspect.getsource(ConsumerLoop.dead_letter)))
    assert written >= {"error", "attempts", "source_topic"}
    spec = _spec(doc.name)
    for m in doc.consumes:
        message = spec["components"]["messages"][f"{m.__name__}DeadLetter"]
        assert set(message["headers"]["properties"]) == written


def test_the_committed_openapi_document_matches_the_app():
    generated = subprocess.run([sys.executable, "-m", "podbrief_notify.api.openapi"], capture_output=True, text=True, check=True)
    assert json.loads(generated.stdout) == json.loads((ROOT / "services" / "notify" / "openapi.json").read_text())


def test_the_check_mode_fails_on_a_stale_file(tmp_path, monkeypatch):
    import podbrief.docs as docs

    monkeypatch.setattr(docs, "DOCS", tmp_path)
    monkeypatch.setattr(sys, "argv", ["podbrief.docs", "--check"])
    assert docs.main() == 1
