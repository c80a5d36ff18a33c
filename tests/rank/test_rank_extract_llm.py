"""The extractor with the LLM stage in it (a scripted model, the fake embedder): what it judges, keeps and publishes."""

from __future__ import annotations

from llm_helpers import ScriptedChatModel
from podbrief_rank.cleanup import clean_text
from podbrief_rank.extract import ExtractionConfig, Extractor
from podbrief_rank.guards import GuardConfig
from podbrief_rank.writer import InsightWriter
from rank_helpers import script_segments, takeaways

DURATION = takeaways()["episodes"]["ep2"]["duration_s"]
# The fake embedder's similarities are not MiniLM's: the similarity guard is off here and tested with MiniLM elsewhere.
NO_SIMILARITY = GuardConfig(min_similarity=-1.0)


def _extractor(fake_embedder, reply, **config) -> tuple[Extractor, ScriptedChatModel]:
    model = ScriptedChatModel(reply)
    writer = InsightWriter(model, fake_embedder.encode, NO_SIMILARITY)
    return Extractor(fake_embedder, writer, ExtractionConfig(**config)), model


def test_the_stage_judges_only_a_few_more_candidates_than_the_episode_yields(fake_embedder):
    plain = Extractor(fake_embedder).extract(script_segments("ep2"), DURATION)
    extractor, model = _extractor(fake_embedder, lambda _: "SKIP", llm_candidates=5, llm_spare=1)
    extractor.extract(script_segments("ep2"), DURATION)
    assert len(plain) <= len(model.prompts) <= min(5, len(plain) + 1)


def test_a_skipped_passage_is_demoted_below_the_kept_ones_not_deleted(fake_embedder):
    plain = Extractor(fake_embedder).extract(script_segments("ep2"), DURATION)
    best = clean_text(plain[0].passage)
    # The model skips the extractor's best passage and keeps every other one as it is.
    extractor, _ = _extractor(fake_embedder, lambda msg: "SKIP" if _echo(msg).startswith(best[:60]) else _echo(msg), llm_spare=0)
    out = extractor.extract(script_segments("ep2"), DURATION)
    texts = [x.passage for x in out]
    assert plain[0].passage in texts and texts[-1] == plain[0].passage
    demoted = out[-1]
    assert abs(demoted.score - plain[0].score * 0.5) < 1e-3


def test_an_accepted_rewrite_is_published_and_the_source_quote_and_times_stay(fake_embedder):
    plain = Extractor(fake_embedder).extract(script_segments("ep2"), DURATION)
    extractor, _ = _extractor(fake_embedder, _echo_shortened)
    out = extractor.extract(script_segments("ep2"), DURATION)
    assert {x.passage for x in out} == {x.passage for x in plain}
    for x in out:
        source = next(p for p in plain if p.passage == x.passage)
        assert (x.start, x.end) == (source.start, source.end)
        assert x.text == _echo_shortened(clean_text(x.passage))
        assert x.rewritten == (x.text != clean_text(x.passage))  # an answer repeating the extract is no rewrite
    assert any(x.rewritten for x in out)


def _echo(message: str) -> str:
    """The passage as the prompt shows it: a 'rewrite' that changes nothing."""
    return message.split("PASSAGE:", 1)[-1].split("<<<", 1)[-1].split(">>>", 1)[0].strip()


def _echo_shortened(message: str) -> str:
    """A faithful rewrite: the passage's first sentence only."""
    passage = _echo(message) if "PASSAGE:" in message else message
    return passage.split(". ")[0].rstrip(".") + "."
