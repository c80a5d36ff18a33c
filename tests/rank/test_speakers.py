"""Speaker labels resolved to the episode's people (`podcast:person`) only where the match is unambiguous."""

from __future__ import annotations

import asyncio

import pytest
from podbrief_contracts import InsightCreated, Person
from podbrief_rank.extract import Extractor
from podbrief_rank.pipeline import Ranker
from podbrief_rank.service import RankService
from podbrief_rank.speakers import speaker_name
from podbrief_rank.storage import open_store as open_rank_store
from podbrief_runtime.store import outbox
from rank_helpers import transcript_event
from sqlalchemy import select

PRACTICAL_AI = ["Chris Benson", "Daniel Whitenack"]


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        ("Chris", "Chris Benson"),
        ("chris", "Chris Benson"),
        ("DANIEL", "Daniel Whitenack"),
        ("chris  benson", "Chris Benson"),
        ("Chris Benson", "Chris Benson"),
    ],
)
def test_a_first_or_full_name_becomes_the_persons_full_name(label, expected):
    assert speaker_name(label, PRACTICAL_AI) == expected


@pytest.mark.parametrize("label", ["Speaker 1", "SPEAKER_00", "Host", "Guest", "Benson", "Chris B.", "Jerod Santo", ""])
def test_generic_or_unknown_labels_stay_as_they_are(label):
    assert speaker_name(label, PRACTICAL_AI) == label


def test_a_first_name_two_people_share_stays_as_it_is():
    assert speaker_name("Adam", ["Adam Curry", "Adam Smith", "Dave Jones"]) == "Adam"
    assert speaker_name("Dave", ["Adam Curry", "Adam Smith", "Dave Jones"]) == "Dave Jones"


def test_a_full_name_match_wins_over_a_first_name_match():
    assert speaker_name("Chris", ["Chris", "Chris Benson"]) == "Chris"


def test_titles_before_the_first_name_are_skipped():
    assert speaker_name("Timothy", ["Mike Neumann", "Dr. Timothy M. Jurgensen"]) == "Dr. Timothy M. Jurgensen"
    assert speaker_name("Dr.", ["Dr. Timothy M. Jurgensen"]) == "Dr."


def test_a_single_word_name_matches_only_in_full():
    assert speaker_name("duhlaurien", ["DuhLaurien"]) == "DuhLaurien"


def test_without_a_label_nobody_is_guessed_even_for_a_one_host_show():
    # Ads, clips and guests would be credited to the host.
    assert speaker_name(None, ["Chris Benson"]) is None
    assert speaker_name(None, []) is None


def test_without_people_the_label_stays():
    assert speaker_name("Chris", []) == "Chris"


def _emitted_speakers(tmp_path, vector_store, embedder, event) -> set[str | None]:
    store = open_rank_store(f"sqlite:///{tmp_path / 'rank.sqlite3'}")
    service = RankService(store, Ranker(Extractor(embedder), vector_store), embedder.name)
    asyncio.run(service.on_transcript_ready(event))
    with store.engine.connect() as conn:
        rows = conn.execute(select(outbox.c.payload).where(outbox.c.topic == InsightCreated.topic)).scalars().all()
    assert rows
    return {InsightCreated.model_validate_json(r).speaker for r in rows}


def _with_people(event, people: list[Person], speaker: str | None):
    return event.model_copy(
        update={
            "episode": event.episode.model_copy(update={"people": people}),
            "segments": [s.model_copy(update={"speaker": speaker}) for s in event.segments],
        }
    )


def test_the_insight_event_names_the_person_the_label_means(tmp_path, vector_store, fake_embedder):
    people = [Person(name="Chris Benson"), Person(name="Daniel Whitenack", role="guest")]
    event = _with_people(transcript_event("ep1"), people, "chris")
    assert _emitted_speakers(tmp_path, vector_store, fake_embedder, event) == {"Chris Benson"}


def test_an_unlabelled_transcript_of_a_one_host_show_credits_nobody(tmp_path, vector_store, fake_embedder):
    event = _with_people(transcript_event("ep1"), [Person(name="Chris Benson")], None)
    assert _emitted_speakers(tmp_path, vector_store, fake_embedder, event) == {None}
