"""Each service declares what it consumes and publishes in its `topics` module (its AsyncAPI document is made from
it): its routes are exactly CONSUMES, and the events its code builds are exactly PUBLISHES."""

from __future__ import annotations

import ast
import importlib
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

import podbrief_contracts
import pytest
from podbrief_contracts import Event, FeedSubscribed, FeedUnsubscribed
from podbrief_ingest.service import Handlers as IngestHandlers
from podbrief_notify.service import Handlers as NotifyHandlers
from podbrief_rank.service import RankService
from podbrief_runtime.kafka import Route, route_map
from podbrief_transcribe.service import TranscribeService

# Each service's routes, from a handler object built without its store, model or clients (only `routes()` is called).
ROUTES: dict[str, Callable[[], dict[str, Route]]] = {
    "ingest": lambda: IngestHandlers(store=None, wake=lambda: None).routes(),
    "transcribe": lambda: TranscribeService(runtime=None, store=None, transcriber=None).routes(900.0),
    "rank": lambda: RankService(store=SimpleNamespace(engine=None), ranker=None, embedding_model="m").routes(),
    "notify": lambda: NotifyHandlers(store=None, clock=None).routes(),
}


def events_built(package: str) -> dict[str, list[str]]:
    """The contract events whose constructor the package's code calls, each with where (file:line)."""
    root = Path(importlib.import_module(package).__file__).parent
    found: dict[str, list[str]] = {}
    for path in sorted(root.rglob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        names: dict[str, str] = {}  # local name -> contract name, for `from podbrief_contracts import X as Y`
        modules = {"podbrief_contracts"}  # local names of the contracts module itself
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("podbrief_contracts"):
                names.update({alias.asname or alias.name: alias.name for alias in node.names})
            elif isinstance(node, ast.Import):
                modules.update(a.asname or a.name for a in node.names if a.name.startswith("podbrief_contracts"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            if isinstance(func, ast.Name) and func.id in names:
                name = names[func.id]
            elif isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id in modules:
                name = func.attr
            else:
                continue
            cls = getattr(podbrief_contracts, name, None)
            if isinstance(cls, type) and issubclass(cls, Event):
                found.setdefault(name, []).append(f"{path.relative_to(root)}:{node.lineno}")
    return found


@pytest.mark.parametrize("service", sorted(ROUTES))
def test_a_service_routes_exactly_what_it_declares_it_consumes(service):
    topics = importlib.import_module(f"podbrief_{service}.topics")
    routes = ROUTES[service]()
    assert {topic: route.model for topic, route in routes.items()} == topics.CONSUMES


@pytest.mark.parametrize("service", sorted(ROUTES))
def test_the_events_a_service_builds_are_exactly_the_ones_it_declares_it_publishes(service):
    # Every event reaches Store.emit (the outbox) through its constructor somewhere in the package.
    topics = importlib.import_module(f"podbrief_{service}.topics")
    built = events_built(f"podbrief_{service}")
    assert set(built) == {event.__name__ for event in topics.PUBLISHES}, built


def test_routes_that_differ_from_the_declaration_are_refused():
    async def handle(event: Event) -> None:
        """Does nothing."""

    declared = {FeedSubscribed.topic: FeedSubscribed, FeedUnsubscribed.topic: FeedUnsubscribed}
    routes = route_map(declared, Route(FeedSubscribed, handle), Route(FeedUnsubscribed, handle))
    assert list(routes) == [FeedSubscribed.topic, FeedUnsubscribed.topic]
    with pytest.raises(ValueError, match="feeds.unsubscribed"):
        route_map(declared, Route(FeedSubscribed, handle))
    with pytest.raises(ValueError, match="not what the service declares"):
        route_map({FeedSubscribed.topic: FeedSubscribed}, Route(FeedSubscribed, handle), Route(FeedSubscribed, handle))
