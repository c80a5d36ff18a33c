"""Audio downloads and content checks: files that are not whole audio end as permanent errors, quickly."""

from __future__ import annotations

import asyncio
import logging
import os
import re
import socket
from types import SimpleNamespace

import pytest
from podbrief_runtime.errors import PermanentError
from podbrief_runtime.kafka import ConsumerLoop
from podbrief_runtime.safe_http import FetchError, SafeClient
from podbrief_transcribe.audio import probe, sniff
from podbrief_transcribe.chapters import fetch_chapters
from podbrief_transcribe.download import download_audio, fetch_text
from podbrief_transcribe.episode import Transcriber
from podbrief_transcribe.exceptions import AudioUnavailableError, BadAudioError, ChaptersError, TranscriptError
from podbrief_transcribe.service import to_source
from transcribe_helpers import HTML_PAGE, JPEG, episode_event, lavf_mp3, mp3


async def _recognise(settings, engine, url, duration=None):
    async with SafeClient(allow_private=settings.allow_private_urls, timeout=settings.http_timeout_seconds) as client:
        return await Transcriber(settings, engine, client).recognise(to_source(episode_event(url, duration=duration)))


@pytest.mark.parametrize(
    ("body", "content_type", "reason"),
    [
        (HTML_PAGE, "text/html; charset=utf-8", "HTML page"),
        (HTML_PAGE, "audio/mpeg", "HTML page"),  # a server that lies about the type
        (JPEG, "image/jpeg", "JPEG image"),
        (b"", "audio/mpeg", "empty (0 bytes)"),
        (b'{"error": "episode not found"}', "application/json", "JSON"),
        (os.urandom(40_000), "audio/mpeg", "not decodable audio"),
    ],
)
async def test_a_file_that_is_not_audio_is_a_permanent_error_with_its_reason(
    settings, engine, loopback, body, content_type, reason
):
    url = loopback.serve("/ep.mp3", body, content_type)
    with pytest.raises(BadAudioError, match=re.escape(reason)) as caught:
        await _recognise(settings, engine, url)
    assert isinstance(caught.value, PermanentError)
    assert list(settings.audio_dir.iterdir()) == []


