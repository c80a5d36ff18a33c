"""Generated documentation is committed and up to date: AsyncAPI per service, settings tables, OpenAPI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from podbrief.docs import SERVICES, generate

ROOT = Path(__file__).resolve().parents[2]


def test_generated_docs_are_committed_and_current():
    stale = [
        str(path.relative_to(ROOT)) for path, content in generate().items() if not path.is_file() or path.read_text() != content
    ]
    assert not stale, f"run `python -m podbrief.docs`: {stale}"


def test_each_asyncapi_document_names_the_topics_the_service_consumes_and_produces():
    for doc in SERVICES:
        spec = json.loads((ROOT / "docs" / "asyncapi" / f"{doc.name}.json").read_text())
        addresses = {channel["address"] for channel in spec["channels"].values()}
        assert addresses == {m.topic for m in (*doc.consumes, *doc.produces)}, doc.name
        schemas = json.dumps(spec["components"])
        for model in (*doc.consumes, *doc.produces):
            assert model.__name__ in schemas


def test_the_committed_openapi_document_matches_the_app():
    generated = subprocess.run([sys.executable, "-m", "podbrief_notify.api.openapi"], capture_output=True, text=True, check=True)
    assert json.loads(generated.stdout) == json.loads((ROOT / "services" / "notify" / "openapi.json").read_text())


def test_the_check_mode_fails_on_a_stale_file(tmp_path, monkeypatch):
    import podbrief.docs as docs

    monkeypatch.setattr(docs, "DOCS", tmp_path)
    monkeypatch.setattr(sys, "argv", ["podbrief.docs", "--check"])
    assert docs.main() == 1
