"""Which handler errors are permanent, which are outages to wait out, and which are bugs: one table for `classify`."""

from __future__ import annotations

import errno

import httpx
import pytest
from aiokafka.errors import KafkaConnectionError, RequestTimedOutError
from podbrief_contracts import FeedSubscribed
from podbrief_runtime.errors import DeadlineExceeded, Failure, PermanentError, TransientError, classify
from podbrief_runtime.kafka import parse
from podbrief_runtime.safe_http import FetchError
from sqlalchemy import exc as sa

PERMANENT, TRANSIENT, BUG = Failure.PERMANENT, Failure.TRANSIENT, Failure.BUG


def _caused(exc: BaseException, cause: BaseException) -> BaseException:
    exc.__cause__ = cause
    return exc


def _parse_failure() -> BaseException:
    with pytest.raises(PermanentError) as caught:
        parse(FeedSubscribed, b"{not json")
    return caught.value


def _http_status(status: int) -> httpx.HTTPStatusError:
    request = httpx.Request("GET", "http://qdrant:6333/collections")
    return httpx.HTTPStatusError("status", request=request, response=httpx.Response(status, request=request))


class UnexpectedResponse(Exception):
    """Like qdrant-client's: an HTTP answer it did not expect, with its status."""

    def __init__(self, status_code: int) -> None:
        self.status_code = status_code


class ResponseHandlingException(Exception):
    """Like qdrant-client's: the transport failed; the original error is in `.source`."""

    def __init__(self, source: Exception) -> None:
        self.source = source


TABLE = [
    (PermanentError("not audio"), PERMANENT),
    (_parse_failure(), PERMANENT),
    (_caused(PermanentError("refused URL"), ConnectionRefusedError()), PERMANENT),
    (TransientError("model server warming up"), TRANSIENT),
    (ConnectionRefusedError(errno.ECONNREFUSED, "refused"), TRANSIENT),
    (ConnectionResetError(), TRANSIENT),
    (OSError(errno.ENOSPC, "no space left on device"), TRANSIENT),
    (TimeoutError(), TRANSIENT),
    (httpx.ConnectError("connection refused"), TRANSIENT),
    (httpx.ReadTimeout("read timed out"), TRANSIENT),
    (_http_status(503), TRANSIENT),
    (_http_status(429), TRANSIENT),
    (_http_status(404), BUG),
    (UnexpectedResponse(502), TRANSIENT),
    (UnexpectedResponse(400), BUG),
    (ResponseHandlingException(httpx.ConnectError("refused")), TRANSIENT),
    (sa.OperationalError("SELECT 1", {}, Exception("database is locked")), TRANSIENT),
    (sa.OperationalError("UPDATE t", {}, Exception("canceling statement due to lock timeout")), TRANSIENT),
    (sa.DBAPIError("SELECT 1", {}, Exception("server closed the connection"), connection_invalidated=True), TRANSIENT),
    (sa.TimeoutError("QueuePool limit reached"), TRANSIENT),
    (sa.IntegrityError("INSERT", {}, Exception("duplicate key")), BUG),
    (KafkaConnectionError(), TRANSIENT),
    (RequestTimedOutError(), TRANSIENT),
    (_caused(RuntimeError("vector store unreachable"), ConnectionRefusedError()), TRANSIENT),
    # A third-party host that stays down must not hold a partition forever, whatever broke underneath.
    (FetchError("HTTP 503 fetching the audio https://cdn.example/…"), BUG),
    (_caused(FetchError("cannot fetch https://cdn.example/…"), httpx.ConnectError("refused")), BUG),
    (DeadlineExceeded("ran past its 600s deadline"), BUG),
    (FileNotFoundError("model.bin"), BUG),
    (PermissionError("cache dir"), BUG),
    (ValueError("a bug"), BUG),
    (KeyError("segments"), BUG),
]


@pytest.mark.parametrize(("exc", "kind"), TABLE, ids=[f"{type(e).__name__}-{k.value}-{i}" for i, (e, k) in enumerate(TABLE)])
def test_every_error_is_sorted_into_one_kind(exc, kind):
    assert classify(exc) is kind
