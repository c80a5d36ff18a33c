"""Audio files: is this really audio, is it whole, and its samples as 16 kHz mono, a block at a time.

Nothing here holds a whole episode in memory: probing only demuxes (reads packet headers) and
decoding yields blocks, so a 3-hour file costs as much memory as a few minutes of it.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import av
import numpy as np

from podbrief_transcribe.exceptions import BadAudioError

SAMPLE_RATE = 16_000
SNIFF_BYTES = 4096

_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"%PDF", "a PDF document"),
    (b"PK\x03\x04", "a ZIP archive"),
)
# Formats whose duration FFmpeg estimates from size and bit rate: a cut file still "agrees" with itself.
_ESTIMATED_DURATION_FORMATS = {"mp3", "aac"}
# A header whose duration is wrong by more than this means the file was cut short.
HEADER_TOLERANCE = 0.9
# The feed's itunes:duration is often wrong (dynamic ad insertion, rounding, reuse, typos): a difference beyond
# this share is noted on the episode, never a reason to refuse a file that is whole by its own evidence.
DECLARED_TOLERANCE = 0.5


@dataclass(frozen=True)
class AudioInfo:
    """What probing found: the audio's length in seconds and its container and codec."""

    duration: float
    container: str
    codec: str
    # What a person may want to know about the file that did not stop it (e.g. a feed duration it does not match).
    notes: tuple[str, ...] = ()


def sniff(head: bytes) -> str | None:
    """Why a file starting with `head` cannot be audio, or None when it may be."""
    if not head:
        return "the file is empty (0 bytes)"
    for magic, what in _SIGNATURES:
        if head.startswith(magic):
            return f"the file is {what}, not audio"
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if text.startswith(b"<"):
        kind = "an HTML page" if b"<html" in text or text.startswith(b"<!doctype html") else "an XML or HTML document"
        return f"the file is {kind}, not audio"
    if text.startswith((b"{", b"[")):
        return "the file is JSON, not audio"
    return None


def probe(path: Path, *, declared_duration: float | None = None, min_seconds: float = 1.0) -> AudioInfo:
    """Check that `path` is whole, decodable audio and measure it; raises BadAudioError with the reason."""
    with path.open("rb") as file:
        reason = sniff(file.read(SNIFF_BYTES))
    if reason:
        raise BadAudioError(reason)
    try:
        container = av.open(str(path), metadata_errors="ignore")
    except av.FFmpegError as exc:
        raise BadAudioError(f"the file is not decodable audio ({_ffmpeg_reason(exc)})") from exc
    with container:
        if not container.streams.audio:
            raise BadAudioError(f"the file ({container.format.name}) has no audio stream")
        stream = container.streams.audio[0]
        info = AudioInfo(_scan(container, stream), container.format.name, stream.codec_context.name)
        header = container.duration / av.time_base if container.duration else None
    if info.duration < min_seconds:
        raise BadAudioError(f"the file holds only {info.duration:.1f} s of audio (truncated or empty)")
    if header and _header_is_measured(path, info.container) and info.duration < HEADER_TOLERANCE * header:
        raise BadAudioError(f"the file is truncated: {info.duration:.0f} s of audio where its header declares {header:.0f} s")
    if declared_duration and not DECLARED_TOLERANCE <= info.duration / declared_duration <= 1 / DECLARED_TOLERANCE:
        # Metadata never vetoes content: the file decoded whole, so the feed's figure is what is wrong.
        note = (
            f"the audio is {info.duration:.0f} s long where the feed declares {declared_duration:.0f} s; "
            "the feed's figure is ignored"
        )
        info = replace(info, notes=(*info.notes, note))
    return info


def decode_blocks(path: Path, block_seconds: float = 30.0) -> Iterator[np.ndarray]:
    """Yield the audio as 16 kHz mono float32 blocks of about `block_seconds` each."""
    resampler = av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE)
    block_samples = int(block_seconds * SAMPLE_RATE)
    pending: list[np.ndarray] = []
    size = 0
    with av.open(str(path), metadata_errors="ignore") as container:
        for frame in _valid_frames(container.decode(audio=0)):
            frame.pts = None  # the resampler refuses frames whose timestamps jump (damaged or joined files)
            for out in resampler.resample(frame):
                pending.append(out.to_ndarray()[0])
                size += out.samples
            if size >= block_samples:
                yield np.concatenate(pending)
                pending, size = [], 0
        for out in resampler.resample(None):
            pending.append(out.to_ndarray()[0])
    del resampler
    # PyAV's resampler keeps buffers alive until a collection (faster-whisper issue #390).
    gc.collect()
    if pending:
        yield np.concatenate(pending)


def _valid_frames(frames: Iterator[av.AudioFrame]) -> Iterator[av.AudioFrame]:
    """Skip frames FFmpeg cannot decode (a damaged frame mid-file), as faster-whisper does."""
    while True:
        try:
            yield next(frames)
        except StopIteration:
            return
        except av.error.InvalidDataError:
            continue


def _scan(container: av.container.InputContainer, stream: av.AudioStream, decode_first: int = 50) -> float:
    """Seconds of audio actually present (the end of the last packet), decoding the first packets on the way.

    Decoding a few is what tells garbage that happens to demux from audio.
    """
    start = stream.start_time or 0
    end = summed = 0
    decoded = damaged = 0
    try:
        for count, packet in enumerate(container.demux(stream)):
            if packet.pts is not None:
                end = max(end, packet.pts - start + (packet.duration or 0))
            summed += packet.duration or 0
            if count < decode_first:
                try:
                    decoded += len(packet.decode())
                except av.FFmpegError:
                    damaged += 1
    except av.FFmpegError as exc:
        raise BadAudioError(f"the file is damaged ({_ffmpeg_reason(exc)})") from exc
    if not decoded:
        raise BadAudioError(f"the {stream.codec_context.name} audio cannot be decoded ({damaged} damaged packets)")
    return float(max(end, summed) * stream.time_base) if stream.time_base else 0.0


def _header_is_measured(path: Path, container_format: str) -> bool:
    """Whether the container's duration comes from its header rather than an estimate from the file size."""
    if not set(container_format.split(",")) & _ESTIMATED_DURATION_FORMATS:
        return True
    return container_format == "mp3" and _has_mp3_length_tag(path)


def _has_mp3_length_tag(path: Path) -> bool:
    """A Xing/Info/VBRI frame at the start of an MP3 states its frame count, so its duration is measured."""
    with path.open("rb") as file:
        head = file.read(10)
        offset = 0
        if head[:3] == b"ID3" and len(head) == 10:
            size = (head[6] << 21) | (head[7] << 14) | (head[8] << 7) | head[9]
            offset = 10 + size + (10 if head[5] & 0x10 else 0)
        file.seek(offset)
        frame = file.read(256)
    return any(tag in frame for tag in (b"Xing", b"Info", b"VBRI"))


def _ffmpeg_reason(exc: av.FFmpegError) -> str:
    return getattr(exc, "strerror", None) or str(exc)
