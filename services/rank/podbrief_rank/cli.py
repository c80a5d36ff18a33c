"""`podbrief insights TRANSCRIPT_JSON`: an episode's insights from a `podbrief transcribe --json` file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer
from podbrief_runtime.timecode import clock_time

from podbrief_rank.extract import Extracted, Extractor
from podbrief_rank.segmentation import TimedText

app = typer.Typer(add_completion=False, help="Extract insights from a transcript.")


def load_transcript(path: Path) -> tuple[list[TimedText], float | None, str]:
    """Segments, duration and language of a `podbrief transcribe --json` document."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        segments = [
            TimedText(float(s["start"]), float(s["end"]), str(s["text"]), s.get("speaker")) for s in data["segments"]
        ]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise typer.BadParameter(f"{path} is not a transcript JSON ({exc})") from exc
    duration = data.get("duration")
    return segments, float(duration) if duration is not None else None, str(data.get("language") or "en")


def as_json(insights: list[Extracted]) -> list[dict[str, Any]]:
    """The `--json` shape: text, start, end, score, keywords per insight."""
    return [{"text": x.text, "start": x.start, "end": x.end, "score": x.score, "keywords": x.keywords} for x in insights]


def _extractor() -> Extractor:
    from podbrief_rank.resources import build_embedder, build_extractor
    from podbrief_rank.settings import Settings

    settings = Settings()
    return build_extractor(settings, build_embedder(settings))


@app.command()
def insights(
    transcript_json: Path,
    top: int = typer.Option(10, "--top", min=1, help="Most insights to show."),
    json_out: bool = typer.Option(False, "--json", help="Print a JSON list instead of text."),
) -> None:
    """Print the best insights of TRANSCRIPT_JSON (the output of `podbrief transcribe --json`), best first."""
    segments, duration, language = load_transcript(transcript_json)
    found = _extractor().extract(segments, duration, language, top=top)
    if json_out:
        typer.echo(json.dumps(as_json(found), indent=2, ensure_ascii=False))
        return
    if not found:
        typer.echo("No insights found.")
        return
    for n, x in enumerate(found, 1):
        typer.echo(f"{n}. [{clock_time(x.start)}–{clock_time(x.end)}] ({x.score:.2f}) {x.text}")
        if x.keywords:
            typer.echo(f"   keywords: {', '.join(x.keywords)}")


if __name__ == "__main__":
    app()
