"""Helpers for the transcribe tests: a loopback HTTP server with scripted responses, sample data, events."""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from podbrief_contracts import EpisodeDiscovered, TranscriptRef, episode_id_for, feed_id_for

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
REAL_WORLD = Path(__file__).resolve().parents[3] / "shared" / "real-world"


@dataclass
class Reply:
    """What the server answers on one path; `drip` sends the body a byte every `drip` seconds."""

    body: bytes
    content_type: str = "application/octet-stream"
    status: int = 200
    drip: float = 0.0


class Loopback:
    """A real HTTP server on 127.0.0.1 answering each path with its `Reply`; counts requests."""

    def __init__(self) -> None:
        self.replies: dict[str, Reply] = {}
        self.hits: dict[str, int] = {}
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
                pass

            def do_GET(self) -> None:  # noqa: N802 - stdlib name
                server.hits[self.path] = server.hits.get(self.path, 0) + 1
                reply = server.replies.get(self.path)
                if reply is None:
                    self.send_error(404)
                    return
                self.send_response(reply.status)
                self.send_header("Content-Type", reply.content_type)
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                try:
                    if not reply.drip:
                        self.wfile.write(reply.body)
                        return
                    for byte in reply.body:
                        self.wfile.write(bytes([byte]))
                        self.wfile.flush()
                        time.sleep(reply.drip)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}{path}"

    def serve(self, path: str, body: bytes, content_type: str = "application/octet-stream", **kwargs: Any) -> str:
        """Answer `path` with `body`; returns its URL."""
        self.replies[path] = Reply(body, content_type, **kwargs)
        return self.url(path)

    def __enter__(self) -> Loopback:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def script(name: str) -> str:
    """The spoken script of sample episode `name` (ep1..ep4)."""
    return (SAMPLES / "scripts" / f"{name}.txt").read_text()


def mp3(name: str) -> bytes:
    return (SAMPLES / "audio" / f"{name}.mp3").read_bytes()


def real_transcript(name: str) -> str:
    """A real publisher transcript from `../shared/real-world/transcripts`; skips the test when that folder is absent."""
    if not REAL_WORLD.is_dir():
        pytest.skip("../shared/real-world is absent")
    return (REAL_WORLD / "transcripts" / name).read_text(encoding="utf-8")


def episode_event(
    audio_url: str,
    *,
    duration: float | None = None,
    transcripts: list[TranscriptRef] | None = None,
    chapters_url: str | None = None,
) -> EpisodeDiscovered:
    """An EpisodeDiscovered of a fresh, unique episode."""
    feed_url = f"https://example.com/{uuid.uuid4().hex}.xml"
    feed_id = feed_id_for(feed_url)
    guid = uuid.uuid4().hex
    episode_id = episode_id_for(feed_id, guid)
    return EpisodeDiscovered(
        event_id=f"discovered-{episode_id}",
        episode_id=episode_id,
        feed_id=feed_id,
        feed_url=feed_url,
        podcast_title="The Signal Hour",
        guid=guid,
        title="Open weights and leaks",
        enclosure_url=audio_url,
        enclosure_type="audio/mpeg",
        duration_seconds=duration,
        transcripts=transcripts or [],
        chapters_url=chapters_url,
    )


def lavf_mp3(seconds: float = 20.0) -> bytes:
    """The start of ep1 re-encoded by FFmpeg's MP3 muxer, which writes an Info frame stating the length (as most encoders do)."""
    import io

    import av
    import numpy as np
    from faster_whisper import decode_audio

    audio = decode_audio(str(SAMPLES / "audio" / "ep1.mp3"))[: int(16000 * seconds)]
    out = io.BytesIO()
    with av.open(out, "w", format="mp3") as container:
        stream = container.add_stream("libmp3lame", rate=16000)
        stream.layout = "mono"
        frame = av.AudioFrame.from_ndarray((audio * 32767).astype(np.int16)[None, :], format="s16", layout="mono")
        frame.rate = 16000
        for packet in [*stream.encode(frame), *stream.encode(None)]:
            container.mux(packet)
    return out.getvalue()


JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + bytes(2000) + b"\xff\xd9"
HTML_PAGE = b"<!DOCTYPE html>\n<html><head><title>Episode 1</title></head><body><p>Listen on our app!</p></body></html>"
