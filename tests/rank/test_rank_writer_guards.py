"""Faithfulness guards, each accepting and rejecting real rewrites of real dev-set passages."""

from __future__ import annotations

import pytest
from llm_helpers import GOOGLE_PRINCIPLES, SPOTIFY_INTERNSHIP
from podbrief_rank.guards import GuardConfig, Source, first_failure, names_in, new_names, new_numbers, numbers_in, similar_enough

# Real passages the extractor chose from dev-split episodes, with their context (none is a worked example).
FOLLOWERS = Source(
    passage="You're like 200, 3,000 you know, 200,000, 300,000 like followers in like now, you're not necessarily going "
    "to have that if you're talking about business or like, you're just starting out or, but you have the knowledge of "
    "what you should be talking about.",
    context="Like even this morning I was just tweeting about like somebody said, we need more than the entertainment "
    "podcast and I'm like, there is more than the entertainment podcast, but when they won't, like a network won't "
    "necessarily want to deal with you on hosting a podcast too. Podcasts in Color",
)
SIRAJ = Source(
    passage="We use cloud services, obviously, from the major providers, and in some cases maybe we're lucky and we can "
    "afford some pretty good deep learning-oriented hardware with GPUs or TPUs or whatever... But there is a YouTube "
    "video by Siraj Raval (if I'm pronouncing his name correctly), who is one of the better-known luminaries in the "
    "deep learning space.",
    context="On a slightly different tangent, I have a lot of conversations with people that are trying to figure out "
    "how they're gonna do the computation side. He does a lot of YouTube videos and courses, and he's fairly "
    'well-known for these. He did a ["Best Laptop for Machine Learning"] video, Practical AI',
)
SPOTIFY = Source(SPOTIFY_INTERNSHIP.text, f"{SPOTIFY_INTERNSHIP.before} {SPOTIFY_INTERNSHIP.after} {SPOTIFY_INTERNSHIP.show}")


@pytest.mark.parametrize(
    ("text", "numbers"),
    [
        ("from 1,000 to 10,000 an episode", {"1000", "10000"}),
        ("a two-day trip, 2001 futurism", {"2", "2001"}),
        ("forty-eight hours, twenty five people, 48 hours", {"48", "25"}),
        ("one of the best, 2.5 million, 3.0 stars, 50%", {"2.5", "million", "3", "50", "percent"}),
        ("a couple dozen countries, seven hundred", {"dozen", "7", "hundred"}),
    ],
)
def test_numbers_are_normalised_across_digits_and_words(text, numbers):
    assert numbers_in(text) == numbers


def test_names_are_capitalised_words_and_acronyms_with_whether_they_open_a_sentence():
    assert names_in("Siraj Raval's video covers GPUs. It is on YouTube, said the U.S. host.") == [
        ("Siraj", True),
        ("Raval", False),
        ("GPUs", False),
        ("It", True),
        ("YouTube", False),
        ("U.S", False),
    ]


# Answers the real 1.5B model wrote for these passages in dev runs (the first two), and a hand-written one.
@pytest.mark.parametrize(
    ("text", "source"),
    [
        (
            "Siraj Raval, a well-known luminary in the deep learning space, does a lot of YouTube videos and courses, and he "
            'did a "Best Laptop for Machine Learning" video.',
            SIRAJ,
        ),
        (
            "Different podcasts apps can be confusing, and it can be difficult to figure out what to listen to.",
            Source(
                "Different podcasts apps all the time or like what people might be looking for in a podcast app because "
                "it's complicated and it's like you don't want to have to get home and figure out the 10 steps somebody "
                "was trying to tell you."
            ),
        ),
        (
            "Spotify has opened a paid summer internship in its podcasting department for next year, open to college "
            "sophomores, juniors and seniors.",
            SPOTIFY,
        ),
        (
            "A show with 200,000 or 300,000 followers is not what someone just starting out in business has, but they "
            "have the knowledge of what to talk about.",
            FOLLOWERS,
        ),
    ],
)
def test_faithful_rewrites_pass_every_text_guard(text, source):
    assert first_failure(text, source) is None


@pytest.mark.parametrize(
    ("text", "source", "guard"),
    [
        # A number the passage never says, in digits or in words.
        ("A show needs 500,000 followers before a network will deal with it.", FOLLOWERS, "numbers"),
        ("A show needs fifty thousand followers before a network will deal with it.", FOLLOWERS, "numbers"),
        # A name the transcript never says, mid-sentence and opening a sentence.
        ("Siraj Raval, a deep learning luminary at Google, made a video about laptops for machine learning.", SIRAJ, "names"),
        ("Nvidia recommends GPUs or TPUs for deep learning, says a YouTube video by Siraj Raval.", SIRAJ, "names"),
        # The host's voice leaking into the takeaway (real 1.5B answers).
        (
            "One of the things I posted the almost two weeks ago was Spotify opened up a summer internship for their "
            "podcasting department for next year.",
            SPOTIFY,
            "first_person",
        ),
        ("On our show, a YouTube video by Siraj Raval is the guide to deep learning hardware.", SIRAJ, "first_person"),
        # Shape.
        ("Is a YouTube video by Siraj Raval the best guide to deep learning hardware on a budget?", SIRAJ, "question"),
        ("Siraj Raval is well-known.", SIRAJ, "length"),
        (
            "Siraj Raval is well-known. He makes YouTube videos. He made a laptop video. It covers GPUs and TPUs.",
            SIRAJ,
            "sentences",
        ),
        ("Skip - the passage is mostly the host's own plans and not a takeaway.", SIRAJ, "junk"),
        ("The passage describes a YouTube video by Siraj Raval about hardware for deep learning.", SIRAJ, "prompt_copy"),
        (
            'Siraj Raval did a ["Best Laptop for Machine Learning"](https://www.youtube.com/watch?v=dtFZrFKMiPI) video.',
            SIRAJ,
            "markup",
        ),
    ],
)
def test_unfaithful_or_malformed_rewrites_are_rejected_by_the_right_guard(text, source, guard):
    expected = "length" if guard == "sentences" else guard
    assert first_failure(text, source) == expected


