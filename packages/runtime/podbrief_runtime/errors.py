"""Errors the consumer loop treats specially, and the one rule that sorts a handler's failure into a kind."""

from __future__ import annotations

import enum

import httpx
from aiokafka.errors import KafkaError
from sqlalchemy import exc as sa

from podbrief_runtime.safe_http import FetchError


class PermanentError(Exception):
    """The message can never succeed (bad input); dead-letter it at once, without retries."""


class TransientError(Exception):
    """Something we depend on is briefly unavailable; retry until it is back, however long that takes."""


class DeadlineExceeded(Exception):
    """The handler ran past its route's deadline and was cancelled; counts as a failed attempt."""


class Failure(enum.Enum):
    """What the consumer loop does with a handler's error."""

    PERMANENT = "permanent"  # dead-letter at once
    TRANSIENT = "transient"  # retry with capped backoff, without limit, the partition paused
    BUG = "bug"  # retry `max_attempts` times, then dead-letter


# Files that are not there or not ours do not come back by waiting.
_LOCAL_OS_ERRORS = (FileNotFoundError, IsADirectoryError, NotADirectoryError, PermissionError)
_RETRY_LATER_STATUS = {408, 425, 429}
# Our own infrastructure (broker, database, vector store, model server) not answering for a while.
_OUTAGES = (TransientError, KafkaError, TimeoutError, sa.OperationalError, sa.DisconnectionError, sa.TimeoutError)


def classify(exc: BaseException) -> Failure:
    """Sort `exc`: a permanent error, a transient outage of our own infrastructure, or anything else (a bug)."""
    if isinstance(exc, PermanentError):
        return Failure.PERMANENT
    if isinstance(exc, DeadlineExceeded | FetchError):
        # A hung handler is not an outage. A third-party host (feed, audio, webhook) that stays down must not
        # hold a partition forever: SafeClient wraps every transport error of user-supplied URLs in FetchError.
        return Failure.BUG
    if _transient(exc):
        return Failure.TRANSIENT
    # A client library's wrapper: `raise X from e`, or qdrant-client's ResponseHandlingException(e) keeping it in `.source`.
    cause = exc.__cause__ or getattr(exc, "source", None)
    if isinstance(cause, BaseException) and cause is not exc and classify(cause) is Failure.TRANSIENT:
        return Failure.TRANSIENT
    return Failure.BUG


def _transient(exc: BaseException) -> bool:
    if isinstance(exc, _OUTAGES):
        return True
    if isinstance(exc, sa.DBAPIError):
        return exc.connection_invalidated
    if isinstance(exc, OSError):
        return not isinstance(exc, _LOCAL_OS_ERRORS)
    if isinstance(exc, httpx.TransportError):
        return True
    if isinstance(exc, httpx.HTTPStatusError):
        return _retry_later(exc.response.status_code)
    # HTTP clients of services we run (Qdrant's `UnexpectedResponse`, OpenAI-style SDKs) carry the status here.
    status = getattr(exc, "status_code", None)
    return isinstance(status, int) and _retry_later(status)


def _retry_later(status: int) -> bool:
    return status >= 500 or status in _RETRY_LATER_STATUS
