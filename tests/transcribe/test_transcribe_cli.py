"""`podbrief transcribe`: the function the lead registers, run through typer's CliRunner."""

from __future__ import annotations

import json

import pytest
import typer
from podbrief_transcribe.accuracy import word_error_rate
from podbrief_transcribe.cli import transcribe
from transcribe_helpers import HTML_PAGE, SAMPLES, mp3, script
from typer.testing import CliRunner

app = typer.Typer()
app.command()(transcribe)


@pytest.mark.slow
def test_json_output_is_one_object_with_language_duration_text_and_segments():
    result = CliRunner().invoke(app, [str(SAMPLES / "audio" / "ep1.mp3"), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert set(data) == {"language", "duration", "text", "segments"}
    assert data["language"] == "en"
    assert data["duration"] == pytest.approx(121.57, abs=0.05)
    assert word_error_rate(script("ep1"), data["text"]) < 0.25
    assert data["segments"] and all(set(s) == {"start", "end", "text"} for s in data["segments"])
    assert data["text"] == " ".join(s["text"] for s in data["segments"])


@pytest.mark.slow
def test_a_url_is_downloaded_and_printed_as_timed_lines(loopback):
    url = loopback.serve("/ep1.mp3", mp3("ep1"), "audio/mpeg")
    result = CliRunner().invoke(app, [url, "--model", ""])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("[0:00.0 → ") and "signal hour" in lines[0].lower()
    assert loopback.hits == {"/ep1.mp3": 1}


def test_something_that_is_not_audio_exits_with_its_reason(loopback):
    url = loopback.serve("/ep1.mp3", HTML_PAGE, "text/html")
    result = CliRunner().invoke(app, [url, "--json"])
    assert result.exit_code == 1
    assert result.stdout == ""
    assert "HTML page" in result.stderr


def test_a_missing_file_exits_with_an_error(tmp_path):
    result = CliRunner().invoke(app, [str(tmp_path / "nope.mp3")])
    assert result.exit_code == 1
    assert "no such file" in result.stderr
