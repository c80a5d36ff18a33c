"""`podbrief transcribe AUDIO_FILE_OR_URL [--model M] [--json]`: one file through the service's transcription path."""

from __future__ import annotations

import asyncio
import json
import tempfile
from pathlib import Path

import typer
from podbrief_runtime.errors import PermanentError
from podbrief_runtime.safe_http import FetchError, SafeClient
from podbrief_runtime.timecode import clock_time
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeRemainingColumn

from podbrief_transcribe.asr import load_engine, transcribe_path
from podbrief_transcribe.download import download_audio
from podbrief_transcribe.settings import Settings
from podbrief_transcribe.transcript import Transcript

err = Console(stderr=True, soft_wrap=True)


def transcribe(source: str, model: str | None = None, json_out: bool = typer.Option(False, "--json")) -> None:
    """Transcribe an audio file or http(s) URL and print it; `--json` prints one JSON object on stdout."""
    settings = Settings()
    try:
        with tempfile.TemporaryDirectory(prefix="podbrief-") as tmp:
            path = _local_copy(source, Path(tmp), settings)
            err.print(f"loading model {model or settings.whisper_model or 'tiny.en (bundled)'}…")
            engine = load_engine(settings, model)
            with Progress(
                TextColumn("transcribing"), BarColumn(), TaskProgressColumn(), TimeRemainingColumn(), console=err, transient=True
            ) as bar:
                task = bar.add_task("transcribing", total=None)
                transcript = transcribe_path(
                    path, engine, progress=lambda done, total: bar.update(task, completed=done, total=total)
                )
    except (PermanentError, FetchError, OSError) as exc:
        err.print(f"cannot transcribe {source}: {exc}", style="red", markup=False, highlight=False)
        raise typer.Exit(1) from exc
    if json_out:
        typer.echo(json.dumps(transcript.as_json(words=settings.word_timestamps), ensure_ascii=False))
    else:
        _print_text(transcript)


def _local_copy(source: str, tmp: Path, settings: Settings) -> Path:
    """`source` as a local file: a URL is downloaded (with the service's checks) into `tmp`."""
    if source.startswith(("http://", "https://")):
        dest = tmp / "audio"
        err.print(f"downloading {source}…")
        asyncio.run(_download(source, dest, settings))
        return dest
    path = Path(source).expanduser()
    if not path.is_file():
        raise FileNotFoundError(f"no such file: {path}")
    return path


async def _download(url: str, dest: Path, settings: Settings) -> None:
    # The user's own command on the user's own machine: private addresses are theirs to fetch.
    async with SafeClient(allow_private=True, timeout=settings.http_timeout_seconds) as client:
        await download_audio(client, url, dest, max_bytes=settings.max_audio_bytes, deadline=settings.download_timeout_seconds)


def _print_text(transcript: Transcript) -> None:
    err.print(f"language {transcript.language}, {transcript.duration:.0f} s, model {transcript.model}")
    for segment in transcript.segments:
        typer.echo(f"[{clock_time(segment.start, tenths=True)} → {clock_time(segment.end, tenths=True)}] {segment.text}")
