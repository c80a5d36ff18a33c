"""Chat models behind one small interface: llama.cpp in-process (the offline default) or an OpenAI-compatible server.

Both take a batch of prompts and answer in order; neither raises for a model failure: a failed
prompt comes back as an `Answer` with no text and the failure's kind ("timeout" or "error").
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import httpx

log = logging.getLogger(__name__)

Message = dict[str, str]
Prompt = Sequence[Message]


@dataclass(frozen=True)
class Answer:
    """One prompt's reply: `text`, or None with `failure` ("timeout" or "error")."""

    text: str | None
    failure: str | None = None
    prompt_tokens: int = 0  # evaluated for this prompt (cached prefix tokens excluded)
    cached_tokens: int = 0
    generated_tokens: int = 0

    @classmethod
    def failed(cls, failure: str) -> Answer:
        return cls(None, failure)


class ChatModel(Protocol):
    """Answers chat prompts (lists of role/content messages) in batches, greedily."""

    name: str

    def complete(self, prompts: Sequence[Prompt], max_tokens: int) -> list[Answer]:
        """One answer per prompt, in order; failures are answers, never exceptions."""
        ...


def _stops() -> list[str]:
    # A takeaway is one paragraph: a blank line means the model moved on to commentary.
    return ["\n\n"]


class EmbeddedChatModel:
    """llama.cpp in this process (`xllamacpp`), loaded on first use and kept for the process's life.

    `parallel` slots decode several prompts in one batch. Prompts that differ only in their last
    message share a prefix (the system prompt and worked examples): it is evaluated once, saved, and
    restored into every slot, so each prompt costs only its own last message. With `cache_dir` the
    saved prefix outlives the process. A model that cannot be loaded is reported once, and every
    later call fails fast.
    """

    def __init__(
        self,
        model_path: Path | Callable[[], Path],
        *,
        threads: int = 2,
        parallel: int = 4,
        context_per_slot: int = 2048,
        timeout: float = 60.0,  # seconds per prompt on the whole machine
        cache_dir: Path | None = None,
    ) -> None:
        self._model_path = model_path
        self.threads = threads
        self.parallel = parallel
        self.context_per_slot = context_per_slot
        self.timeout = timeout
        self.cache_dir = cache_dir
        self.name = "embedded"
        self._engine: _Engine | None = None
        self._broken: str | None = None
        self._lock = threading.Lock()

    def _load(self) -> _Engine | None:
        with self._lock:
            if self._engine is not None or self._broken is not None:
                return self._engine
            started = time.perf_counter()
            try:
                path = Path(self._model_path() if callable(self._model_path) else self._model_path)
                self._engine = _engine(path, self.threads, self.parallel, self.context_per_slot, self.cache_dir)
            except Exception as exc:  # any failure to load means: no LLM stage in this process
                self._broken = f"{type(exc).__name__}: {exc}"
                log.error("LLM unavailable; insights keep their extracted text", extra={"error": self._broken[:500]})
                return None
            self.name = path.stem
            log.info(
                "LLM loaded",
                extra={"model": self.name, "seconds": round(time.perf_counter() - started, 2), "parallel": self.parallel},
            )
            return self._engine

    def complete(self, prompts: Sequence[Prompt], max_tokens: int) -> list[Answer]:
        """Answers from the in-process model, `parallel` prompts decoding at once."""
        if not prompts:
            return []
        engine = self._load()
        if engine is None:
            return [Answer.failed("error") for _ in prompts]
        first = engine.warm(prompts[0], max_tokens, self.timeout * _FIRST_PROMPT_ALLOWANCE)
        answers = [first] if first is not None else []
        rest = prompts[len(answers) :]
        if rest:
            # Prompts decoding together share the CPU: each may take `timeout` per prompt in flight.
            at_once = min(self.parallel, len(rest))
            with ThreadPoolExecutor(max_workers=at_once, thread_name_prefix="llm") as pool:
                answers.extend(pool.map(lambda p: engine.ask(p, max_tokens, self.timeout * at_once), rest))
        return answers


