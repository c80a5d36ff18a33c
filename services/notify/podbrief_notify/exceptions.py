"""Domain errors; the API maps each to an HTTP status and an error code."""

from __future__ import annotations


class NotifyError(Exception):
    """Base of the notify service's domain errors."""

    status = 400
    code = "bad_request"


class NotFound(NotifyError):
    """The thing does not exist, or belongs to another user (indistinguishable on purpose)."""

    status = 404
    code = "not_found"


class Forbidden(NotifyError):
    """The caller may not do this (yet)."""

    status = 403
    code = "forbidden"


class EmailNotConfirmed(Forbidden):
    """Allowed once the account's email address is confirmed."""

    code = "email_not_confirmed"


class Gone(NotifyError):
    """A link that worked once and has expired."""

    status = 410
    code = "gone"


class Conflict(NotifyError):
    """The thing exists already."""

    status = 409
    code = "conflict"


class InvalidInput(NotifyError):
    """The request is well-formed but its content is not acceptable."""

    status = 422
    code = "invalid"


class UnsafeURL(InvalidInput):
    """A feed or webhook URL that is not http(s) or points at a private address."""

    code = "unsafe_url"


class LimitReached(NotifyError):
    """A per-user limit (subscriptions, webhooks) would be exceeded."""

    status = 409
    code = "limit_reached"


class TooLarge(NotifyError):
    """An upload is larger than allowed."""

    status = 413
    code = "payload_too_large"
