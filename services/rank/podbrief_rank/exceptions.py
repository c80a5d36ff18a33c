"""Rank's own errors."""


class RankError(Exception):
    """Base of rank's errors."""


class VectorStoreError(RankError):
    """The vector store cannot be opened: locked by another process, or built for another embedding size."""
