"""URL secrets stay out of logs, error messages and dead-letter headers."""

from __future__ import annotations

import json
import logging
import socket
from types import SimpleNamespace

import pytest
from podbrief_runtime.errors import PermanentError
from podbrief_runtime.kafka import ConsumerLoop
from podbrief_runtime.logs import setup_logging
from podbrief_runtime.redact import redact_text, redact_url
from podbrief_runtime.safe_http import FetchError, SafeClient

SECRETS = ("SECRETPATH", "SECRETQUERY", "SECRETPW")


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://hooks.slack.com/services/T000/B000/SECRETPATH", "https://hooks.slack.com/…"),
        ("http://127.0.0.1:8080/hooks/T000/SECRETPATH?token=SECRETQUERY", "http://127.0.0.1:8080/…"),
        ("https://feeds.example.com?token=SECRETQUERY", "https://feeds.example.com/…"),
        ("https://feeds.example.com/#SECRETPATH", "https://feeds.example.com/…"),
        ("https://user:SECRETPW@Feeds.Example.com/", "https://feeds.example.com/"),
        ("http://[::1]:9000/x", "http://[::1]:9000/…"),
        ("https://example.com", "https://example.com"),
        ("http://[::1/SECRETPATH", "<unreadable URL>"),
        ("/relative/SECRETPATH", "<unreadable URL>"),
    ],
)
def test_a_url_is_reduced_to_scheme_host_and_port(url, shown):
    assert redact_url(url) == shown


def test_every_url_in_a_text_is_redacted_and_the_rest_kept():
    text = (
        "cannot fetch http://a.example/SECRETPATH?token=SECRETQUERY: redirected to "
        "(https://b.example:8443/x/SECRETPATH). Also 'https://c.example/?k=SECRETQUERY', done"
    )
    assert redact_text(text) == (
        "cannot fetch http://a.example/…: redirected to (https://b.example:8443/…). Also 'https://c.example/…', done"
    )


async def test_fetch_errors_name_the_host_but_not_the_secret():
    url = f"http://127.0.0.1:{_closed_port()}/hooks/T000/SECRETPATH?token=SECRETQUERY"
    async with SafeClient(allow_private=True, timeout=2) as client:
        with pytest.raises(FetchError) as caught:
            await client.fetch(url, max_bytes=100)
    assert "127.0.0.1" in str(caught.value)
    assert not any(secret in str(caught.value) for secret in SECRETS)


@pytest.fixture
def service_logs(capsys):
    """The service's own log output (its formatter, on stderr); the root logger is restored afterwards."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield lambda: capsys.readouterr().err
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.mark.parametrize("fmt", ["json", "text"])
def test_the_service_log_output_redacts_urls_in_messages_fields_and_tracebacks(service_logs, fmt):
    setup_logging("notify", fmt, "INFO")
    log = logging.getLogger("podbrief.test")
    url = "https://hooks.example/services/T000/SECRETPATH?token=SECRETQUERY"
    log.info("posting to %s", url, extra={"url": url, "error": f'ValueError("{url}")'})
    try:
        raise RuntimeError(f"cannot reach {url}")
    except RuntimeError:
        log.exception("delivery crashed")
    output = service_logs()
    assert "https://hooks.example/" in output
    assert not any(secret in output for secret in SECRETS)
    if fmt == "json":
        for line in output.strip().splitlines():
            json.loads(line)  # redacting inside fields keeps every line valid JSON


class _Producer:
    def __init__(self) -> None:
        self.sent: list[tuple[str, list[tuple[str, bytes]]]] = []

    async def send_and_wait(self, topic, value, key=None, headers=None):
        self.sent.append((topic, headers))


@pytest.mark.parametrize(
    "exc",
    [
        PermanentError("HTTP 404 fetching the audio https://cdn.example/private/SECRETPATH.mp3?token=SECRETQUERY"),
        RuntimeError("unexpected answer from 'http://user:SECRETPW@10.0.0.1/hook/SECRETPATH'"),
    ],
)
async def test_dead_letter_headers_and_logs_carry_the_error_without_url_secrets(caplog, exc):
    producer = _Producer()
    loop = ConsumerLoop("127.0.0.1:1", "group", {}, producer, max_attempts=1)  # type: ignore[arg-type]
    record = SimpleNamespace(topic="episodes.discovered", partition=0, offset=7, key=b"k", value=b"{}")
    caplog.set_level(logging.INFO, logger="podbrief_runtime")
    await loop.dead_letter(record, exc, attempts=1)  # type: ignore[arg-type]
    await loop.consumer.stop()  # never started; stopping it only releases it
    [(topic, headers)] = producer.sent
    error = dict(headers)["error"].decode()
    assert topic == "episodes.discovered.dlq" and error.startswith(type(exc).__name__)
    assert "/…" in error
    logged = " ".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    assert "dead-lettered" in logged
    assert not any(secret in error or secret in logged for secret in SECRETS)
