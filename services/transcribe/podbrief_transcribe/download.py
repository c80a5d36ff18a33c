"""Fetching an episode's audio into the cache and its publisher transcripts into memory.

Both go through SafeClient (SSRF checks, per-read timeouts and an overall deadline, checked
redirects). Errors that a retry cannot fix (refused URL, 404, too large, not audio) are permanent;
the rest (timeouts, 5xx, broken connections) are left to the consumer's retries.
"""

from __future__ import annotations

import re
from pathlib import Path

import httpx
from podbrief_runtime.redact import redact_url
from podbrief_runtime.safe_http import FetchError, SafeClient, UnsafeURLError

from podbrief_transcribe.audio import SNIFF_BYTES, sniff
from podbrief_transcribe.exceptions import AudioUnavailableError, BadAudioError, TranscriptError

# Client errors a retry will not fix; 408/425/429 mean "try later".
_RETRYABLE_4XX = {408, 425, 429}


async def download_audio(client: SafeClient, url: str, dest: Path, *, max_bytes: int, deadline: float) -> int:
    """Stream `url` to `dest` within `deadline` seconds; returns its size.

    Raises AudioUnavailableError or BadAudioError (permanent) or FetchError (worth retrying).
    """
    part = dest.with_name(dest.name + ".part")
    try:
        size = await _stream_to(client, url, part, max_bytes, deadline)
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    part.replace(dest)
    return size


async def _stream_to(client: SafeClient, url: str, part: Path, max_bytes: int, deadline: float) -> int:
    try:
        # The client ends the whole download, slow drips included, at `deadline` with a FetchError.
        async with client.stream("GET", url, deadline=deadline) as (raw, response):
            _check_status(raw.status_code, response.url)
            declared = int(raw.headers.get("content-length") or 0)
            if declared > max_bytes:
                raise AudioUnavailableError(f"the audio is {declared} bytes, more than the limit of {max_bytes}")
            content_type = raw.headers.get("content-type", "unknown")
            head = b""
            size = 0
            with part.open("wb") as out:
                async for chunk in raw.aiter_bytes():
                    size += len(chunk)
                    if size > max_bytes:
                        raise AudioUnavailableError(f"the audio is larger than the limit of {max_bytes} bytes")
                    if len(head) < SNIFF_BYTES:
                        # Refuse a web page or an image after its first bytes, not after downloading it all.
                        head += chunk[: SNIFF_BYTES - len(head)]
                        if len(head) >= SNIFF_BYTES:
                            _check_head(head, content_type)
                    out.write(chunk)
            _check_head(head, content_type)
            return size
    except UnsafeURLError as exc:
        raise AudioUnavailableError(f"refused audio URL: {exc}") from exc
    except httpx.TimeoutException as exc:
        raise FetchError(f"timed out reading {redact_url(url)}") from exc
    except httpx.HTTPError as exc:
        raise FetchError(f"connection broke while reading {redact_url(url)}: {type(exc).__name__}: {exc}") from exc


async def fetch_text(client: SafeClient, url: str, *, max_bytes: int) -> tuple[str, str]:
    """(body as text, media type) of a publisher transcript; raises TranscriptError."""
    try:
        response = await client.fetch(url, max_bytes=max_bytes)
    except (FetchError, UnsafeURLError) as exc:
        raise TranscriptError(f"cannot fetch the transcript {redact_url(url)}: {exc}") from exc
    if response.status != 200:
        raise TranscriptError(f"HTTP {response.status} fetching the transcript {redact_url(url)}")
    media_type = response.headers.get("content-type", "")
    charset = re.search(r"charset=\"?([\w.:-]+)", media_type)
    try:
        text = response.body.decode(charset.group(1) if charset else "utf-8", errors="replace")
    except LookupError:
        text = response.body.decode("utf-8", errors="replace")
    return text.lstrip("\ufeff"), media_type.split(";")[0].strip().lower()


def _check_status(status: int, url: str) -> None:
    if status == 200:
        return
    if 400 <= status < 500 and status not in _RETRYABLE_4XX:
        raise AudioUnavailableError(f"HTTP {status} fetching the audio {redact_url(url)}")
    raise FetchError(f"HTTP {status} fetching the audio {redact_url(url)}")


def _check_head(head: bytes, content_type: str) -> None:
    reason = sniff(head)
    if reason:
        raise BadAudioError(f"{reason} (served as {content_type})")
