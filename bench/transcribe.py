"""Benchmark: the service's transcription path against plain `WhisperModel.transcribe`, same audio, same run.

    .venv/bin/python bench/transcribe.py                 # the 4 sample episodes joined (~8 min)
    .venv/bin/python bench/transcribe.py --loops 6 --only service   # a ~47 min episode: memory stays flat

Each path runs in a child process of its own, so each peak RSS (resource.getrusage) is its own;
the paths alternate when repeated. Reports the real-time factor (audio seconds per wall second,
model loading excluded), the word error rate against the sample scripts, and peak memory,
then checks the targets: ≥1.8× plain's speed at no worse WER, peak memory under 1.5 GiB.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples"
EPISODES = ("ep1", "ep2", "ep3", "ep4")
TARGET_SPEEDUP = 1.8
TARGET_PEAK_BYTES = 1.5 * 1024**3


def build_input(folder: Path, loops: int) -> tuple[Path, str]:
    """The sample episodes joined `loops` times into one MP3 (they are tagless CBR, so bytes concatenate), and its script."""
    audio = folder / "episodes.mp3"
    with audio.open("wb") as out:
        for _ in range(loops):
            for name in EPISODES:
                out.write((SAMPLES / "audio" / f"{name}.mp3").read_bytes())
    script = " ".join((SAMPLES / "scripts" / f"{name}.txt").read_text() for name in EPISODES)
    return audio, " ".join([script] * loops)


def run_worker(path: str, audio: Path, model: str | None) -> dict:
    """Transcribe `audio` with `path` ("service" or "plain") in this process; returns timings, text and peak memory."""
    from podbrief_transcribe.asr import load_engine, transcribe_path
    from podbrief_transcribe.settings import Settings

    settings = Settings()
    started = time.perf_counter()
    engine = load_engine(settings, model)
    loaded = time.perf_counter()
    if path == "service":
        transcript = transcribe_path(audio, engine)
        text, duration = transcript.text, transcript.duration
    else:
        segments, info = engine.model.transcribe(str(audio))
        text, duration = " ".join(s.text.strip() for s in segments), info.duration
    finished = time.perf_counter()
    return {
        "path": path,
        "model": engine.name,
        "device": str(engine.model.model.device),
        "load_s": loaded - started,
        "wall_s": finished - loaded,
        "duration_s": duration,
        "text": text,
        "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        "settings": {k: getattr(settings, k) for k in ("whisper_batch_size", "whisper_beam_size", "whisper_cpu_threads")},
    }


def spawn(path: str, audio: Path, model: str | None) -> dict:
    args = [sys.executable, __file__, "--worker", path, "--audio", str(audio)] + (["--model", model] if model else [])
    done = subprocess.run(args, check=True, capture_output=True, text=True, env={**os.environ, "HF_HUB_OFFLINE": "1"})
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--loops", type=int, default=1, help="Join the 4 sample episodes this many times.")
    parser.add_argument("--repeat", type=int, default=1, help="Runs of each path (alternating); the fastest counts.")
    parser.add_argument("--only", choices=("service", "plain"), help="Run one path only.")
    parser.add_argument("--model", help="Model name or folder (default: the PODBRIEF_WHISPER_MODEL setting, else tiny.en).")
    parser.add_argument("--json", action="store_true", help="Print the results as JSON.")
    parser.add_argument("--worker", choices=("service", "plain"), help=argparse.SUPPRESS)
    parser.add_argument("--audio", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(run_worker(args.worker, args.audio, args.model)))
        return

    from podbrief_transcribe.accuracy import word_error_rate

    paths = [args.only] if args.only else ["plain", "service"]
    with tempfile.TemporaryDirectory() as tmp:
        audio, reference = build_input(Path(tmp), args.loops)
        runs = [spawn(path, audio, args.model) for _ in range(args.repeat) for path in paths]
    best: dict[str, dict] = {}
    for run in runs:
        run["rtf"] = run["duration_s"] / run["wall_s"]
        run["wer"] = word_error_rate(reference, run.pop("text"))
        if run["path"] not in best or run["rtf"] > best[run["path"]]["rtf"]:
            best[run["path"]] = run
    report(best, runs, audio_seconds=runs[0]["duration_s"], as_json=args.json)


def report(best: dict[str, dict], runs: list[dict], audio_seconds: float, as_json: bool) -> None:
    """Print the table and the target checks."""
    checks: dict[str, bool] = {}
    if "service" in best:
        checks["peak memory < 1.5 GiB"] = best["service"]["peak_rss_bytes"] < TARGET_PEAK_BYTES
    if len(best) == 2:
        speedup = best["service"]["rtf"] / best["plain"]["rtf"]
        checks[f"speed-up {speedup:.2f}x >= {TARGET_SPEEDUP}x"] = speedup >= TARGET_SPEEDUP
        checks["service WER <= plain WER"] = best["service"]["wer"] <= best["plain"]["wer"]
    if as_json:
        print(json.dumps({"audio_seconds": audio_seconds, "best": best, "runs": runs, "checks": checks}, indent=2))
        return
    print(f"audio: {audio_seconds:.0f} s (sample episodes joined), {os.cpu_count()} CPU cores")
    print(f"{'path':8} {'model':8} {'device':6} {'load s':>7} {'wall s':>7} {'x real time':>11} {'WER':>6} {'peak RSS':>9}")
    for run in runs:
        print(
            f"{run['path']:8} {run['model']:8} {run['device']:6} {run['load_s']:7.1f} {run['wall_s']:7.1f} "
            f"{run['rtf']:10.1f}x {run['wer']:6.3f} {run['peak_rss_bytes'] / 2**20:7.0f} MB"
        )
    print(f"service settings: {best.get('service', {}).get('settings')}")
    for name, ok in checks.items():
        print(f"{'PASS' if ok else 'FAIL'}  {name}")


if __name__ == "__main__":
    main()
