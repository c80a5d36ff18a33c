"""The real-episode dev set (tests/data/insight_dev): every label still matches its transcript as transcribe parses it."""

from __future__ import annotations

import pytest

from podbrief import devset

pytestmark = pytest.mark.skipif(not devset.real_world_dir().exists(), reason="../shared/real-world is absent")


@pytest.mark.parametrize("episode", [ep.id for ep in devset.episodes()])
def test_every_label_quote_is_found_verbatim_in_its_episode(episode):
    ep = devset.episode(episode)
    lenient = devset.labelled(ep, lenient=True)  # raises for a quote the parser no longer yields
    assert len(lenient.good) == sum(1 for r in devset.labels(good_only=False) if r["episode"] == episode)


def test_both_splits_have_good_passages_and_no_episode_is_in_both():
    splits = {ep.split for ep in devset.episodes()}
    assert splits == {"dev", "heldout"}
    for split in splits:
        ids = {ep.id for ep in devset.episodes() if ep.split == split}
        assert sum(1 for r in devset.labels() if r["episode"] in ids) >= 20


def test_a_passage_inside_a_good_span_counts_and_one_outside_does_not():
    ep = devset.episode("changelog-news-36")
    lab = devset.labelled(ep)
    quote = next(str(r["quote"]) for r in devset.labels() if r["episode"] == ep.id)
    assert lab.is_good(quote)
    assert not lab.is_good("a passage of words that this episode never says at all")
