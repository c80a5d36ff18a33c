"""Sentence segmentation of timed ASR segments."""

from __future__ import annotations

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


def test_an_hour_of_transcript_is_split_into_its_sentences():
    # Speed is measured in bench/rank.py, not here.
    base = "People who sleep less than six hours make more errors at work. Um, yeah, that's what the study says, you know. "
    segments = [TimedText(i * 6.0, i * 6.0 + 6.0, base) for i in range(300)]
    sentences = split_sentences(segments)
    assert len(sentences) == 600


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


RUN_ON = (
    "So the big story this week was another code leak at an AI company and you know people panicked but here is the "
    "thing when an AI company's source code leaks it can be copied around the world in minutes but the trained model "
    "weights are what actually stay protected the code is the recipe and the weights are the finished meal"
)


def _assert_whole_and_in_order(sentences, segments):
    assert " ".join(s.text for s in sentences).split() == " ".join(seg.text for seg in segments).split()
    times = [t for s in sentences for t in (s.start, s.end)]
    assert times == sorted(times)
    assert sentences[0].start == pytest.approx(segments[0].start)
    assert sentences[-1].end == pytest.approx(segments[-1].end)


def test_an_unpunctuated_asr_run_on_is_cut_at_its_discourse_boundaries():
    segments = [TimedText(22.3, 51.0, "because today is all about open source AI. " + RUN_ON)]
    sentences = split_sentences(segments)
    assert [s.text for s in sentences] == [
        "because today is all about open source AI.",
        "So the big story this week was another code leak at an AI company",
        "and you know people panicked but here is the thing",
        "when an AI company's source code leaks it can be copied around the world in minutes but the trained model "
        "weights are what actually stay protected the code is the recipe and the weights are the finished meal",
    ]
    _assert_whole_and_in_order(sentences, segments)


def test_fillers_and_replies_in_a_run_on_start_new_pieces_but_even_when_does_not():
    segments = [
        TimedText(
            21.3,
            42.8,
            "people who sleep less than six hours a night make roughly 30% more errors at work the next day even when "
            "they say they feel completely fine um I definitely feel called out by that one and you know the fix is "
            "simpler than most people think keeping the same wake up",
        ),
        TimedText(42.8, 52.2, "time every day, including weekends, helps your body clock more than going to bed early."),
    ]
    sentences = split_sentences(segments)
    assert [s.text.split()[0] for s in sentences] == ["people", "um", "and"]
    assert sentences[0].text.endswith("feel completely fine")
    # The segment break inside "the same wake up | time" is no sentence end.
    assert "wake up time every day" in sentences[2].text
    assert all(8 <= s.words <= 40 for s in sentences)
    _assert_whole_and_in_order(sentences, segments)


def test_a_run_on_ending_where_a_capitalised_segment_begins_is_cut_there():
    segments = [
        TimedText(
            23.4,
            45.7,
            "League of Source Code travels across the internet almost instantly yet it rarely hurts an AI company very "
            "much because the real value is in the trained weights and the weights never left the building right you "
            "can read the code all day but without the weights you just have an empty engine",
        ),
        TimedText(45.8, 50.0, "This episode is brought to you by Acme mattress."),
    ]
    sentences = split_sentences(segments)
    assert [s.text.split()[:2] for s in sentences] == [["League", "of"], ["right", "you"], ["This", "episode"]]
    assert sentences[2].start == pytest.approx(45.8)
    _assert_whole_and_in_order(sentences, segments)


def test_an_unpunctuated_run_on_with_no_discourse_boundary_is_left_whole_up_to_the_word_limit():
    text = (
        "There is some good news big cloud companies signed contracts for more than twenty gigawatts of new solar and "
        "wind power last year which is more than any other group of buyers in the world"
    )
    assert [s.text for s in split_sentences([TimedText(0.0, 15.0, text)])] == [text]


def test_a_long_unpunctuated_run_on_pieces_stay_within_forty_words():
    segments = [TimedText(i * 20.0, i * 20.0 + 20.0, RUN_ON) for i in range(6)]
    sentences = split_sentences(segments)
    assert all(s.words <= 40 for s in sentences)
    assert sum(s.words >= 8 for s in sentences) >= len(sentences) - 1
    _assert_whole_and_in_order(sentences, segments)


def test_an_hour_with_no_punctuation_at_all_is_split_into_pieces_of_at_most_forty_words():
    segments = [TimedText(i * 20.0, i * 20.0 + 20.0, RUN_ON.lower()) for i in range(180)]
    sentences = split_sentences(segments)
    assert all(s.words <= 40 for s in sentences)


def test_sentences_never_span_two_speaker_turns_and_carry_their_speaker():
    # Real turns from the Changelog's episode 500 (the-changelog-500.md), as a publisher transcript gives them.
    segments = [
        TimedText(0.0, 4.0, "It is a big number, because you're weekly, which means it's like 10 years, ish", "Chris Coyier"),
        TimedText(4.0, 9.0, "Right. It's actually more than ten years, because we're weekly", "Jerod Santo"),
        TimedText(9.0, 11.0, "but we're not consistently weekly.", "Jerod Santo"),
    ]
    sentences = split_sentences(segments)
    assert [(s.speaker, s.turn) for s in sentences] == [("Chris Coyier", 0), ("Jerod Santo", 1), ("Jerod Santo", 1)]
    assert sentences[0].text.endswith("ish")
    assert sentences[2].text == "It's actually more than ten years, because we're weekly but we're not consistently weekly."