# The first prompt of a process may also evaluate the shared prefix (about 1,000 tokens): it gets longer.
_FIRST_PROMPT_ALLOWANCE = 3.0


class _Engine:
    """One loaded llama.cpp server and its slots."""

    def __init__(self, path: Path, threads: int, parallel: int, context_per_slot: int, cache_dir: Path | None) -> None:
        import xllamacpp as xlc

        self.path = path
        self.parallel = parallel
        self.context_per_slot = context_per_slot
        if cache_dir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="podbrief-llm-")
            cache_dir = Path(self._tmp.name)
        cache_dir.mkdir(parents=True, exist_ok=True)
        self.cache_dir = cache_dir
        # The binding always listens on a loopback port (slot save/restore go through it); a random key
        # keeps other local processes off it.
        self.api_key = secrets.token_hex(16)
        params = xlc.CommonParams()
        params.model.path = str(path)
        params.n_parallel = parallel
        # Per-slot KV buffers: a unified buffer would make every slot attend over all slots' cells.
        params.kv_unified = False
        params.n_ctx = context_per_slot * parallel
        params.cpuparams.n_threads = threads
        params.cpuparams_batch.n_threads = threads
        params.cache_prompt = True
        params.cache_ram_mib = 0  # the shared prefix is restored into slots explicitly (see warm)
        params.slot_save_path = f"{cache_dir}/"
        params.api_keys = [self.api_key]
        params.n_threads_http = 2
        params.warmup = False
        params.verbosity = 0
        self.server = xlc.Server(params)
        self._warm_lock = threading.Lock()
        self._warm = False

    def warm(self, prompt: Prompt, max_tokens: int, timeout: float) -> Answer | None:
        """Make every slot hold `prompt`'s prefix; returns `prompt`'s answer when that took evaluating it."""
        with self._warm_lock:
            if self._warm:
                return None
            self._warm = True
            name = f"prefix-{self._prefix_key(prompt)}.bin"
            if (self.cache_dir / name).is_file() and self._restore(name, range(self.parallel)):
                log.info("LLM prompt prefix restored", extra={"slots": self.parallel})
                return None
            answer = self.ask(prompt, max_tokens, timeout, slot=0)
            if answer.failure is None and self._save(name):
                self._restore(name, range(1, self.parallel))
            return answer

    def _prefix_key(self, prompt: Prompt) -> str:
        stat = self.path.stat()
        identity = [str(self.path.resolve()), stat.st_size, stat.st_mtime_ns, self.context_per_slot, list(prompt[:-1])]
        return hashlib.sha256(json.dumps(identity).encode()).hexdigest()[:16]

    def _slots(self, slot: int, action: str, name: str) -> bool:
        try:
            response = httpx.post(
                f"{self.server.listening_address}/slots/{slot}?action={action}",
                json={"filename": name},
                headers={"Authorization": f"Bearer {self.api_key}"},
                timeout=60,
            )
            response.raise_for_status()
        except httpx.HTTPError as exc:
            log.warning("LLM slot cache unusable", extra={"action": action, "slot": slot, "error": repr(exc)[:300]})
            return False
        return True

    def _save(self, name: str) -> bool:
        for stale in self.cache_dir.glob("prefix-*.bin"):
            stale.unlink(missing_ok=True)
        return self._slots(0, "save", name)

    def _restore(self, name: str, slots: range) -> bool:
        return all([self._slots(slot, "restore", name) for slot in slots])

    def ask(self, prompt: Prompt, max_tokens: int, timeout: float, slot: int | None = None) -> Answer:
        """One greedy answer, streamed so that it can be stopped at `timeout` seconds."""
        deadline = time.monotonic() + timeout
        parts: list[str] = []
        final: dict[str, Any] = {}
        timed_out = False

        def on_chunk(chunk: dict[str, Any]) -> bool:
            nonlocal timed_out
            for choice in chunk.get("choices") or []:
                parts.append((choice.get("delta") or {}).get("content") or "")
            if "timings" in chunk:
                final.update(chunk["timings"])
            if time.monotonic() > deadline:
                timed_out = True
                return True  # stops decoding this prompt; its slot is freed
            return False

        request: dict[str, Any] = {
            "messages": list(prompt),
            "max_tokens": max_tokens,
            "temperature": 0,
            "cache_prompt": True,
            "stop": _stops(),
            "stream": True,
        }
        if slot is not None:
            request["id_slot"] = slot
        try:
            self.server.handle_chat_completions(request, on_chunk)
        except Exception as exc:  # the binding raises ValueError/RuntimeError for bad requests or engine errors
            log.warning("LLM request failed", extra={"error": repr(exc)[:300]})
            return Answer.failed("error")
        if timed_out:
            return Answer.failed("timeout")
        return Answer(
            "".join(parts),
            prompt_tokens=int(final.get("prompt_n", 0)),
            cached_tokens=int(final.get("cache_n", 0)),
            generated_tokens=int(final.get("predicted_n", 0)),
        )


