"""The rank handler end to end with the real model, a real SQLite store and each vector-store adapter."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from podbrief_contracts import EpisodeStatusChanged, InsightCreated, stable_id
from podbrief_rank import repository
from podbrief_rank.dedup import Thresholds
from podbrief_rank.extract import Extractor
from podbrief_rank.pipeline import Ranker
from podbrief_rank.service import RankService
from podbrief_rank.storage import open_store as open_rank_store
from podbrief_runtime.store import Store, outbox
from rank_helpers import coverage, open_vector_store, takeaways, transcript_event
from sqlalchemy import func, select

pytestmark = pytest.mark.slow

FEED2 = "https://example.com/open-weights-weekly.xml"


@dataclass
class World:
    """A rank service with every sample episode handled, in order, then Open Weights Weekly's two re-runs."""

    service: RankService
    store: Store
    vectors: object
    events: dict[str, object] = field(default_factory=dict)
    thresholds: Thresholds = field(default_factory=Thresholds)

    def handle(self, event) -> None:
        asyncio.run(self.service.on_transcript_ready(event))

    def emitted(self) -> list[InsightCreated]:
        with self.store.engine.connect() as conn:
            query = select(outbox.c.payload).where(outbox.c.topic == InsightCreated.topic).order_by(outbox.c.id)
            rows = conn.execute(query).scalars().all()
        return [InsightCreated.model_validate_json(r) for r in rows]

    def statuses(self) -> list[EpisodeStatusChanged]:
        with self.store.engine.connect() as conn:
            query = select(outbox.c.payload).where(outbox.c.topic == EpisodeStatusChanged.topic).order_by(outbox.c.id)
            return [EpisodeStatusChanged.model_validate_json(r) for r in conn.execute(query).scalars()]

    def outbox_count(self) -> int:
        with self.store.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(outbox)).scalar_one())

    def insight_for(self, episode: str, index: int, show_feed: str | None = None) -> InsightCreated:
        """The emitted insight that carries planted takeaway `index` of `episode`."""
        event = self.events[episode if show_feed is None else f"{episode}@{show_feed}"]
        text = takeaways()["episodes"][episode]["takeaways"][index]
        mine = [x for x in self.emitted() if x.episode.episode_id == event.episode.episode_id]
        best = max(mine, key=lambda x: coverage(text, x.text))
        assert coverage(text, best.text) >= 0.9, (text, [x.text for x in mine])
        return best


@pytest.fixture(scope="module", params=["edge", "qdrant-client"])
def world(request, minilm, tmp_path_factory) -> World:
    tmp: Path = tmp_path_factory.mktemp(f"rank-{request.param}")
    store = open_rank_store(f"sqlite:///{tmp / 'rank.sqlite3'}")
    vectors = open_vector_store(request.param, tmp, minilm.dim)
    w = World(RankService(store, Ranker(Extractor(minilm), vectors), minilm.name), store, vectors)
    for episode in ["ep1", "ep2", "ep3", "ep4"]:
        w.events[episode] = transcript_event(episode)
        w.handle(w.events[episode])
    for item in takeaways()["feed2"]["items"]:
        episode = item["same_audio_as"]
        w.events[f"{episode}@feed2"] = transcript_event(
            episode, feed_url=FEED2, show=takeaways()["feed2"]["show"], guid=item["guid"]
        )
        w.handle(w.events[f"{episode}@feed2"])
    yield w
    vectors.close()


def test_every_insight_event_carries_the_contract_fields(world, minilm):
    emitted = world.emitted()
    assert len(emitted) >= 18
    for x in emitted:
        assert x.event_id == stable_id("insight-created", x.insight_id)
        assert len(x.embedding) == minilm.dim and abs(sum(v * v for v in x.embedding) - 1.0) < 1e-3
        assert x.embedding_model == "all-MiniLM-L6-v2"
        assert 0.0 <= x.score <= 1.0 and x.start < x.end and x.keywords
    source = world.events["ep2"]
    assert all(x.episode == source.episode for x in emitted if x.episode.episode_id == source.episode.episode_id)


