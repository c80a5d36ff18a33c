"""The takeaway features: each one on its own."""

from __future__ import annotations

import pytest
from podbrief_rank import features
from rank_helpers import takeaways

ADS = [
    "This episode is brought to you by Acme Mattress.",
    "Use promo code SIGNAL for 20 percent off at acme dot com.",
    "This show is supported by Nimbus Cloud Backup.",
    "Head to nimbus dot com slash signal and get three months free.",
    "Go to brightline dot com and use code HOUR to get your first bag free.",
    "Today's sponsor is Hello Meals, the easiest way to cook at home.",
    "Start your free trial at zipdesk.com/signal.",
    "Enter offer code PODCAST at checkout.",
]


@pytest.mark.parametrize("line", ADS)
def test_sponsor_lines_are_recognised_as_ads(line):
    assert features.is_ad(line)


@pytest.mark.parametrize(
    "line",
    [
        "Teams that use code review catch about half of their bugs before release.",
        "Go to bed at the same time every day, even on weekends.",
        "Open weight models are free to download, but many come with licenses that limit commercial use.",
        "Supported languages now include Python and Rust.",
    ],
)
def test_claims_that_share_words_with_ads_are_not_ads(line):
    assert not features.is_ad(line)


def test_no_planted_takeaway_looks_like_an_ad():
    for episode in takeaways()["episodes"].values():
        for takeaway in episode["takeaways"]:
            assert not features.is_ad(takeaway), takeaway
        assert any(features.is_ad(s) for s in episode["ad_read"].split(". ")), episode["ad_read"]


@pytest.mark.parametrize(
    "line",
    [
        "Hey everyone, and welcome back to The Signal Hour.",
        "Thanks for listening, and we'll see you next week.",
        "Okay, we're back.",
        "First up, the leak everyone keeps asking us about.",
        "And, um, one last thing for the open source fans.",
        "Um, I'm here with my co-host as always.",
    ],
)
def test_greetings_signposts_and_banter_count_as_chit_chat(line):
    assert features.chit_chat(line) >= 0.8


def test_a_claim_is_not_chit_chat():
    assert features.chit_chat("Most open source projects depend on fewer than five active maintainers.") == 0.0


def test_questions_are_recognised():
    assert features.is_question("But is that really true?")
    assert not features.is_question("It is true.")


def test_a_passage_that_opens_on_a_dangling_pronoun_is_not_self_contained():
    own_subject = features.self_containedness("Data centers may use eight percent of US power by 2030.")
    dangling = features.self_containedness("That puts real pressure on local power grids.")
    reply = features.self_containedness("Yeah, and that puts real pressure on local power grids.")
    conjunction = features.self_containedness("And data centers may use eight percent of US power.")
    assert own_subject == 1.0
    assert dangling < conjunction < own_subject
    assert reply < dangling


def test_numbers_names_and_units_make_a_passage_specific():
    vague = features.specificity("Things are changing a lot and it matters.")
    numbers = features.specificity("Data centers could use eight percent of all electricity by 2030.")
    names = features.specificity("Data centers in Virginia and Texas use more power than Ireland.")
    assert vague == 0.0
    assert numbers > 0.6 and names > 0.5
    assert 0.0 <= numbers <= 1.0


def test_claims_with_comparison_cause_and_prediction_look_like_claims():
    assert (
        features.claim_likeness(
            "Remote teams spend fewer hours in meetings because they write decisions down, so expect more of it."
        )
        == 1.0
    )
    assert features.claim_likeness("Nice weather today.") == 0.0


@pytest.mark.parametrize(("words", "expected"), [(5, 0.0), (12, 0.0), (21, 0.5), (30, 1.0), (70, 1.0), (90, 0.5), (120, 0.0)])
def test_length_fit_prefers_twenty_to_eighty_words(words, expected):
    assert features.length_fit(words) == pytest.approx(expected)


def test_a_reply_opening_is_recognised():
    assert features.opens_reply("Right, you can read the code all day.")
    assert not features.opens_reply("Rightly or wrongly, the code leaked.")


def test_lines_naming_an_announced_sponsor_belong_to_the_ad():
    sentences = [
        "Most projects have fewer than five maintainers.",
        "This episode is brought to you by Acme Mattress.",
        "I have slept on an Acme Mattress for two years and my back has never felt better.",
        "Okay, back to the show.",
        "Acme is also a word engineers use for placeholder companies.",
    ]
    assert features.ad_flags(sentences) == [False, True, True, False, False]


def test_an_episode_without_a_sponsor_flags_only_ad_lines():
    assert features.ad_flags(["A claim with 20 percent more errors.", "Use promo code X for 20 percent off."]) == [False, True]


def test_a_question_quoted_inside_a_statement_is_not_asked():
    # changelog-500: reported speech, not a question to the listener.
    quoted = 'The thing that got outsourced the most to Jeff was just like "What\'s gonna run and when?" and polish.'
    assert not features.asks(quoted)
    assert features.asks("That was a ton of work. Do you think it paid off")
    assert features.asks("Is a daily show worth it? We think so.")


def test_more_than_one_filler_per_forty_words_reads_cluttered():
    # rev16-9, as the extractor once printed it.
    cluttered = (
        "You're like 200, 3,000 you know, 200,000, 300,000 like followers in like now, you're not necessarily going to "
        "have that if you're talking about business or like, you know, you're just starting out."
    )
    assert features.reads_cluttered(cluttered)
    assert not features.reads_cluttered(
        "Most podcasts never reach 100 listeners an episode, so, you know, do not give up when your numbers look small "
        "in the first year: the shows that last are the ones that keep publishing every single week without fail, and "
        "the audience finds them later."
    )
