"""Errors the consumer loop treats specially."""


class PermanentError(Exception):
    """The message can never succeed (bad input); dead-letter it at once, without retries."""
