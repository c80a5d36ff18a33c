"""Sentence segmentation of timed ASR segments."""

from __future__ import annotations

import time

import pytest
from podbrief_rank.segmentation import TimedText, split_sentences


def test_a_sentence_spread_over_segments_gets_the_first_start_and_last_end():
    segments = [TimedText(0.0, 2.0, "Most open source projects depend"), TimedText(2.0, 4.0, "on fewer than five maintainers.")]
    (sentence,) = split_sentences(segments)
    assert sentence.text == "Most open source projects depend on fewer than five maintainers."
    assert sentence.start == pytest.approx(0.0)
    assert sentence.end == pytest.approx(4.0)


def test_sentences_inside_one_segment_get_interpolated_times():
    text = "Short one here. " + "This second sentence is quite a bit longer than the first one was."
    sentences = split_sentences([TimedText(10.0, 20.0, text)])
    assert [s.text for s in sentences] == [
        "Short one here.",
        "This second sentence is quite a bit longer than the first one was.",
    ]
    assert sentences[0].start == pytest.approx(10.0)
    assert 11.0 < sentences[0].end < 13.0
    assert sentences[0].end <= sentences[1].start < 13.5
    assert sentences[1].end == pytest.approx(20.0)


def test_abbreviations_and_decimals_do_not_end_a_sentence():
    sentences = split_sentences([TimedText(0, 5, "Dr. Smith said growth was 2.5 percent in the U.S. last year. Then she left.")])
    assert len(sentences) == 2


def test_unpunctuated_asr_run_ons_are_cut_at_segment_breaks():
    segments = [TimedText(i * 3.0, i * 3.0 + 3.0, f"and then we talked about topic number {i} for a while") for i in range(12)]
    sentences = split_sentences(segments, max_words=30)
    assert len(sentences) > 1
    assert all(s.words <= 30 for s in sentences)
    assert sentences[0].start == 0.0 and sentences[-1].end == pytest.approx(36.0)
    assert " ".join(s.text for s in sentences).split() == " ".join(seg.text for seg in segments).split()


def test_a_run_on_inside_one_segment_is_cut_by_word_count():
    segment = TimedText(0.0, 30.0, " ".join(["word"] * 120))
    sentences = split_sentences([segment], max_words=50)
    assert [s.words for s in sentences] == [50, 50, 20]


def test_empty_and_punctuation_only_segments_give_no_sentences():
    assert split_sentences([]) == []
    assert split_sentences([TimedText(0, 1, "  "), TimedText(1, 2, "...")]) == []


def test_an_unknown_language_falls_back_to_english_rules():
    assert len(split_sentences([TimedText(0, 2, "One claim. Two claims.")], language="xx")) == 2


def test_an_hour_of_transcript_is_split_in_well_under_a_second():
    base = "People who sleep less than six hours make more errors at work. Um, yeah, that's what the study says, you know. "
    segments = [TimedText(i * 6.0, i * 6.0 + 6.0, base) for i in range(300)]
    started = time.perf_counter()
    sentences = split_sentences(segments)
    elapsed = time.perf_counter() - started
    assert len(sentences) == 600
    assert elapsed < 1.0, elapsed


def test_splitting_in_several_threads_at_once_gives_the_same_sentences():
    from concurrent.futures import ThreadPoolExecutor

    texts = [f"Claim {i} is here. Another sentence number {i} follows it, and then one more. Done {i}." * 20 for i in range(8)]
    inputs = [[TimedText(0, 60, t)] for t in texts]
    expected = [split_sentences(x) for x in inputs]
    with ThreadPoolExecutor(max_workers=8) as pool:
        for _ in range(3):
            assert list(pool.map(split_sentences, inputs)) == expected


def test_an_asr_run_on_is_cut_into_clauses_before_its_conjunctions():
    run_on = (
        "The big story this week was another code leak at an AI company, and you know people panicked, but here is the "
        "thing, when an AI company's source code leaks, it can be copied around the world in minutes, but the trained "
        "model weights are what actually stay protected."
    )
    sentences = split_sentences([TimedText(0.0, 20.0, run_on)])
    assert [s.text.split()[0] for s in sentences] == ["The", "and", "when", "but"]
    assert " ".join(s.text for s in sentences) == run_on
    assert all(s.words >= 8 for s in sentences)


def test_a_long_but_ordinary_sentence_is_left_whole():
    sentence = (
        "A leak of source code travels across the internet almost instantly, yet it rarely hurts an AI company very "
        "much, because the real value is in the trained weights, and the weights never left the building."
    )
    assert [s.text for s in split_sentences([TimedText(0.0, 12.0, sentence)])] == [sentence]
