"""Benchmark: the service's transcription path against plain `WhisperModel.transcribe`, same audio, same run;
then how fit its output is for extraction, tiny.en and base, against the batched path as it was.

    .venv/bin/python bench/transcribe.py                 # both parts (about 4 minutes on 2 cores)
    .venv/bin/python bench/transcribe.py --part speed    # the 4 sample episodes joined (~8 min of audio)
    .venv/bin/python bench/transcribe.py --loops 6 --only service --part speed   # ~47 min: memory stays flat
    .venv/bin/python bench/transcribe.py --part quality --models tiny.en

Speed: each path runs in a child process of its own, so each peak RSS (resource.getrusage) is its own;
the paths alternate when repeated. Reports the real-time factor (audio seconds per wall second,
model loading excluded), the word error rate against the sample scripts, and peak memory,
then checks the targets: ≥1.8× plain's speed at no worse WER, peak memory under 1.5 GiB.

Quality: on the real speech clips with reference transcripts (../shared/real-world/audio) and on the
sample episodes, each model (tiny.en; base when `make models-base` installed it) transcribes every file
twice in one child process, alternating: `before` = the batched path with no prompt and no speech filter
(the service until now), `service` = with the punctuation prompt and the speech filter. Reported for
each: WER, the share of segments ending on . ? !, mean words per sentence (the references' next to it),
the share of words in unpunctuated stretches of over 35 words (what rank's run-on splitter cuts), the
real-time factor and the clips dropped. Then non-speech that voice detection let through (silence,
noise, hum, a chord, reversed speech...): how many such 12 s clips still come out as text.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples"
REAL = ROOT.parent / "shared" / "real-world" / "audio"
RUN_ON_WORDS = 35  # rank's splitter treats a longer stretch without , ; : . ! ? as a run-on
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


def corpora() -> dict[str, list[tuple[Path, str]]]:
    """(audio, reference) of the real clips and of the sample episodes."""
    real = []
    for ref in sorted(REAL.glob("*.ref.txt")) if REAL.is_dir() else []:
        stem = ref.name.removesuffix(".ref.txt")
        audio = next(p for p in sorted(REAL.iterdir()) if p.stem == stem and p.suffix in (".wav", ".flac", ".mp3"))
        real.append((audio, ref.read_text()))
    samples = [(SAMPLES / "audio" / f"{name}.mp3", (SAMPLES / "scripts" / f"{name}.txt").read_text()) for name in EPISODES]
    return {"real": real, "samples": samples} if real else {"samples": samples}


def sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.?!])\s+", text.strip()) if s]


def punctuation_figures(texts: list[str], segment_texts: list[str]) -> dict:
    """Share of segments ending on a sentence mark, words per sentence, share of words in long unpunctuated runs."""
    said = [s for text in texts for s in sentences(text)]
    words = sum(len(s.split()) for s in said)
    runs = [len(run.split()) for text in texts for run in re.split(r"[,;:.!?](?=\s|$)", text)]
    return {
        "ends_share": sum(1 for t in segment_texts if re.search(r"[.?!][\"')\]]*$", t.strip())) / max(1, len(segment_texts)),
        "words_per_sentence": words / max(1, len(said)),
        "run_on_share": sum(n for n in runs if n > RUN_ON_WORDS) / max(1, sum(runs)),
        "segments": len(segment_texts),
    }


NOISE_KINDS = ("silence", "white noise", "loud white noise", "hum", "chord", "reversed speech", "babble", "bursts", "brown noise")


def noise_audio() -> tuple[object, list[tuple[float, float]], float]:
    """A clip of real speech, then 12 s of each kind of non-speech, 3 s of silence apart; the non-speech spans."""
    import numpy as np
    from faster_whisper import decode_audio

    sr, rng = 16000, np.random.default_rng(0)
    speech = (
        decode_audio(str(REAL / "jfk_inaugural.flac"))
        if REAL.is_dir()
        else decode_audio(str(SAMPLES / "audio" / "ep1.mp3"))[: sr * 11]
    )
    voice = np.tile(decode_audio(str(REAL / "librispeech_2412-153948-0000.flac")), 2) if REAL.is_dir() else speech
    t = np.arange(sr * 12) / sr
    kinds = [
        np.zeros(len(t)),
        rng.standard_normal(len(t)) * 0.01,
        rng.standard_normal(len(t)) * 0.1,
        0.1 * np.sin(2 * np.pi * 120 * t),
        0.1 * sum(np.sin(2 * np.pi * f * t) for f in (262, 330, 392)) * (0.5 + 0.5 * np.sin(2 * np.pi * 2 * t)),
        np.resize(voice[::-1], len(t)),
        sum(np.roll(np.resize(voice[::-1], len(t)), k * 7000) for k in range(5)) * 0.3,
        rng.standard_normal(len(t)) * 0.2 * (np.sin(2 * np.pi * 3 * t) > 0.7),
        np.cumsum(rng.standard_normal(len(t))) * 0.002,
    ]
    pieces, spans, at = [speech, np.zeros(3 * sr)], [], (len(speech) + 3 * sr) / sr
    for kind in kinds:
        pieces += [kind, np.zeros(3 * sr)]
        spans.append((at, at + 12.0))
        at += 15.0
    return np.concatenate(pieces).astype(np.float32), spans, len(speech) / sr


def write_wav(path: Path, audio) -> None:  # noqa: ANN001 - a numpy array
    import wave

    import numpy as np

    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(16000)
        out.writeframes((np.clip(audio, -1, 1) * 32767).astype(np.int16).tobytes())


def quality_worker(model: str | None) -> dict:
    """Both variants of one model on every corpus file and on the non-speech clips, in this process."""
    import dataclasses
    import logging

    from podbrief_transcribe import asr
    from podbrief_transcribe.accuracy import word_error_rate
    from podbrief_transcribe.asr import SpeechFilter, load_engine, transcribe_path
    from podbrief_transcribe.settings import Settings

    dropped: dict[str, int] = {}

    class CountDrops(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            for reason, count in getattr(record, "dropped", {}).items():
                dropped[reason] = dropped.get(reason, 0) + count

    asr.log.addHandler(CountDrops())
    asr.log.setLevel(logging.INFO)
    service = load_engine(Settings(), model)
    variants = {
        "before": dataclasses.replace(service, initial_prompt=None, speech_filter=SpeechFilter(enabled=False)),
        "service": service,
    }
    results: dict = {"model": service.name, "corpora": {}, "noise": {}}
    for corpus, items in corpora().items():
        acc = {v: {"wall": 0.0, "audio": 0.0, "texts": [], "segments": [], "dropped": 0} for v in variants}
        for audio, _ in items:
            for variant, engine in variants.items():
                dropped.clear()
                started = time.perf_counter()
                transcript = transcribe_path(audio, engine)
                acc[variant]["wall"] += time.perf_counter() - started
                acc[variant]["audio"] += transcript.duration
                acc[variant]["texts"].append(transcript.text)
                acc[variant]["segments"] += [s.text for s in transcript.segments]
                acc[variant]["dropped"] += sum(dropped.values())
        references = [reference for _, reference in items]
        results["corpora"][corpus] = {
            "files": len(items),
            "audio_s": acc["service"]["audio"],
            "reference_words_per_sentence": punctuation_figures(references, [])["words_per_sentence"],
            "variants": {
                variant: {
                    "wer": word_error_rate(" ".join(references), " ".join(a["texts"])),
                    "rtf": a["audio"] / a["wall"],
                    "dropped": a["dropped"],
                    **punctuation_figures(a["texts"], a["segments"]),
                }
                for variant, a in acc.items()
            },
        }
    audio, spans, speech_end = noise_audio()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "noise.wav"
        write_wav(path, audio)
        found = asr.speech_regions
        asr.speech_regions = lambda a: [r for r in found(a) if r[1] <= speech_end + 0.5] + spans  # as if VAD let it all through
        try:
            for variant, engine in variants.items():
                transcript = transcribe_path(path, engine)
                texts = {
                    kind: " ".join(s.text for s in transcript.segments if start - 0.5 <= s.start < end)
                    for kind, (start, end) in zip(NOISE_KINDS, spans, strict=True)
                }
                results["noise"][variant] = {kind: text for kind, text in texts.items() if text}
        finally:
            asr.speech_regions = found
    return results


def spawn_quality(model: str | None) -> dict:
    args = [sys.executable, __file__, "--worker", "quality", *(["--model", model] if model else [])]
    done = subprocess.run(args, check=True, capture_output=True, text=True, env={**os.environ, "HF_HUB_OFFLINE": "1"})
    return json.loads(done.stdout.strip().splitlines()[-1])


def report_quality(results: list[dict], as_json: bool) -> None:
    if as_json:
        print(json.dumps({"quality": results}, indent=2))
        return
    print()
    print("ASR output for extraction: `before` = batched, no prompt, no speech filter; `service` = prompt + filter")
    columns = (
        ("WER", 6),
        ("ends .?!", 8),
        ("words/sentence (ref)", 21),
        ("run-on words", 12),
        ("x real time", 11),
        ("dropped", 7),
    )
    print(f"{'model':8} {'corpus':8} {'variant':8} " + " ".join(f"{name:>{width}}" for name, width in columns))
    for result in results:
        for corpus, c in result["corpora"].items():
            for variant, v in c["variants"].items():
                print(
                    f"{result['model']:8} {corpus:8} {variant:8} {v['wer']:6.3f} {v['ends_share']:8.0%} "
                    f"{v['words_per_sentence']:12.1f} ({c['reference_words_per_sentence']:4.1f}) {v['run_on_share']:12.1%} "
                    f"{v['rtf']:10.1f}x {v['dropped']:7d}"
                )
        for corpus, c in result["corpora"].items():
            print(f"  {corpus}: {c['files']} files, {c['audio_s']:.0f} s of audio")
    print(f"non-speech clips let through by voice detection ({len(NOISE_KINDS)} kinds, 12 s each) that came out as text:")
    for result in results:
        for variant, texts in result["noise"].items():
            shown = "; ".join(f"{kind}: {text.strip()[:40]!r}" for kind, text in texts.items())
            print(f"  {result['model']:8} {variant:8} {len(texts)}/{len(NOISE_KINDS)}  {shown}")


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
    parser.add_argument("--part", choices=("speed", "quality", "all"), default="all", help="Which part to run.")
    parser.add_argument("--models", default="tiny.en,base", help="Models of the quality part (base when installed).")
    parser.add_argument("--worker", choices=("service", "plain", "quality"), help=argparse.SUPPRESS)
    parser.add_argument("--audio", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker == "quality":
        print(json.dumps(quality_worker(args.model)))
        return
    if args.worker:
        print(json.dumps(run_worker(args.worker, args.audio, args.model)))
        return
    if args.part in ("speed", "all"):
        speed(args)
    if args.part in ("quality", "all"):
        import importlib.util

        from podbrief_transcribe.models import BASE

        results = []
        for model in args.models.split(","):
            if model == "base" and not all(importlib.util.find_spec(package) for package, _ in BASE.parts):
                print("base: not installed (`make models-base`); skipped")
                continue
            results.append(spawn_quality(model))
        report_quality(results, args.json)


def speed(args: argparse.Namespace) -> None:
    """The service path against plain `WhisperModel.transcribe` on the joined sample episodes."""
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