def test_the_same_idea_on_two_episodes_joins_one_cluster(world):
    for group in takeaways()["groups"]:
        (a_ep, a_i), (b_ep, b_i) = group["same_idea"]
        assert world.insight_for(a_ep, a_i).cluster_id == world.insight_for(b_ep, b_i).cluster_id, group["idea"]


def test_related_but_different_ideas_stay_in_their_own_clusters(world):
    for group in takeaways()["related_not_same"]:
        (a_ep, a_i), (b_ep, b_i) = group["related"]
        assert world.insight_for(a_ep, a_i).cluster_id != world.insight_for(b_ep, b_i).cluster_id, group["topic"]


def test_related_insights_from_other_episodes_are_linked(world):
    emitted = world.emitted()
    episode_of = {x.insight_id: x.episode.episode_id for x in emitted}
    licenses = world.insight_for("ep4", 3)
    open_weights = world.insight_for("ep1", 1)
    assert open_weights.insight_id in {r.insight_id for r in licenses.related}
    paid_maintainers = world.insight_for("ep3", 2)
    assert world.insight_for("ep1", 2).insight_id in {r.insight_id for r in paid_maintainers.related}
    for x in emitted:
        assert len(x.related) <= world.thresholds.related_limit
        for r in x.related:
            assert episode_of[r.insight_id] != x.episode.episode_id
            assert world.thresholds.related <= r.similarity < world.thresholds.duplicate
            assert r.text and r.podcast_title and r.episode_title


def test_the_same_episode_on_another_show_joins_its_clusters_and_says_which_show(world):
    original = world.insight_for("ep3", 0)
    rerun = world.insight_for("ep3", 0, show_feed="feed2")
    assert rerun.cluster_id == original.cluster_id == world.insight_for("ep1", 0).cluster_id
    # Notify counts the shows behind an idea from these events: each carries its own show.
    said = {(x.episode.feed_id, x.episode.podcast_title) for x in world.emitted() if x.cluster_id == original.cluster_id}
    assert {title for _, title in said} == {"Open Weights Weekly", "The Signal Hour"}
    assert len({feed for feed, _ in said}) == 2  # the sample show (ep1, ep3) and ep3 again on feed2


def test_the_cluster_face_is_its_best_scored_member(world):
    emitted = world.emitted()
    by_cluster: dict[str, list[InsightCreated]] = {}
    for x in emitted:
        by_cluster.setdefault(x.cluster_id, []).append(x)
    merged = [members for members in by_cluster.values() if len(members) > 1]
    assert merged
    for members in merged:
        best_so_far = -1.0
        for x in members:  # in emission order
            assert x.is_cluster_face == (x.score > best_so_far), [(m.score, m.is_cluster_face) for m in members]
            best_so_far = max(best_so_far, x.score)
        with world.store.transaction() as session:
            row = repository.cluster_of(session, members[0].cluster_id)
        assert row["size"] == len(members)
        assert row["face_insight_id"] == max(members, key=lambda m: m.score).insight_id


def test_a_redelivered_transcript_creates_no_second_point_or_event(world):
    before_events, before_points = world.outbox_count(), world.vectors.count()
    world.handle(world.events["ep2"])
    assert (world.outbox_count(), world.vectors.count()) == (before_events, before_points)


def test_a_second_transcript_event_for_the_same_episode_adds_no_second_insight(world):
    before_insights, before_points = len(world.emitted()), world.vectors.count()
    again = world.events["ep1"].model_copy(update={"event_id": "another-delivery-of-ep1"})
    world.handle(again)
    assert (len(world.emitted()), world.vectors.count()) == (before_insights, before_points)
    assert world.statuses()[-1].episode_id == again.episode.episode_id  # only the episode's status is said again
    assert world.vectors.count() == len(world.emitted())


def test_each_handled_transcript_tells_its_listeners_the_episode_is_done_with_its_insight_count(world):
    statuses = world.statuses()
    assert statuses and all(s.state == "done" and s.reason is None for s in statuses)
    for status in statuses:
        mine = [x for x in world.emitted() if x.episode.episode_id == status.episode_id]
        assert status.insights is not None and status.insights >= len(mine) > 0
    assert {s.episode_id for s in statuses} == {e.episode.episode_id for e in world.events.values()}
