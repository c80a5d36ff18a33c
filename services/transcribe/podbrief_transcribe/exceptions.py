"""The transcribe service's errors."""

from __future__ import annotations

from podbrief_runtime.errors import PermanentError


class BadAudioError(PermanentError):
    """The enclosure is not usable audio (an HTML page, an image, empty, truncated); retrying cannot help."""


class AudioUnavailableError(PermanentError):
    """The enclosure cannot be fetched and never will be (refused URL, gone, too large)."""


class TranscriptError(Exception):
    """A publisher transcript could not be fetched or parsed; speech recognition is used instead."""


class ChaptersError(Exception):
    """An episode's chapters file could not be fetched or read; the episode goes on without chapters."""
