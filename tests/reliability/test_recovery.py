"""Nothing lost, nothing doubled, when processes die, the broker restarts or the whole stack restarts.

Real processes, the real broker, real models. Each test runs a whole pipeline: minutes, marked slow.
"""

from __future__ import annotations

import signal
import time

import pytest
from podbrief_runtime.broker import LocalBroker, free_port

from tests.reliability.pipeline import Run, assert_each_episode_once

pytestmark = pytest.mark.slow


@pytest.fixture
def run(tmp_path):
    runs: list[Run] = []

    def make(episodes: int, **kwargs) -> Run:
        runs.append(Run(tmp_path / "data", episodes, **kwargs))
        return runs[-1]

    yield make
    for r in runs:
        r.close()


def test_killing_each_service_in_turn_mid_run_loses_and_doubles_nothing(run):
    episodes = 14
    r = run(episodes)
    stack = r.start_stack()
    r.subscribe()
    for name, after in (("transcribe", 2), ("rank", 4), ("notify", 6), ("ingest", 8), ("transcribe", 10)):
        r.wait_ranked(after)
        stack.kill(name, signal.SIGKILL)
        stack.start_service(name)
    r.wait_ranked(episodes)
    r.brief_once()
    stack.stop()
    assert_each_episode_once(r.data_dir, episodes)


def test_the_pipeline_completes_by_itself_after_the_broker_restarts(run):
    episodes = 8
    port = free_port()
    broker = LocalBroker(port=port).start()
    r = run(episodes)
    try:
        stack = r.start_stack(broker)
        r.subscribe()
        r.wait_ranked(2)
        broker.stop()  # memory storage: topics, messages and committed offsets are gone
        time.sleep(25)  # longer than the consumers' session timeout without a broker: every service keeps retrying
        stack.check()
        broker = LocalBroker(port=port).start()
        r.wait_ranked(episodes, timeout=900)
        r.brief_once()
        stack.stop()
    finally:
        broker.stop()
    assert_each_episode_once(r.data_dir, episodes)


def test_stopping_the_whole_stack_mid_run_and_starting_it_again_loses_nothing(run):
    episodes = 8
    r = run(episodes)
    stack = r.start_stack()
    r.subscribe()
    r.wait_ranked(2)
    stack.stop()  # SIGTERM to every service, then the broker: its history is gone
    stack = r.start_stack()
    r.wait_ranked(episodes, timeout=900)
    r.brief_once()
    stack.stop()
    assert_each_episode_once(r.data_dir, episodes)
