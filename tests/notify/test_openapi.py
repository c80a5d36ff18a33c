"""The committed OpenAPI document is the app's, and every operation documents its responses."""

from __future__ import annotations

import json

from podbrief_notify.api.openapi import document, render

from .helpers import ROOT_DIR

COMMITTED = ROOT_DIR / "services" / "notify" / "openapi.json"
# Sign-up and the link in the confirmation email: reached without an API key.
# Opened without an API key: sign-up, and links that carry their own token.
UNAUTHENTICATED = {"/v1/users", "/v1/users/confirm", "/v1/me/briefs.atom"}


def test_the_committed_openapi_document_is_up_to_date():
    assert COMMITTED.read_text() == render(), "regenerate: python -m podbrief_notify.api.openapi > services/notify/openapi.json"


def test_every_operation_documents_a_success_and_its_errors():
    doc = document()
    for path, operations in doc["paths"].items():
        for method, operation in operations.items():
            statuses = set(operation["responses"])
            assert any(s.startswith("2") for s in statuses), (method, path)
            if path.startswith("/v1/") and path not in UNAUTHENTICATED:
                assert {"401", "429"} <= statuses, (method, path)
            for status in statuses - {"200", "201", "202", "204"}:
                schema = operation["responses"][status]["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/ErrorBody"}, (method, path, status)
    assert "HTTPValidationError" not in json.dumps(doc)
