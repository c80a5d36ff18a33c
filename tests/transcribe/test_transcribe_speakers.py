"""Speaker turns in publisher transcripts, on the real files of `../shared/real-world/transcripts` in every format.

Each format names speakers its own way (WebVTT voice tags, SRT and text `Name:` prefixes, Markdown `**Name:**`, JSON
`speaker`, HTML `<cite>`); every one must come out as a per-segment speaker, with the label gone from the text.
"""

from __future__ import annotations

import pytest
from podbrief_transcribe.cleanup import is_name
from podbrief_transcribe.publisher import detect_kind, merge_short, parse_transcript
from podbrief_transcribe.transcript import Segment
from transcribe_helpers import real_transcript


def _turns(name: str) -> list[Segment]:
    text = real_transcript(name)
    return parse_transcript(text, detect_kind(text, "", name))


def _first(segments: list[Segment], count: int) -> list[tuple[float, str | None, str]]:
    return [(s.start, s.speaker, s.text) for s in segments[:count]]


def test_webvtt_voice_tags_name_the_speaker_of_each_cue():
    assert _first(_turns("publisher/podnews_weekly_review_2024-01-19.vtt"), 3) == [
        (0.0, "SPEAKER_1", "It's Friday, the 19th of January, 2024."),
        (4.24, "SPEAKER_2", "The last word in podcasting news."),
        (7.08, "SPEAKER_3", "This is the Podnews Weekly Review with James Cridland and Sam Sethi."),
    ]


def test_webvtt_cues_timed_in_bare_seconds_are_kept():
    """Podnews writes "4.240 --> 6.600"; webvtt-py alone silently drops such cues (the episode's first minute)."""
    segments = _turns("publisher/podnews_weekly_review_2024-01-19.vtt")
    assert [s.start for s in segments if s.start < 60][:3] == [0.0, 4.24, 7.08]
    assert any(s.text == "I'm Andy Goldsmith. I'm managing director of Adelicious." for s in segments)


def test_webvtt_lines_of_one_voice_join_into_its_turn_and_a_new_voice_starts_another():
    sarah, gillian = _turns("podcast-namespace-examples/example.vtt")
    assert (sarah.speaker, sarah.start, sarah.end) == ("Sarah", 0.0, 18.63)
    assert sarah.text.startswith("In today's episode, you'll learn whether or not you should have a podcast trailer.")
    assert sarah.text.endswith("This week's question comes from Gillian.")
    assert (gillian.speaker, gillian.start) == ("Gillian", 19.08)
    assert gillian.text == (
        "Hi Buzzsprout, Gillian here from breaking through careers podcast. My question is, do we need a podcast trailer?"
    )


def test_a_webvtt_cue_with_two_voices_is_split_between_them():
    vtt = "WEBVTT\n\n00:00:00.000 --> 00:00:04.000\n<v Ann>Are you ready?</v>\n<v Bob>Yes, let us go now.</v>\n"
    assert [(s.start, s.end, s.speaker, s.text) for s in parse_transcript(vtt, "vtt")] == [
        (0.0, 1.5, "Ann", "Are you ready?"),
        (1.5, 4.0, "Bob", "Yes, let us go now."),
    ]


def test_srt_name_prefixes_open_turns_and_unlabelled_cues_continue_them():
    segments = _turns("podcast-namespace-examples/example.srt")
    assert segments[0].speaker == "Travis"
    assert segments[0].text.startswith("When you first get started in podcasting, it's almost guaranteed")
    assert [s.speaker for s in segments[:4]] == ["Travis", "Travis", "Travis", "Sarah"]
    assert segments[3].text.startswith("Creating good audio is really key to keeping your podcast listeners engaged")
    assert not any(s.text.startswith(("Travis:", "Sarah:")) for s in segments)


def test_srt_turns_of_a_real_board_meeting_keep_full_names():
    segments = _turns("publisher/podcasting_20_episode_124.srt")
    assert segments[0].text.startswith("podcasting 2.0 March 4 2023 Episode 124 on D flat formable hello everybody")
    assert _first(segments, 6)[2:] == [
        (38.46, "Adam Curry", "Dave Jones."),
        (41.34, "Unknown", "Adam Clark curry. Yes."),
        (44.79, "Dave Jones", "Don't for one day. Party."),
        (48.0, "Adam Curry", "Why are you being stern with me? You threw out an Adam Clark curry that triggered me right away."),
    ]


def test_podcasting_json_speakers_are_kept_and_lines_of_one_cue_are_joined_in_order():
    segments = _turns("publisher/buzzcast.json")
    assert [(s.start, s.speaker) for s in segments[:4]] == [(0.0, "Alban"), (21.27, "Alban"), (30.48, "Kevin"), (42.03, "Alban")]
    assert segments[3].text == "I never said that. The only reason we ever did video was because of you."
    assert all(a.start <= b.start for a, b in zip(segments, segments[1:], strict=False))


def test_html_cite_names_the_speaker_of_the_text_after_it():
    assert _first(_turns("publisher/buzzcast.html"), 3)[1:] == [
        (
            30.0,
            "Kevin",
            "You guys remember, like two months ago, when you were like, We're going all in on video Buzzcast. I was like, "
            "that's, I mean, I will agree and commit and disagree, disagree and commit, I'll do something. "
            "But I don't want to do this.",
        ),
        (42.0, "Alban", "I never said that. The only reason we ever did video was because of you."),
    ]
    segments = _turns("podcast-namespace-examples/example.html")
    assert [(s.start, s.speaker) for s in segments[:2]] == [(0.0, "Travis"), (53.0, "Sarah")]
    assert segments[1].text.startswith("Creating good audio is really key")