def test_a_name_or_number_that_is_only_in_the_context_may_resolve_a_reference():
    assert new_names("Siraj Raval does a lot of YouTube videos and courses about deep learning.", SIRAJ) == []
    assert new_numbers("Networks want 300,000 followers; a new show has 3,000.", FOLLOWERS) == set()


def test_opening_words_pass_when_the_source_has_the_same_word_stem():
    source = Source("Podcasting departments build internships for people in college.")
    assert new_names("Podcasters build internships for college students.", source) == []
    assert new_names("Spotify builds internships for college students.", source) == ["Spotify"]


def test_length_bounds_are_configurable():
    config = GuardConfig(min_words=3, max_words=6, max_sentences=1)
    assert first_failure("Siraj Raval makes YouTube videos.", SIRAJ, config) is None
    assert first_failure("Siraj Raval makes YouTube videos about deep learning.", SIRAJ, config) == "length"


# (answer of the real model, its passage): dev-run pairs on both sides of the calibrated threshold.
FAITHFUL_PAIRS = [
    (
        "Different podcasts apps can be confusing, and it can be difficult to figure out what to listen to.",
        "Different podcasts apps all the time or like what people might be looking for in a podcast app because it's "
        "complicated and it's like you don't want to have to get home and figure out the 10 steps somebody was trying "
        "to tell you.",
    ),
    (
        'A YouTube video by Siraj Raval, a well-known luminary in the deep learning space, does a "Best Laptop for '
        'Machine Learning" video.',
        "We use cloud services, obviously, from the major providers, and in some cases maybe we're lucky and we can "
        "afford some pretty good deep learning-oriented hardware with GPUs or TPUs or whatever... But there is a YouTube "
        "video by Siraj Raval (if I'm pronouncing his name correctly), who is one of the better-known luminaries in the "
        "deep learning space.",
    ),
    (
        "The article discusses the objectives for AI applications, including being socially beneficial, avoiding "
        "creating or reinforcing unfair bias, being built and tested for safety, being accountable to people, "
        "incorporating privacy design principles, and upholding high standards of scientific excellence.",
        GOOGLE_PRINCIPLES.text,
    ),
]
UNFAITHFUL_PAIRS = [
    (  # drifted to the context
        "The ACLU called for a moratorium on government use of facial recognition technologies, which aligns with the "
        "idea that AI can do more than it can.",
        "I just think it's interesting that -- and I think actually the guest on a Changelog podcast was talking about "
        "this, how there's kind of this spectrum of how people perceive AI on one side... They think that it's kind of "
        "so amazing that it can do everything.",
    ),
    (  # a worked example's answer, reworded
        "Podcasters should focus on building a community around their show instead of just producing episodes: even an "
        "audience of 55 regular listeners is worth nurturing.",
        "You're like 200, 3,000 you know, 200,000, 300,000 like followers in like now, you're not necessarily going to "
        "have that if you're talking about business or like, you're just starting out or, but you have the knowledge of "
        "what you should be talking about.",
    ),
    (  # invented from nothing
        "AI is growing rapidly in different countries, and the U. S. and China are leading the way.",
        "There are so many news stories that we're getting each week, and just picking a few is really kind of the "
        "hardest part of this.",
    ),
]


def test_the_similarity_threshold_separates_real_faithful_and_unfaithful_answers(minilm):
    pairs = FAITHFUL_PAIRS + UNFAITHFUL_PAIRS
    vectors = minilm.encode([a for a, _ in pairs] + [p for _, p in pairs])
    close = similar_enough(vectors[: len(pairs)], vectors[len(pairs) :]).tolist()
    assert close == [True] * len(FAITHFUL_PAIRS) + [False] * len(UNFAITHFUL_PAIRS)


def test_an_answer_that_repeats_a_worked_example_is_a_prompt_copy():
    # The 0.5B model answered a passage about podcast trends with the prompt's CIMON example.
    trends = Source(
        "Cause that's what all this situation really is The trends were big for that podcast. And for Spotify because "
        "Spotify was the only platform that people could play it on."
    )
    copied = (
        "CIMON, a small robot with artificial intelligence, propels itself around the International Space Station "
        "through little puffs of air and interacts with the astronauts."
    )
    assert first_failure(copied, trends) == "prompt_copy"
    assert first_failure(copied, Source(copied)) is None  # the same words are fine when the passage says them
