"""KeyBERT-style keywords."""

from __future__ import annotations

import numpy as np
import pytest
from podbrief_rank.keywords import candidates, keywords_for


def test_candidates_are_short_phrases_that_do_not_start_or_end_with_stopwords():
    found = candidates("Data centers could use eight percent of the electricity in the United States.")
    assert "data centers" in found and "united states" in found and "electricity" in found
    assert not any(c.split()[0] in {"the", "of", "could"} or c.split()[-1] in {"the", "of", "in"} for c in found)
    assert all(len(c.split()) <= 3 for c in found)


def test_candidates_do_not_cross_punctuation():
    assert "weights code" not in candidates("Keep the weights. Code leaks anyway.")


def test_keywords_are_embedded_in_one_call_for_all_insights(fake_embedder):
    texts = ["Open weight models run on one graphics card.", "Sleep less than six hours and you make more errors."]
    vectors = fake_embedder.encode(texts)
    fake_embedder.calls.clear()
    result = keywords_for(texts, vectors, fake_embedder, top=3)
    assert fake_embedder.calls and len(fake_embedder.calls) == 1
    assert [len(k) for k in result] == [3, 3]
    assert all(len(set(k)) == len(k) for k in result)


def test_no_candidates_means_no_keywords(fake_embedder):
    assert keywords_for(["Um, the, of."], np.ones((1, 384), dtype=np.float32), fake_embedder) == [[]]


@pytest.mark.slow
def test_real_model_keywords_name_the_topic(minilm):
    text = (
        "Most open source projects depend on fewer than five active maintainers, so a single person burning out "
        "can stall software that thousands of companies rely on every day."
    )
    (keywords,) = keywords_for([text], minilm.encode([text]), minilm, top=4)
    assert any("open source" in k or "maintainers" in k for k in keywords), keywords
