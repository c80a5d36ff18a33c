"""Logs: one JSON object per line when PODBRIEF_LOG_FORMAT=json, readable text otherwise."""

from __future__ import annotations

import json
import logging

from podbrief_runtime.logs import setup_logging


def test_json_logs_are_one_object_per_line_with_the_event_fields(capsys):
    setup_logging("transcribe", "json", "INFO")
    logging.getLogger("podbrief.test").info("handled", extra={"event_id": "e-1", "key": "episode-9", "seconds": 1.25})
    line = capsys.readouterr().err.strip().splitlines()[-1]
    record = json.loads(line)
    assert record["msg"] == "handled" and record["level"] == "INFO"
    assert (record["event_id"], record["key"], record["seconds"]) == ("e-1", "episode-9", 1.25)


def test_text_logs_are_human_readable_with_the_fields_appended(capsys):
    setup_logging("rank", "text", "INFO")
    logging.getLogger("podbrief.test").warning("retrying", extra={"attempt": 2})
    line = capsys.readouterr().err.strip().splitlines()[-1]
    assert " rank WARNING podbrief.test: retrying attempt=2" in line
    assert not line.startswith("{")
