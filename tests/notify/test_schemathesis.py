"""Property-based requests generated from the app's own OpenAPI document: no server errors, responses as documented."""

from __future__ import annotations

from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from podbrief_notify.api.app import create_app
from podbrief_notify.context import build_context
from podbrief_notify.insights import store_insight
from podbrief_notify.migrate import upgrade
from podbrief_notify.storage import open_store
from podbrief_notify.subscriptions import subscribe
from podbrief_notify.users import create_user
from schemathesis.checks import positive_data_acceptance

from .conftest import make_settings
from .helpers import EMBEDDER, FakeClock, feed_url, insight

AUTH: dict[str, str] = {}


@pytest.fixture(scope="module")
def api_schema(tmp_path_factory: pytest.TempPathFactory):
    tmp = tmp_path_factory.mktemp("schemathesis")
    url = f"sqlite:///{tmp / 'notify.sqlite3'}"
    upgrade(url)
    store = open_store(url)
    clock = FakeClock()
    # A user with a feed and insights, so the generated requests meet real data too.
    with store.transaction() as session:
        user, key = create_user(session, "fuzz@example.com", "UTC", 7, clock.now())
        subscribe(session, user.id, feed_url(1), clock.now(), 100)
        for n in range(3):
            store_insight(session, insight(f"Fuzzable idea {n}.", episode=n), clock.now())
    AUTH["Authorization"] = f"Bearer {key}"
    context = build_context(make_settings(Path(tmp), allow_private_urls=False), store, EMBEDDER, clock=clock)
    yield schemathesis.openapi.from_asgi("/openapi.json", create_app(context))
    store.dispose()


def test_generated_requests_get_no_server_errors_and_documented_responses(api_schema):
    # Driven by hand rather than through schemathesis' pytest plugin, which does not run under pytest 9.
    failures = []
    labels = []
    for result in api_schema.get_all_operations():
        operation = result.ok()
        labels.append(operation.label)

        @given(case=operation.as_strategy())
        @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def check(case) -> None:
            # Every check but "schema-valid data is accepted": IANA zones and SSRF-safe URLs are
            # rules a JSON schema cannot state, so such requests rightly get 422.
            case.call_and_validate(headers=AUTH, excluded_checks=[positive_data_acceptance])

        try:
            check()
        except Exception as exc:  # collect every operation's failure, not just the first
            failures.append(f"{operation.label}: {exc}")
    assert len(labels) == 41
    assert not failures, "\n\n".join(failures)
