"""`people` (`podcast:person`) on EpisodeDiscovered and EpisodeRef: optional, so events written before it still parse
under the same schema version; bounded, with the excess cut rather than the event refused."""

from __future__ import annotations

import json

from podbrief_contracts import MAX_PEOPLE, EpisodeDiscovered, EpisodeRef, Person, TranscriptReady
from podbrief_runtime.kafka import parse
from test_contracts_schema_versions import VERSION_1_TRANSCRIPT

# An EpisodeDiscovered as ingest wrote it before `people` existed.
OLD_DISCOVERED = {
    "event_id": "e1",
    "schema_version": 1,
    "occurred_at": "2026-11-24T07:30:00Z",
    "episode_id": "3a7f",
    "feed_id": "9d1e",
    "feed_url": "https://example.com/feed.xml",
    "podcast_title": "Practical AI",
    "guid": "ep-1",
    "title": "Open weights",
    "enclosure_url": "https://example.com/ep1.mp3",
    "transcripts": [],
    "chapters_url": None,
}
CHRIS = {"name": "Chris Benson", "role": "host", "href": "https://example.com/chris", "img": "https://example.com/c.jpg"}


def test_events_written_before_people_still_parse_with_nobody_named():
    discovered = parse(EpisodeDiscovered, json.dumps(OLD_DISCOVERED).encode())
    assert isinstance(discovered, EpisodeDiscovered) and discovered.people == []
    transcript = parse(TranscriptReady, json.dumps(VERSION_1_TRANSCRIPT).encode())
    assert isinstance(transcript, TranscriptReady) and transcript.episode.people == []


def test_people_round_trip_and_do_not_change_the_schema_version():
    payload = {**OLD_DISCOVERED, "people": [CHRIS, {"name": "Daniel Whitenack", "role": "guest"}]}
    event = parse(EpisodeDiscovered, json.dumps(payload).encode())
    assert isinstance(event, EpisodeDiscovered)
    assert event.people == [Person(**CHRIS), Person(name="Daniel Whitenack", role="guest")]
    assert EpisodeDiscovered.model_validate_json(event.model_dump_json()) == event
    assert json.loads(event.model_dump_json())["schema_version"] == 1
    ready = TranscriptReady.model_validate(
        {**VERSION_1_TRANSCRIPT, "schema_version": 2, "episode": {**VERSION_1_TRANSCRIPT["episode"], "people": [CHRIS]}}
    )
    assert TranscriptReady.model_validate_json(ready.model_dump_json()).episode.people == [Person(**CHRIS)]


def test_a_person_is_tidied_and_a_bad_link_costs_only_the_link():
    person = Person.model_validate(
        {"name": "  Dr. Timothy \n M. Jurgensen ", "role": " Co-Host ", "href": "javascript:alert(1)", "img": "ftp://x/a.png"}
    )
    assert person == Person(name="Dr. Timothy M. Jurgensen", role="co-host")
    assert Person.model_validate({"name": "Ada", "role": ""}).role == "host"
    assert Person.model_validate({"name": "Ada", "href": "https://example.com/" + "a" * 5000}).href is None


def test_oversized_people_are_cut_not_refused():
    crowd = [{"name": f"Person {n}" + "x" * 300} for n in range(MAX_PEOPLE + 30)]
    ref = EpisodeRef.model_validate({**VERSION_1_TRANSCRIPT["episode"], "people": crowd})
    assert len(ref.people) == MAX_PEOPLE
    assert ref.people[0].name == "Person 0" + "x" * 192
    event = EpisodeDiscovered.model_validate({**OLD_DISCOVERED, "people": crowd})
    assert len(event.people) == MAX_PEOPLE


def test_the_schema_states_the_bounds():
    schema = EpisodeDiscovered.model_json_schema()
    assert schema["properties"]["people"]["maxItems"] == MAX_PEOPLE
    assert schema["$defs"]["Person"]["properties"]["name"]["maxLength"] == 200
    assert "people" not in schema.get("required", [])
