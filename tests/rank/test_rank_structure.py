"""Episode structure, references and spoken clutter, on lines from the real dev-set episodes (tests/data/insight_dev)."""

from __future__ import annotations

import pytest
from podbrief_rank import features
from podbrief_rank.cleanup import clean_text
from podbrief_rank.scoring import build_passages
from podbrief_rank.segmentation import Sentence
from podbrief_rank.structure import Chapter, chapter_at, furniture


def _sentences(*turns: tuple[str, list[str]], seconds_each: float = 5.0) -> list[Sentence]:
    out: list[Sentence] = []
    for turn, (speaker, texts) in enumerate(turns):
        for text in texts:
            t = len(out) * seconds_each
            out.append(Sentence(len(out), text, t, t + seconds_each, speaker, turn))
    return out


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        # Intros and bios (Practical AI 6, Podnews Weekly 2024-01-19, Podcasts in Color, Changelog 500).
        ("This is Daniel, and I have Chris, my co-host here with me, who is an AI expert.", "intro"),
        ("Welcome back to another episode of Podcasts in Color, the podcast.", "intro"),
        ("Chris, welcome on the Changelog, man.", "intro"),
        ("Thank you for having me. I'm excited to chat.", "intro"),
        # Sponsor reads and house promos.
        ("This podcast is sponsored by Buzzsprout.", "ad"),
        ("There's people already discussing things in our Slack channel, so join the community.", "promo"),
        ("I just updated my events page on podcastsincolor.com, I'll link it in the show notes.", "promo"),
    ],
)
def test_real_show_furniture_is_recognised(line, reason):
    filler = "Podcast ad revenue grew by a fifth last year, mostly from host-read ads in the biggest shows."
    sentences = _sentences(("A", [filler, line, filler, filler, filler, filler, filler, filler, filler, filler]))
    assert furniture(sentences)[1] == reason


def test_a_sponsors_later_lines_belong_to_its_ad_read():
    # Podnews Weekly Review 2024-01-19: the line after the sponsor tag names the sponsor again.
    sentences = _sentences(
        ("SPEAKER_1", ["This podcast is sponsored by Buzzsprout.", "Last week, 3,105 people started a podcast with Buzzsprout."]),
        ("SPEAKER_2", ["Audioboom's downloads for the quarter are down only 0.75%, while many publishers posted 15% falls."]),
    )
    assert furniture(sentences) == ["ad", "ad", None]


def test_a_sign_off_counts_only_near_the_end():
    body = ["Podcast ad revenue grew by a fifth last year, mostly from host-read ads in the biggest shows."] * 20
    early = _sentences(("A", ["Thanks for listening to my advice, it worked for me.", *body]))
    late = _sentences(("A", [*body, "Thanks for listening, and we'll see you next week."]))
    assert furniture(early)[0] is None
    assert furniture(late)[-1] == "sign-off"


def test_a_short_turn_ending_on_a_question_is_the_host_asking_and_the_answer_is_not():
    # Changelog 500: the host's question, then the guest's answer.
    sentences = _sentences(
        ("Jerod Santo", ["So what do you think about Go?", "Is it worth it for a small team?"]),
        ("Chris Coyier", ["In Go it's just sometimes many orders of magnitude cheaper and faster than in Ruby."]),
    )
    assert furniture(sentences) == ["question", "question", None]


def test_without_speakers_a_rhetorical_question_is_not_furniture():
    sentences = _sentences((None, ["Why does this matter?", "Because most listeners find new shows through word of mouth."]))
    assert furniture(sentences) == [None, None]


def test_a_furniture_chapter_blocks_its_sentences_and_a_content_chapter_names_them():
    sentences = _sentences(("A", ["Sentence one is long enough to count here."] * 6))
    chapters = [Chapter(0.0, 10.0, "Intro"), Chapter(10.0, 20.0, "Sponsor: Acme"), Chapter(20.0, None, "Container queries")]
    reasons = furniture(sentences, chapters)
    assert reasons[:4] == ["chapter"] * 4 and reasons[4:] == [None, None]
    assert chapter_at(chapters, 25.0) == "Container queries"
    assert chapter_at([], 25.0) is None


def test_passages_stay_inside_one_turn_and_skip_furniture():
    sentences = _sentences(
        ("Jerod Santo", ["Podcast growth is slow and steady, and most shows quit before it compounds."]),
        ("Chris Coyier", ["Blogging taught me that search traffic compounds for years.", "This podcast is sponsored by Acme."]),
    )
    spans = {(p.first, p.last) for p in build_passages(sentences, 3, furniture(sentences))}
    assert spans == {(0, 0), (1, 1)}


@pytest.mark.parametrize(
    "opening",
    [
        # Verbatim openers the first release put in briefs (issue 13), and real dev-set lines.
        "Most people don't see this, but they only learn about it when they get an error.",
        "Except many companies really do run on Excel.",
        "That's why we moved the whole back end to Go.",
        "Because there's enough Bend pride and stuff that you'd get a bunch of people listening.",
        "He said under Objectives for AI applications to be socially beneficial.",
        "Um, so they raised prices twice last year.",
        # practical-ai-6: the reply words before "that's" do not resolve it.
        "But yeah, that's always a fun one to watch.",
        # practical-ai-6: "he" with only an article before it.
        "The article is longer and people can go read it, but he said under Objectives for AI applications to be fair.",
    ],
)
def test_a_passage_opening_on_an_unresolved_reference_is_recognised(opening):
    assert features.opens_on_reference(opening)


