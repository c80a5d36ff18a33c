"""The real sentence-transformers embedder (bundled MiniLM), and interests ranking a real brief."""

from __future__ import annotations

import json

import numpy as np
import pytest
import typer
from podbrief_notify.cli import brief
from podbrief_notify.embedder import HashEmbedder, SentenceEmbedder
from podbrief_notify.settings import Settings
from typer.testing import CliRunner

from .helpers import feed_url, insight, signup

SLEEP = "People who sleep less than six hours make thirty percent more errors at work the next day."
POWER = "Data centers could use eight percent of all electricity in the United States by 2030."


@pytest.fixture(scope="session")
def minilm() -> SentenceEmbedder:
    return SentenceEmbedder(Settings(_env_file=None).embed_model)


@pytest.mark.slow
def test_minilm_gives_unit_vectors_and_puts_related_texts_closer(minilm):
    vectors = minilm.embed(["getting enough sleep", SLEEP, POWER, "getting enough sleep"])
    assert vectors.shape == (4, 384) and minilm.dim == 384
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2] + 0.2
    assert np.array_equal(vectors[0], vectors[3])


def test_the_fake_embedder_is_deterministic_and_word_based():
    fake = HashEmbedder()
    a, b, c = fake.embed(["sleep matters", "sleep matters a lot", "electricity prices"])
    assert np.array_equal(fake.embed(["sleep matters"])[0], a)
    assert a @ b > a @ c


@pytest.mark.slow
async def test_interests_pull_matching_insights_to_the_top_of_a_brief(notify, receiver, minilm):
    notify.context.embedder = minilm
    auth = await signup(notify.client, "a@example.com")
    await notify.client.post("/v1/subscriptions", headers=auth, json={"feed_url": feed_url(1)})
    await notify.client.patch("/v1/me", headers=auth, json={"interests": ["sleep and health"], "brief_size": 1})
    [sleep_vec, power_vec] = minilm.embed([SLEEP, POWER])
    await notify.consume(
        insight(SLEEP, episode=1, score=0.5).model_copy(update={"embedding": sleep_vec.tolist()}),
        insight(POWER, episode=2, score=0.9).model_copy(update={"embedding": power_vec.tolist()}),
    )
    brief = (await notify.client.post("/v1/briefs", headers=auth)).json()
    assert [i["text"] for i in brief["items"]] == [SLEEP]


async def test_the_cli_prints_the_brief_that_would_be_sent_now(notify, store_url, monkeypatch):
    auth = await signup(notify.client, "cli@example.com")
    await notify.client.post("/v1/subscriptions", headers=auth, json={"feed_url": feed_url(1)})
    await notify.consume(
        insight("An idea for the command line.", published=notify.clock.now(), speaker="Ada Lovelace", chapter="Tools")
    )
    monkeypatch.setenv("PODBRIEF_DATABASE_URL", store_url)
    app = typer.Typer()
    app.command()(brief)
    text = CliRunner().invoke(app, ["--user", "cli@example.com"])
    assert text.exit_code == 0, text.output
    assert "1. An idea for the command line." in text.output and "#t=61" in text.output
    assert "Ada Lovelace · chapter “Tools”" in text.output
    as_json = CliRunner().invoke(app, ["--user", "cli@example.com", "--json"])
    assert as_json.exit_code == 0
    assert json.loads(as_json.output)["items"][0]["text"] == "An idea for the command line."
    missing = CliRunner().invoke(app, ["--user", "nobody@example.com"])
    assert missing.exit_code == 1
