"""The embedded stack: a local broker and the four services, each its own OS process (notify as two: its worker and
its REST API)."""

from __future__ import annotations

import logging
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from podbrief_runtime.broker import LocalBroker, free_port

log = logging.getLogger(__name__)

SERVICES = ("ingest", "transcribe", "rank", "notify", "notify-api")
# The module each process runs, where it is not `podbrief_<name>`.
MODULES = {"notify-api": "podbrief_notify.api"}
API = "notify-api"


class ServiceDied(RuntimeError):
    """A service process exited while the stack was meant to be running."""


@dataclass
class Stack:
    """Start the broker (unless `bootstrap` names one) and the services; stop them all on exit.

    Nothing is restarted silently: a service that dies is reported by `check()`.
    """

    data_dir: Path
    api_port: int = 8000
    bootstrap: str | None = None
    env: dict[str, str] = field(default_factory=dict)
    services: tuple[str, ...] = SERVICES
    log_dir: Path | None = None
    broker: LocalBroker | None = None
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    health_ports: dict[str, int] = field(default_factory=dict)
    embed_port: int | None = None  # the notify worker's embedding endpoint, which the API asks; fixed across restarts
    embed_token: str = field(default_factory=lambda: secrets.token_urlsafe(24))  # its shared secret, one per stack

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    def start(self) -> Stack:
        """Start everything and wait until every process is ready."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.log_dir = self.log_dir or self.data_dir / "logs"
        self.log_dir.mkdir(parents=True, exist_ok=True)
        if self.bootstrap is None:
            self.broker = LocalBroker(log_path=self.log_dir / "broker.log").start()
            self.bootstrap = self.broker.bootstrap
        for name in self.services:
            self.start_service(name)
        self.wait_ready()
        return self

    def ready_url(self, name: str) -> str:
        """Where process `name` answers /readyz: the API on its own port, a worker on its health port."""
        if name.split("#")[0] == API:
            return f"{self.api_url}/readyz"
        return f"http://127.0.0.1:{self.health_ports[name]}/readyz"

    def wait_ready(self, timeout: float = 180.0) -> None:
        """Block until every process answers /readyz (a worker: connected and holding partitions; the API: serving)."""
        deadline = time.monotonic() + timeout
        for name in self.processes:
            url = self.ready_url(name)
            while True:
                self.check()
                try:
                    with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - loopback
                        if response.status == 200:
                            break
                except OSError:
                    pass
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{name} not ready after {timeout:.0f}s; see {self.log_dir}/{name}.log")
                time.sleep(0.5)

    def service_env(self, name: str) -> dict[str, str]:
        """The environment of service `name`: ours, the stack's settings, a health port (notify: the embedding
        endpoint's port for the worker, its URL for the API)."""
        port = self.health_ports.setdefault(name, free_port())
        self.embed_port = self.embed_port or free_port()
        env = {
            **os.environ,
            "PODBRIEF_DATA_DIR": str(self.data_dir),
            "PODBRIEF_KAFKA_BOOTSTRAP": str(self.bootstrap),
            "PODBRIEF_API_PORT": str(self.api_port),
            "PODBRIEF_HEALTH_PORT": str(port),
            "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1",
        }
        if name == "notify":  # a replica (notify#2) serves no endpoint: the API asks one worker
            env["PODBRIEF_EMBED_PORT"] = str(self.embed_port)
            env["PODBRIEF_EMBED_TOKEN"] = self.embed_token
        elif name.split("#")[0] == API:
            env["PODBRIEF_EMBED_URL"] = f"http://127.0.0.1:{self.embed_port}"
            env["PODBRIEF_EMBED_TOKEN"] = self.embed_token
        return {**env, **self.env}

    def start_service(self, name: str) -> subprocess.Popen[bytes]:
        """Start (or restart) one service process, appending to its log file.

        `name` may carry a replica suffix (`transcribe#2`): another process of the same service.
        """
        assert self.log_dir is not None
        out = open(self.log_dir / f"{name}.log", "ab")  # noqa: SIM115 - the child keeps it
        service = name.split("#")[0]
        process = subprocess.Popen(
            [sys.executable, "-m", MODULES.get(service, f"podbrief_{service}")],
            env=self.service_env(name),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        out.close()
        self.processes[name] = process
        log.info("started %s (pid %s)", name, process.pid)
        return process

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        """Send `sig` to a service (tests use SIGKILL to crash one) and wait for it."""
        process = self.processes[name]
        process.send_signal(sig)
        process.wait(timeout=60)

    def check(self) -> None:
        """Raise ServiceDied if any service process has exited."""
        for name, process in self.processes.items():
            code = process.poll()
            if code is not None:
                raise ServiceDied(f"{name} exited with code {code}; see {self.log_dir}/{name}.log")

    def stop(self, grace: float = 20.0) -> None:
        """SIGTERM every service, wait up to `grace` seconds, kill what is left, stop the broker."""
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + grace
        for name, process in self.processes.items():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                log.warning("%s did not stop in %.0fs; killing it", name, grace)
                process.kill()
                process.wait()
        if self.broker is not None:
            self.broker.stop()

    def __enter__(self) -> Stack:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc: object) -> None:
        self.stop()
