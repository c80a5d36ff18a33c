"""Optional rewriting of a chosen passage into a tidy takeaway by an OpenAI-compatible chat-completions server.

Off unless configured. Any failure (network, status, shape, an answer that is empty or
far longer than the passage) keeps the original text: the rewriter can only improve wording.
"""

from __future__ import annotations

import logging
from typing import Protocol

import httpx

log = logging.getLogger(__name__)

SYSTEM_PROMPT = (
    "You edit podcast transcript excerpts into one self-contained takeaway of one to three sentences "
    "(20 to 80 words). Keep every fact, number and name; add nothing; remove filler and banter. "
    "Answer with the takeaway only."
)


class Rewriter(Protocol):
    """Rewords a passage; returns the passage itself when it cannot do better."""

    def rewrite(self, text: str) -> str:
        """The reworded `text`, or `text`."""
        ...


class ChatCompletionsRewriter:
    """Calls `POST {base_url}/chat/completions` with `model`; falls back to the input on any failure."""

    def __init__(
        self, base_url: str, model: str, *, api_key: str | None = None, timeout: float = 20.0, client: httpx.Client | None = None
    ) -> None:
        base = base_url.rstrip("/")
        self.url = base if base.endswith("/chat/completions") else f"{base}/chat/completions"
        self.model = model
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = client or httpx.Client(timeout=timeout, headers=headers)

    def rewrite(self, text: str) -> str:
        """The model's takeaway for `text`, or `text` when the call or its answer is unusable."""
        body = {
            "model": self.model,
            "temperature": 0,
            "messages": [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": text}],
        }
        try:
            response = self._client.post(self.url, json=body)
            response.raise_for_status()
            answer = response.json()["choices"][0]["message"]["content"]
        except (httpx.HTTPError, ValueError, KeyError, IndexError, TypeError) as exc:
            log.warning("rewriter failed; keeping the original text", extra={"error": repr(exc)[:300]})
            return text
        return answer_or_original(answer, text)

    def close(self) -> None:
        """Close the HTTP client."""
        self._client.close()


def answer_or_original(answer: object, original: str) -> str:
    """`answer` stripped when it is a plausible takeaway of `original`; otherwise `original`."""
    if not isinstance(answer, str):
        return original
    cleaned = answer.strip().strip('"').strip()
    n_words, n_original = len(cleaned.split()), len(original.split())
    if n_words < 5 or n_words > max(100, 2 * n_original):
        log.warning("rewriter answer rejected; keeping the original text", extra={"words": n_words})
        return original
    return cleaned
