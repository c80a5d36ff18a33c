"""Light clean-up of the chosen text."""

from __future__ import annotations

import pytest
from podbrief_rank.cleanup import clean_text


@pytest.mark.parametrize(
    ("spoken", "clean"),
    [
        ("Um, most projects have, uh, fewer than five maintainers", "Most projects have fewer than five maintainers."),
        ("And, you know, people panicked, but the weights are safe.", "People panicked, but the weights are safe."),
        ("the the code is the recipe. and the weights are the meal", "The code is the recipe. And the weights are the meal."),
        ("Yeah, so protect your sleep, even at home.", "Protect your sleep, even at home."),
        ("Do you know what a token is?", "Do you know what a token is?"),
        ("He said that that was fine.", "He said that that was fine."),
        (
            "Right, you can read the code all day, but, um, without the weights you have nothing.",
            "You can read the code all day, but without the weights you have nothing.",
        ),
    ],
)
def test_fillers_stutters_and_reply_words_go_and_sentences_are_cased_and_closed(spoken, clean):
    assert clean_text(spoken) == clean


def test_cleaning_keeps_every_content_word():
    spoken = "Um, data centers could use, uh, around eight percent of all the electricity by 2030, you know."
    cleaned = clean_text(spoken)
    for word in ["data", "centers", "could", "use", "around", "eight", "percent", "electricity", "2030"]:
        assert word in cleaned.lower()
    assert "um" not in cleaned.lower().split() and "uh" not in cleaned.lower()


@pytest.mark.parametrize(
    ("spoken", "clean"),
    [
        ("It leaked, and you know people panicked.", "It leaked, and people panicked."),
        ("And you know what, it worked.", "You know what, it worked."),
        ("So you know what, I think so.", "You know what, I think so."),
    ],
)
def test_you_know_goes_only_where_it_is_filler(spoken, clean):
    assert clean_text(spoken) == clean
