"""The LLM stage on the sample podcast with the real default model: it rewrites, but loses no planted takeaway."""

from __future__ import annotations

import numpy as np
import pytest
from llm_helpers import default_model_path
from podbrief_rank.cleanup import clean_text
from podbrief_rank.extract import Extractor
from podbrief_rank.resources import build_writer
from podbrief_rank.settings import Settings
from rank_helpers import coverage, script_segments, takeaways

pytestmark = pytest.mark.slow

EPISODES = ["ep1", "ep2", "ep3", "ep4"]


@pytest.fixture(scope="module")
def with_llm(minilm, tmp_path_factory):
    if not default_model_path().exists():
        pytest.fail(f"the default GGUF is missing at {default_model_path()}: `make llm-model` assembles it")
    settings = Settings(llm_mode="embedded", data_dir=tmp_path_factory.mktemp("rank"))
    extractor = Extractor(minilm, build_writer(settings, minilm))
    return {ep: extractor.extract(script_segments(ep), takeaways()["episodes"][ep]["duration_s"], show="The Signal Hour")
            for ep in EPISODES}


@pytest.mark.parametrize("episode", EPISODES)
def test_every_planted_takeaway_survives_the_llm_stage(with_llm, minilm, episode):
    insights = with_llm[episode]
    for takeaway in takeaways()["episodes"][episode]["takeaways"]:
        # Its passage is still chosen and kept...
        assert max(coverage(takeaway, x.passage) for x in insights) >= 0.9, (takeaway, [x.passage for x in insights])
        # ...and the text a reader gets still says it, rewritten or not.
        vectors = minilm.encode([takeaway] + [x.text for x in insights])
        assert float(np.max(vectors[1:] @ vectors[0])) >= 0.7, (takeaway, [x.text for x in insights])


def test_the_llm_stage_rewrites_some_insights_and_keeps_source_quotes_and_times(with_llm):
    insights = [x for ep in EPISODES for x in with_llm[ep]]
    assert any(x.rewritten for x in insights)
    for x in insights:
        assert x.passage and x.end > x.start
        if x.rewritten:
            assert x.text != clean_text(x.passage)