_ENGINES: dict[tuple[str, int, int, int, str], _Engine] = {}
_ENGINES_LOCK = threading.Lock()


def _engine(path: Path, threads: int, parallel: int, context_per_slot: int, cache_dir: Path | None) -> _Engine:
    """One engine per (model, threads, slots, context, cache) in this process."""
    if not path.is_file():
        raise FileNotFoundError(f"GGUF model file not found: {path}")
    key = (str(path.resolve()), threads, parallel, context_per_slot, str(cache_dir))
    with _ENGINES_LOCK:
        if key not in _ENGINES:
            _ENGINES[key] = _Engine(path, threads, parallel, context_per_slot, cache_dir)
        return _ENGINES[key]


class EndpointChatModel:
    """An OpenAI-compatible `POST {base_url}/chat/completions` (Ollama, llama.cpp server, vLLM)."""

    def __init__(
        self,
        base_url: str,
        model: str,
        *,
        api_key: str | None = None,
        timeout: float = 60.0,
        concurrency: int = 4,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        base = base_url.rstrip("/")
        self.url = base if base.endswith("/chat/completions") else f"{base}/chat/completions"
        self.model = model
        self.name = model
        self.concurrency = concurrency
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.Client(timeout=timeout, headers=headers, transport=transport)

    def complete(self, prompts: Sequence[Prompt], max_tokens: int) -> list[Answer]:
        """Answers from the server, `concurrency` requests in flight at once."""
        if not prompts:
            return []
        with ThreadPoolExecutor(max_workers=min(self.concurrency, len(prompts)), thread_name_prefix="llm") as pool:
            return list(pool.map(lambda p: self._one(p, max_tokens), prompts))

    def _one(self, prompt: Prompt, max_tokens: int) -> Answer:
        body = {
            "model": self.model,
            "messages": list(prompt),
            "max_tokens": max_tokens,
            "temperature": 0,
            "stop": _stops(),
        }
        try:
            response = self._client.post(self.url, json=body)
            response.raise_for_status()
            data = response.json()
            text = data["choices"][0]["message"]["content"]
        except httpx.TimeoutException:
            log.warning("LLM endpoint timed out", extra={"url": self.url})
            return Answer.failed("timeout")
        except (httpx.HTTPError, ValueError, KeyError, IndexError, TypeError) as exc:
            log.warning("LLM endpoint failed", extra={"url": self.url, "error": repr(exc)[:300]})
            return Answer.failed("error")
        if not isinstance(text, str):
            return Answer.failed("error")
        usage = data.get("usage") or {}
        cached = int((usage.get("prompt_tokens_details") or {}).get("cached_tokens") or 0)
        return Answer(
            text,
            prompt_tokens=int(usage.get("prompt_tokens") or 0) - cached,
            cached_tokens=cached,
            generated_tokens=int(usage.get("completion_tokens") or 0),
        )

    def close(self) -> None:
        """Close the HTTP client."""
        self._client.close()