@pytest.mark.parametrize(
    "opening",
    [
        "It's hard to grow a podcast without a guest strategy.",
        "So continuous integration catches bugs before users do.",
        "DJ Patil, who was the first chief data scientist of the U.S., wrote that he expects more regulation.",
        "Google has their machine learning crash course that uses TensorFlow APIs, and that is freely available.",
        # podnews-weekly-2024-01-19: a person named by a noun resolves "he".
        "I remember a concert where they had this comedian at the beginning. And he did all the songs of adverts as his act.",
    ],
)
def test_a_passage_that_names_its_subject_stands_on_its_own(opening):
    assert not features.opens_on_reference(opening)


def test_a_passage_opening_on_a_reference_is_only_a_candidate_with_the_sentence_before_it():
    sentences = _sentences(
        ("A", ["Most companies really do run on Excel spreadsheets, whatever engineers say.", "That's why data tools fail."])
    )
    spans = {(p.first, p.last) for p in build_passages(sentences)}
    assert (1, 1) not in spans and (0, 1) in spans


@pytest.mark.parametrize(
    ("spoken", "clean"),
    [
        # Rev16 file 9 (verbatim transcript) and the Changelog's episode 500.
        ("Um, like, at one point I didn't listen to any podcasts.", "At one point I didn't listen to any podcasts."),
        ("I, I have an iPhone, so I record on it.", "I have an iPhone, so I record on it."),
        ("It is, it is a big number.", "It is a big number."),
        ("We've -- it always has been an interview show.", "It always has been an interview show."),
        (
            "that puts a little pressure on YouTube, right? So creators move.",
            "That puts a little pressure on YouTube. So creators move.",
        ),
        ("It's for -- it's really to give loyal fans a way in. \\[laughs\\]", "It's really to give loyal fans a way in."),
    ],
)
def test_false_starts_comma_repeats_like_and_tag_questions_are_cleaned(spoken, clean):
    assert clean_text(spoken) == clean


def test_a_long_clause_before_a_dash_is_kept_as_an_aside():
    assert clean_text("It much feels like you're just sitting -- you're all on barstools.") == (
        "It much feels like you're just sitting — you're all on barstools."
    )


def test_a_cluttered_passage_scores_as_clutter_and_a_clean_one_does_not():
    cluttered = (
        "You're like 200, 3,000 you know, 200,000, 300,000 like followers in like now, um, you know, you're just starting out"
    )
    clean = "Blogging taught me that search traffic compounds for years, long after a post is written."
    assert features.clutter(cluttered) > 0.5
    assert features.clutter(clean) == 0.0


def test_questions_without_a_question_mark_are_recognised():
    assert features.is_question("Did you want to talk more about it and were there any episodes you love")
    assert not features.is_question("Did is not a word I use much when writing.")


@pytest.mark.parametrize(
    "line",
    [
        # Ordinary content that shares words with show furniture (found in review): none of it is furniture.
        "The weakest link in the supply chain is one fab in Taiwan, and everyone depends on it.",
        "Most people subscribe to three streaming services and forget about at least one of them.",
        "Users who sign up in the first week retain three times better than those who wait.",
        "Containers share your host's kernel, so a kernel bug can reach every container on the machine.",
        "Apple was joined by Google in backing the standard, which made it the default within a year.",
        "In our book we show that seventy percent of rewrites fail to ship on time.",
    ],
)
def test_content_sharing_words_with_furniture_is_not_furniture(line):
    filler = "Podcast ad revenue grew by a fifth last year, mostly from host-read ads in the biggest shows."
    sentences = _sentences(("A", [filler, line, *[filler] * 8]))
    assert furniture(sentences)[1] is None


def test_a_guests_point_ending_on_right_is_not_a_question_turn():
    sentences = _sentences(
        (
            "Guest",
            [
                "Big platforms commoditize their complements, so the app layer gets squeezed on price by them every single year.",
                "That is why every aggregator wants to own the player, the directory and the ads, right?",
            ],
        ),
    )
    assert furniture(sentences) == [None, None]


@pytest.mark.parametrize("title", ["Intro to vector databases", "Google Ads antitrust ruling", "Closing the gap with China"])
def test_a_content_chapter_sharing_a_word_with_furniture_is_not_blocked(title):
    sentences = _sentences(("A", ["Sentence one is long enough to count here."] * 4))
    assert furniture(sentences, [Chapter(0.0, None, title)]) == [None] * 4


def test_chapters_without_ends_run_to_the_next_chapter_only():
    sentences = _sentences(("A", ["Sentence one is long enough to count here."] * 6))
    chapters = [Chapter(0.0, None, "Intro"), Chapter(10.0, None, "Main story")]
    assert furniture(sentences, chapters) == ["chapter", "chapter", None, None, None, None]
    assert chapter_at(chapters, 5.0) == "Intro" and chapter_at(chapters, 25.0) == "Main story"


@pytest.mark.parametrize(
    "opening",
    [
        "Because GPUs are scarce, cloud prices rose 30% in a year.",
        "Although solar is cheapest, grids cannot absorb all of it at noon.",
        "Like Apple, Google now designs its own chips for its data centers.",
        "Altman said he expects prices to fall 90% within two years.",
    ],
)
def test_openers_that_carry_their_own_clause_or_name_stand_on_their_own(opening):
    assert not features.opens_on_reference(opening)


@pytest.mark.parametrize(
    "text",
    [
        "They raised $1.5 billion — mostly from Saudi funds.",
        "Revenue grew 40% — mostly from enterprise.",
        "It costs 10 – 20 dollars a month.",
    ],
)
def test_dashes_and_decimals_are_kept_by_the_clean_up(text):
    assert clean_text(text) == text