async def test_an_mp3_cut_short_is_caught_by_its_own_length_header(settings, engine, loopback):
    whole = lavf_mp3(20.0)
    url = loopback.serve("/cut.mp3", whole[: len(whole) // 2], "audio/mpeg")
    with pytest.raises(BadAudioError, match=r"truncated: 10 s of audio where its header declares 20 s"):
        await _recognise(settings, engine, url)


@pytest.mark.parametrize("declared", [180.0, 20.0])
def test_a_whole_file_is_never_refused_for_the_feeds_declared_duration(tmp_path, declared):
    # A complete 71-second episode whose feed says 180 s (issue 15): the feed's figure is noted, not obeyed.
    path = tmp_path / "whole.mp3"
    path.write_bytes(lavf_mp3(71.0))
    info = probe(path, declared_duration=declared)
    assert info.duration == pytest.approx(71.0, abs=0.3)
    assert info.notes == (f"the audio is 71 s long where the feed declares {declared:.0f} s; the feed's figure is ignored",)
    assert probe(path, declared_duration=75.0).notes == ()


@pytest.mark.slow
async def test_a_complete_episode_with_a_wrong_feed_duration_is_transcribed_with_a_note(settings, engine, loopback):
    url = loopback.serve("/short.mp3", mp3("ep1"), "audio/mpeg")
    transcript = await _recognise(settings, engine, url, duration=400.0)
    assert transcript.segments and "signal hour" in transcript.text.lower()
    assert transcript.notes == ["the audio is 122 s long where the feed declares 400 s; the feed's figure is ignored"]


async def test_an_mp3_cut_to_its_first_frames_is_refused(settings, engine, loopback):
    url = loopback.serve("/cut.mp3", mp3("ep1")[:3000], "audio/mpeg")
    with pytest.raises(BadAudioError, match=r"only 0.5 s of audio"):
        await _recognise(settings, engine, url)


@pytest.mark.parametrize("status", [404, 410, 403])
async def test_a_missing_file_is_permanent(settings, engine, loopback, status):
    url = loopback.serve("/gone.mp3", b"nope", "text/plain", status=status)
    with pytest.raises(AudioUnavailableError, match=f"HTTP {status}"):
        await _recognise(settings, engine, url)


async def test_a_server_error_is_left_to_retries(settings, engine, loopback):
    url = loopback.serve("/busy.mp3", b"busy", "text/plain", status=503)
    with pytest.raises(FetchError, match="HTTP 503") as caught:
        await _recognise(settings, engine, url)
    assert not isinstance(caught.value, PermanentError)


async def test_a_file_over_the_size_cap_is_refused_before_it_is_read(settings, engine, loopback):
    settings.max_audio_bytes = 100_000
    url = loopback.serve("/big.mp3", mp3("ep1"), "audio/mpeg")
    with pytest.raises(AudioUnavailableError, match="more than the limit of 100000"):
        await _recognise(settings, engine, url)


async def test_a_server_that_trickles_bytes_cannot_hold_the_worker_past_the_deadline(settings, engine, loopback):
    settings.download_timeout_seconds = 1.5
    url = loopback.serve("/slow.mp3", mp3("ep1")[:5000], "audio/mpeg", drip=0.05)
    # The deadline's own message (not a per-read timeout's) shows the overall deadline ended it.
    with pytest.raises(FetchError, match="within the 1.5s deadline"):
        await asyncio.wait_for(_recognise(settings, engine, url), 60)
    assert list(settings.audio_dir.iterdir()) == []


async def test_private_addresses_are_refused_unless_allowed(settings, engine, loopback):
    settings.allow_private_urls = False
    url = loopback.serve("/ep1.mp3", mp3("ep1"), "audio/mpeg")
    with pytest.raises(AudioUnavailableError, match="non-public address"):
        await _recognise(settings, engine, url)
    assert loopback.hits == {}


class _Producer:
    def __init__(self) -> None:
        self.headers: list[dict[str, bytes]] = []

    async def send_and_wait(self, topic, value, key=None, headers=None):
        self.headers.append(dict(headers))


async def test_secrets_in_episode_urls_stay_out_of_errors_logs_and_dead_letters(loopback, tmp_path, caplog):
    secret = "/SECRETPATH.mp3?token=SECRETQUERY"
    server_error = loopback.serve("/down" + secret, b"", status=500)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        refused = f"http://127.0.0.1:{sock.getsockname()[1]}/private{secret}"
    failures: list[Exception] = []
    async with SafeClient(allow_private=True, timeout=2) as client:
        for url in (loopback.url("/gone" + secret), server_error, refused):
            with pytest.raises((AudioUnavailableError, FetchError)) as caught:
                await download_audio(client, url, tmp_path / "ep.audio", max_bytes=1 << 20, deadline=10)
            failures.append(caught.value)
        with pytest.raises(TranscriptError) as caught:
            await fetch_text(client, loopback.url("/transcript" + secret), max_bytes=1000)
        failures.append(caught.value)
        with pytest.raises(ChaptersError) as caught:
            await fetch_chapters(client, refused, max_bytes=1000)
        failures.append(caught.value)
    # What the consumer loop does with a handler's last failure: the error travels in the dead letter's headers.
    producer = _Producer()
    loop = ConsumerLoop("127.0.0.1:1", "transcribe", {}, producer, max_attempts=1)  # type: ignore[arg-type]
    record = SimpleNamespace(topic="episodes.discovered", partition=0, offset=1, key=b"k", value=b"{}")
    caplog.set_level(logging.INFO, logger="podbrief_runtime")
    for exc in failures:
        await loop.dead_letter(record, exc, attempts=1)  # type: ignore[arg-type]
    await loop.consumer.stop()  # never started; stopping it only releases it
    headers = [h["error"].decode() for h in producer.headers]
    logged = " ".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records if r.name.startswith("podbrief"))
    assert len(headers) == 5 and all("127.0.0.1" in text for text in headers)
    for text in (*map(str, failures), *headers, logged):
        assert "SECRETPATH" not in text and "SECRETQUERY" not in text


def test_sniffing_names_what_a_file_is():
    assert sniff(b"") == "the file is empty (0 bytes)"
    assert sniff(JPEG) == "the file is a JPEG image, not audio"
    assert sniff(b"\x89PNG\r\n\x1a\n....") == "the file is a PNG image, not audio"
    assert sniff(b"\xef\xbb\xbf  <!doctype html><html>") == "the file is an HTML page, not audio"
    assert sniff(b'<?xml version="1.0"?><rss>') == "the file is an XML or HTML document, not audio"
    assert sniff(mp3("ep1")[:4096]) is None
    assert sniff(b"ID3\x04\x00") is None
    assert sniff(b"\x00\x00\x00\x20ftypM4A ") is None


def test_probing_measures_whole_audio(tmp_path):
    path = tmp_path / "ep1.mp3"
    path.write_bytes(mp3("ep1"))
    info = probe(path, declared_duration=111.0)
    assert info.duration == pytest.approx(121.57, abs=0.05)
    assert info.container == "mp3"


def test_a_whole_lavf_mp3_passes_its_own_length_check(tmp_path):
    path = tmp_path / "whole.mp3"
    path.write_bytes(lavf_mp3(20.0))
    assert probe(path).duration == pytest.approx(20.0, abs=0.2)


@pytest.mark.slow
async def test_a_broken_publisher_transcript_falls_back_to_speech_recognition(settings, engine, loopback):
    from podbrief_contracts import TranscriptRef

    empty = loopback.serve("/empty.json", b'{"version": "1.0.0", "segments": []}', "application/json")
    refs = [TranscriptRef(url=loopback.url("/gone.vtt"), type="text/vtt"), TranscriptRef(url=empty, type="application/json")]
    event = episode_event(loopback.serve("/ep1.mp3", mp3("ep1"), "audio/mpeg"), duration=121.6, transcripts=refs)
    async with SafeClient(allow_private=True) as client:
        transcript = await Transcriber(settings, engine, client).transcribe(to_source(event))
    assert (transcript.source, transcript.model, transcript.language) == ("asr", "tiny.en", "en")
    assert "signal hour" in transcript.text.lower()  # tiny.en capitalises the show's name only sometimes
    assert loopback.hits == {"/empty.json": 1, "/gone.vtt": 1, "/ep1.mp3": 1}
    assert list(settings.audio_dir.iterdir()) == []  # the cached audio is deleted after use


@pytest.mark.slow
async def test_the_audio_stays_in_the_cache_when_asked(settings, engine, loopback):
    settings.keep_audio = True
    transcript = await _recognise(settings, engine, loopback.serve("/ep1.mp3", mp3("ep1"), "audio/mpeg"))
    assert transcript.segments
    [kept] = settings.audio_dir.iterdir()
    assert kept.read_bytes() == mp3("ep1")
