"""`podbrief insights`: the CLI function on a `podbrief transcribe --json` document, with the real model."""

from __future__ import annotations

import json
import re

import pytest
import typer
from podbrief_rank.cli import insights
from rank_helpers import coverage, script_segments, takeaways
from typer.testing import CliRunner

pytestmark = pytest.mark.slow


@pytest.fixture
def transcript_json(tmp_path):
    segments = script_segments("ep2")
    doc = {
        "language": "en",
        "duration": takeaways()["episodes"]["ep2"]["duration_s"],
        "text": " ".join(s.text for s in segments),
        "segments": [{"start": s.start, "end": s.end, "text": s.text} for s in segments],
    }
    path = tmp_path / "ep2.json"
    path.write_text(json.dumps(doc))
    return path


def _app() -> typer.Typer:
    app = typer.Typer()
    app.command()(insights)
    return app


def test_json_output_is_a_list_of_insights_with_times_scores_and_keywords(transcript_json):
    result = CliRunner().invoke(_app(), [str(transcript_json), "--json", "--top", "3"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert isinstance(out, list) and len(out) == 3
    for item in out:
        assert set(item) == {"text", "start", "end", "score", "keywords"}
        assert isinstance(item["text"], str) and item["text"]
        assert isinstance(item["start"], float) and item["start"] < item["end"]
        assert 0.0 <= item["score"] <= 1.0
        assert isinstance(item["keywords"], list) and all(isinstance(k, str) for k in item["keywords"])
    assert [i["score"] for i in out] == sorted((i["score"] for i in out), reverse=True)
    sleep = takeaways()["episodes"]["ep2"]["takeaways"][0]
    assert max(coverage(sleep, i["text"]) for i in out) >= 0.9


def test_text_output_lists_numbered_insights_with_times(transcript_json):
    result = CliRunner().invoke(_app(), [str(transcript_json), "--top", "2"])
    assert result.exit_code == 0, result.output
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    assert re.match(r"1\. \[\d+:\d\d–\d+:\d\d\] \(\d\.\d\d\) \S", lines[0]), lines[0]
    assert any(line.startswith("2. [") for line in lines)
    assert sum("keywords:" in line for line in lines) == 2


def test_a_file_that_is_not_a_transcript_is_a_usage_error(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"language": "en"}')
    result = CliRunner().invoke(_app(), [str(bad), "--json"])
    assert result.exit_code == 2
    # rich draws the error in a box wrapped to the terminal's width: compare the words, not the layout.
    words = " ".join(re.sub(r"[│╭╮╰╯─]", " ", result.output).split())
    assert "not a transcript" in words
