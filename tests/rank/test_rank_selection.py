"""Centrality, passage building and scoring, and the MMR choice of insights."""

from __future__ import annotations

import numpy as np
import pytest
from podbrief_rank.centrality import lexrank
from podbrief_rank.scoring import Passage, PassageFeatures, Weights, build_passages, passage_vectors, score
from podbrief_rank.segmentation import Sentence
from podbrief_rank.selection import insight_count, select


def _sentences(*texts: str) -> list[Sentence]:
    return [Sentence(i, t, float(i), float(i) + 0.9) for i, t in enumerate(texts)]


def test_the_sentence_most_like_the_others_is_the_most_central():
    v = np.array([[1, 0, 0], [0.9, 0.1, 0], [0.8, 0.2, 0], [0, 0, 1]], dtype=np.float32)
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    ranks = lexrank(v)
    assert ranks.argmax() == 1
    assert ranks.argmin() == 3
    assert ranks.min() == 0.0 and ranks.max() == 1.0


def test_centrality_copes_with_zero_one_and_isolated_sentences():
    assert lexrank(np.zeros((0, 3), dtype=np.float32)).shape == (0,)
    assert lexrank(np.eye(1, 3, dtype=np.float32)).tolist() == [1.0]
    assert lexrank(np.eye(3, dtype=np.float32)).shape == (3,)


def test_passages_are_runs_of_up_to_three_sentences_that_never_include_an_ad():
    sentences = _sentences("Claim one is here.", "This episode is brought to you by Acme.", "Claim two.", "Claim three.")
    spans = [(p.first, p.last) for p in build_passages(sentences)]
    assert spans == [(0, 0), (2, 2), (2, 3), (3, 3)]


def test_a_passage_vector_is_the_normalised_mean_of_its_sentence_vectors():
    v = np.array([[1, 0], [0, 1], [1, 0]], dtype=np.float32)
    passages = [Passage(0, 1, "", 0, 1), Passage(2, 2, "", 2, 3)]
    out = passage_vectors(passages, v)
    assert out[0] == pytest.approx([2**-0.5, 2**-0.5])
    assert out[1] == pytest.approx([1.0, 0.0])


def _features(**overrides: float) -> PassageFeatures:
    base = dict(
        centrality=0.5,
        claim=1.0,
        specificity=0.8,
        length=1.0,
        self_contained=1.0,
        chit_chat=0.0,
        question=0.0,
        coherence=1.0,
        turns=0.0,
    )
    base.update(overrides)
    return PassageFeatures(**base)


def test_penalties_push_chit_chat_questions_and_speaker_changes_down():
    w = Weights()
    good = score(_features(), w)
    assert 0.0 < good <= 1.0
    for bad in (dict(chit_chat=1.0), dict(question=1.0), dict(turns=0.5), dict(coherence=0.0), dict(self_contained=0.3)):
        assert score(_features(**bad), w) < good, bad
    assert score(_features(chit_chat=1.0), w) < 0.5 * good


@pytest.mark.parametrize(("minutes", "count"), [(0.5, 3), (1, 3), (2, 4), (10, 8), (30, 12), (45, 15), (120, 15)])
def test_the_number_of_insights_grows_with_episode_length(minutes, count):
    assert insight_count(minutes * 60) == count


def test_mmr_skips_a_near_copy_of_a_chosen_passage_and_any_overlap():
    passages = [Passage(0, 0, "a", 0, 1), Passage(0, 1, "ab", 0, 2), Passage(2, 2, "c", 2, 3), Passage(3, 3, "d", 3, 4)]
    scores = np.array([0.9, 0.95, 0.85, 0.6], dtype=np.float32)
    v = np.array([[1, 0, 0], [1, 0, 0], [0.99, 0.14, 0], [0, 0, 1]], dtype=np.float32)
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    chosen = select(passages, scores, v, count=2, diversity=0.5)
    assert chosen == [1, 3]


def test_passages_under_the_score_floor_are_never_chosen():
    passages = [Passage(i, i, str(i), i, i + 1) for i in range(4)]
    scores = np.array([0.9, 0.2, 0.8, 0.1], dtype=np.float32)
    chosen = select(passages, scores, np.eye(4, dtype=np.float32), count=4, min_score=0.3)
    assert sorted(chosen) == [0, 2]


def test_a_passage_the_accept_check_refuses_is_passed_over_and_frees_its_sentences():
    passages = [Passage(0, 1, "ab", 0, 2), Passage(0, 0, "a", 0, 1), Passage(2, 2, "c", 2, 3)]
    scores = np.array([0.9, 0.8, 0.7], dtype=np.float32)
    asked: list[int] = []

    def accept(i: int) -> bool:
        asked.append(i)
        return i != 0

    chosen = select(passages, scores, np.eye(3, dtype=np.float32), count=2, accept=accept)
    assert chosen == [1, 2]
    assert asked == [0, 1, 2]
