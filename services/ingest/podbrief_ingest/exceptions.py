"""Why a feed could not be read: each becomes the feed's error status, with its message."""


class FeedError(Exception):
    """A feed document we cannot use; the message is shown to the feed's subscribers."""


class HostileFeedError(FeedError):
    """Refused for safety before any parser ran: entity declarations (entity expansion, external entities)."""


class NotAFeedError(FeedError):
    """The document is not RSS or Atom (an HTML page, JSON, an image...)."""


class MalformedFeedError(FeedError):
    """The document is not well-formed XML (truncated, broken markup)."""


class FeedEncodingError(FeedError):
    """The bytes do not decode in the feed's declared (or default) character encoding."""