def test_html_text_before_any_cite_has_no_speaker():
    first, second = _turns("publisher/podnews_weekly_review_2023-03-17.html")[:2]
    assert first.speaker is None and first.text.startswith("Hello. And just before we start")
    assert (second.start, second.speaker) == (67.0, "Norma-Jean Belenky")
    assert second.text.startswith("Norma Jean Baki. I'm the head of Events at Podbean")


def test_markdown_bold_labels_open_turns_and_time_markers_give_their_start():
    segments = _turns("changelog/the-changelog-500.md")
    assert [(s.speaker, s.text) for s in segments[:3]] == [
        ("Jerod Santo", "Chris, welcome on the Changelog, man."),
        (
            "Chris Coyier",
            "Hey, thanks for having me. This is huge. I feel like a massive congratulations is due for y'all. 500! Wow!",
        ),
        ("Adam Stacoviak", "500 is a big number."),
    ]
    [marked] = [s for s in segments if s.text == "You tend to keep things going."]
    assert (marked.start, marked.speaker) == (4 * 60 + 33, "Jerod Santo")
    assert all(a.start <= b.start for a, b in zip(segments, segments[1:], strict=False))


def test_markdown_labels_on_their_own_line_and_unlabelled_paragraphs_continue_the_turn():
    news = _turns("changelog/changelog-news-36.md")
    assert (news[0].speaker, news[0].text) == (
        "Jerod Santo",
        "What up, nerds? I'm Jerod and this is Changelog News for the week of Monday, March 20th 2023.",
    )
    assert [s.text for s in news if s.speaker == "The Goonies"] == ["This is our time. Our time down here."]  # a link's text
    practical = _turns("changelog/practical-ai-6.md")
    [marked] = [s for s in practical if s.text.startswith("It's really cool, and it has some great graphical stuff")]
    assert (marked.start, marked.speaker) == (3 * 60 + 54, "Chris Benson")


def test_rev_renderings_give_one_turn_per_line_and_keep_colons_inside_the_text():
    assert _first(_turns("rev16/14.nonverbatim.txt"), 4)[1:] == [
        (
            14.4,
            "Speaker 2",
            "We're bankrupt. The children's schools suck. There's no work here. "
            "And all the dudes that are responsible for this probably had steak and Bordeaux for lunch.",
        ),
        (
            24.8,
            "Speaker 3",
            "Welcome to Crimetown, produced in partnership with Gimlet Media. This season, we're heading to Detroit.",
        ),
        (
            30.8,
            "Speaker 4",
            "This city teach you one thing for sure: you always need a hustle. "
            "If you don't, it's going to blow up in your fucking face.",
        ),
    ]


@pytest.mark.parametrize(
    "name",
    [
        "changelog/the-changelog-500.md",
        "changelog/practical-ai-6.md",
        "publisher/podcasting_20_episode_124.srt",
        "publisher/buzzcast.srt",
        "rev16/9.verbatim.txt",
    ],
)
def test_no_label_markup_or_stage_direction_is_left_in_the_text(name):
    for segment in _turns(name):
        assert not any(mark in segment.text for mark in ("**", "\\", "[", "]")), segment.text
        assert not segment.text.startswith(f"{segment.speaker}:"), segment.text


def test_the_laughs_of_a_real_markdown_transcript_are_dropped():
    assert real_transcript("changelog/the-changelog-500.md").count("\\[laughs\\]") == 20
    assert not any("laughs" in s.text for s in _turns("changelog/the-changelog-500.md"))


@pytest.mark.parametrize(
    ("body", "kind"),
    [
        ("Ann: Well [laughs] that is it. \\[laughter\\]\n\nBob: [music] Right.", "text"),
        (
            "1\n00:00:00,000 --> 00:00:02,000\nAnn: Well [laughs] that is it.\n\n"
            "2\n00:00:02,000 --> 00:00:04,000\nBob: [MUSIC] Right.\n",
            "srt",
        ),
    ],
)
def test_bracketed_stage_directions_are_dropped(body, kind):
    assert [(s.speaker, s.text) for s in parse_transcript(body, kind)] == [("Ann", "Well that is it."), ("Bob", "Right.")]


def test_sentence_text_with_a_colon_is_not_taken_for_a_speaker():
    text = "Note: the next part is loud.\n\nAnother point: it rained.\n\nAdam Curry: Hello there."
    assert [(s.speaker, s.text) for s in parse_transcript(text, "text")] == [
        (None, "Note: the next part is loud."),
        (None, "Another point: it rained."),
        ("Adam Curry", "Hello there."),
    ]


@pytest.mark.parametrize("label", ["Adam Curry", "SPEAKER_1", "Speaker 0", "Norma-Jean Belenky", "Dr. Ann Lee", "Unknown"])
def test_names_and_numbered_speaker_labels_count_as_speakers(label):
    assert is_name(label)


@pytest.mark.parametrize("label", ["Note", "Update", "Editor's Note", "Another point", "the host", "One Two Three Four Five"])
def test_sentence_openers_and_long_labels_do_not_count_as_speakers(label):
    assert not is_name(label)


def test_merging_short_cues_never_joins_two_speakers():
    cues = [
        Segment(0.0, 0.8, "So what", speaker="Ann"),
        Segment(0.8, 1.2, "happened", speaker="Ann"),
        Segment(1.2, 1.5, "Nothing", speaker="Bob"),
        Segment(1.5, 4.0, "at all.", speaker="Bob"),
    ]
    assert [(s.start, s.end, s.speaker, s.text) for s in merge_short(cues)] == [
        (0.0, 1.2, "Ann", "So what happened"),
        (1.2, 4.0, "Bob", "Nothing at all."),
    ]
