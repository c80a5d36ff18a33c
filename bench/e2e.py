"""End-to-end benchmark: 10 sample-length episodes from subscription to delivered brief, on the embedded stack.

Reports the pipeline's wall time next to the time plain transcription of the same audio takes in the same run
(the service's own transcription path, sequentially, in this process), and the peak memory of the whole stack
(broker + the four services' five processes, notify as worker and API; summed resident set sampled every 0.25 s).
Targets: with the LLM stage on (the default, embedded) the pipeline within 2x of transcription alone, without it
(`--llm off`) within 1.3x; stack peak under 4 GiB.

    .venv/bin/python bench/e2e.py [--episodes 10] [--llm on|off]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

from podbrief_runtime.broker import free_port

from podbrief.demo import Api, wait_for_insights
from podbrief.loopback import SAMPLE_AUDIO, SampleServer, WebhookReceiver, generated_feed
from podbrief.stack import Stack


def rss_kib(pid: int) -> int:
    """Resident set of a process in KiB (0 when it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        pass
    return 0


class PeakMemory(threading.Thread):
    """Samples the summed RSS of the stack's processes."""

    def __init__(self, stack: Stack) -> None:
        super().__init__(daemon=True)
        self.stack = stack
        self.peak_kib = 0
        self.running = True

    def run(self) -> None:
        while self.running:
            pids = [p.pid for p in self.stack.processes.values()]
            if self.stack.broker and self.stack.broker.process:
                pids.append(self.stack.broker.process.pid)
            self.peak_kib = max(self.peak_kib, sum(rss_kib(pid) for pid in pids))
            time.sleep(0.25)


def pipeline_seconds(episodes: int, data_dir: Path, llm: bool) -> tuple[float, float, int]:
    """(subscription → delivered brief seconds, stack start seconds, peak stack KiB)."""
    env = {
        "PODBRIEF_ALLOW_PRIVATE_URLS": "true",
        "PODBRIEF_FIRST_POLL_EPISODES": str(episodes),
        "PODBRIEF_LLM_MODE": "embedded" if llm else "off",
    }
    with SampleServer(extra={"bench.xml": generated_feed(episodes)}) as samples, WebhookReceiver() as receiver:
        started = time.perf_counter()
        with Stack(data_dir, api_port=free_port(), env=env) as stack:
            ready = time.perf_counter() - started
            memory = PeakMemory(stack)
            memory.start()
            api = Api(stack.api_url)
            user = api.call(
                "POST",
                "/v1/users",
                json={"email": "bench@example.com", "timezone": "UTC", "brief_hour": (time.gmtime().tm_hour + 12) % 24},
            )
            api.login(user["api_key"])
            hook = api.call("POST", "/v1/webhooks", json={"url": receiver.url})
            receiver.secret = hook["secret"]
            t0 = time.perf_counter()
            sub = api.call("POST", "/v1/subscriptions", json={"feed_url": f"{samples.url}/bench.xml"})
            wait_for_insights(api, [sub["id"]], stack, timeout=1800)
            brief = api.call("POST", "/v1/briefs")
            receiver.wait_for("brief.ready", timeout=120, data_id=brief["id"])
            elapsed = time.perf_counter() - t0
            memory.running = False
            return elapsed, ready, memory.peak_kib


def transcription_seconds(episodes: int) -> tuple[float, float]:
    """(seconds, audio seconds) to transcribe the same files with the service's code path, one after another."""
    from podbrief_transcribe.asr import load_engine, transcribe_path
    from podbrief_transcribe.settings import Settings

    engine = load_engine(Settings())
    audio_seconds = 0.0
    t0 = time.perf_counter()
    for n in range(episodes):
        audio_seconds += transcribe_path(SAMPLE_AUDIO[n % len(SAMPLE_AUDIO)], engine).duration
    return time.perf_counter() - t0, audio_seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=10)
    parser.add_argument("--llm", choices=["on", "off"], default="on", help="the LLM stage in rank (default on, as deployed)")
    args = parser.parse_args()
    llm = args.llm == "on"
    target = 2.0 if llm else 1.3
    data_dir = Path(tempfile.mkdtemp(prefix="podbrief-bench-"))
    try:
        pipeline, ready, peak_kib = pipeline_seconds(args.episodes, data_dir, llm)
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
    transcription, audio_seconds = transcription_seconds(args.episodes)
    ratio = pipeline / transcription
    print(f"episodes: {args.episodes} ({audio_seconds:.0f} s of audio), LLM stage {args.llm}")
    print(f"stack start (broker + 5 service processes, models loaded): {ready:.1f} s")
    print(f"subscription -> delivered brief: {pipeline:.1f} s")
    print(f"plain transcription of the same audio (service path, sequential, same run): {transcription:.1f} s")
    print(f"pipeline / transcription: {ratio:.2f}x (target <= {target}x)")
    print(f"peak memory of the whole stack: {peak_kib / 1024 / 1024:.2f} GiB (target < 4 GiB)")
    return 0 if ratio <= target and peak_kib < 4 * 1024 * 1024 else 1


if __name__ == "__main__":
    sys.exit(main())
