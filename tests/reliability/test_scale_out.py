"""Transcription scale-out: workers in one consumer group share episodes; a worker killed mid-episode loses none."""

from __future__ import annotations

import signal

import pytest

from tests.reliability.pipeline import Run, assert_each_episode_once

pytestmark = pytest.mark.slow


def _transcribed_by(run: Run, worker: str) -> int:
    assert run.stack is not None and run.stack.log_dir is not None
    return (run.stack.log_dir / f"{worker}.log").read_text().count("transcript ready")


def test_two_transcribe_workers_share_the_work_and_a_killed_one_loses_nothing(tmp_path):
    episodes = 8
    r = Run(tmp_path / "data", episodes)
    try:
        stack = r.start_stack()
        stack.start_service("transcribe#2")
        stack.wait_ready()
        r.subscribe()
        r.wait_ranked(3)
        assert _transcribed_by(r, "transcribe") > 0 and _transcribed_by(r, "transcribe#2") > 0, "the group did not share"
        stack.kill("transcribe#2", signal.SIGKILL)  # mid-episode, never restarted
        del stack.processes["transcribe#2"]
        r.wait_ranked(episodes, timeout=900)
        r.brief_once()
        stack.stop()
    finally:
        r.close()
    assert_each_episode_once(r.data_dir, episodes)
