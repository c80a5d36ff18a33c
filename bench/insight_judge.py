"""Blind judging of insights on real episodes: build a shuffled file for a judge, then unblind the verdicts.

    .venv/bin/python bench/insight_judge.py prepare DIR [--split heldout] [--previous PREV.json]
    (give a judge only INSIGHTS.md's rubric and DIR/items.jsonl; it writes DIR/verdicts.jsonl:
     {"id": ..., "S": 0|1, "T": 0|1, "R": 0|1, "W": 0|1, "good": 0|1})
    .venv/bin/python bench/insight_judge.py score DIR

For each episode of the split, five items from each system: the LLM stage (extraction + judging and
rewriting by the embedded model, `PODBRIEF_LLM_*` settings), the extractor alone, random 1-3 sentence
passages and lead-5 (both cleaned of fillers like the extractor's text), and optionally the previous
release's items (`--previous`, a JSON {episode_id: [texts]} made with that release's code). Items are
shuffled across systems and episodes and carry neutral ids; DIR/key.jsonl maps ids back.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import sys
import time
from collections import defaultdict
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

TOP = 5
_NUMBER = re.compile(r"\d[\d,.]*")


def prepare(out: Path, split: str, previous: Path | None, seed: int) -> None:
    from podbrief_rank.cleanup import clean_text
    from podbrief_rank.extract import Extractor
    from podbrief_rank.resources import build_embedder, build_writer
    from podbrief_rank.segmentation import TimedText, split_sentences
    from podbrief_rank.settings import Settings

    from podbrief import devset

    settings = Settings()
    embedder = build_embedder(settings)
    plain = Extractor(embedder)
    writer = build_writer(settings, embedder)
    if writer is None:
        sys.exit("the LLM stage is off (PODBRIEF_LLM_MODE=off): nothing to judge")
    with_llm = Extractor(embedder, writer)
    prev = json.loads(previous.read_text()) if previous else {}
    rng = random.Random(seed)
    items, key = [], []
    for ep in devset.episodes():
        if split != "all" and ep.split != split:
            continue
        segments = [TimedText(s.start, s.end, s.text, s.speaker) for s in devset.load_segments(ep)]
        sentences = split_sentences(segments, ep.language)
        started = time.perf_counter()
        llm = with_llm.extract(segments, None, ep.language, top=TOP, show=ep.show)
        print(f"{ep.id}: LLM stage {time.perf_counter() - started:.0f} s", file=sys.stderr)
        systems: dict[str, list[tuple[str, str]]] = {
            "llm": [(x.text, x.passage) for x in llm],
            "extractor": [(x.text, x.passage) for x in plain.extract(segments, None, ep.language, top=TOP)],
            "random": [],
            "lead": [],
        }
        for i in sorted(rng.sample(range(len(sentences)), min(TOP, len(sentences)))):
            quote = " ".join(s.text for s in sentences[i : i + rng.randint(1, 3)])
            systems["random"].append((clean_text(quote), quote))
        for i in range(0, 2 * TOP, 2):
            quote = " ".join(s.text for s in sentences[i : i + 2])
            systems["lead"].append((clean_text(quote), quote))
        if ep.id in prev:
            systems["previous"] = [(t, t) for t in prev[ep.id][:TOP]]
        for system, pairs in systems.items():
            for text, quote in pairs:
                items.append({"show": ep.show, "episode": ep.title, "text": text})
                key.append({"system": system, "episode": ep.id, "quote": quote})
    order = list(range(len(items)))
    rng.shuffle(order)
    out.mkdir(parents=True, exist_ok=True)
    with (out / "items.jsonl").open("w") as f_items, (out / "key.jsonl").open("w") as f_key:
        for n, i in enumerate(order):
            item_id = f"i{n:03d}"
            f_items.write(json.dumps({"id": item_id, **items[i]}, ensure_ascii=False) + "\n")
            f_key.write(json.dumps({"id": item_id, **key[i], "text": items[i]["text"]}, ensure_ascii=False) + "\n")
    print(f"{len(items)} items in {out / 'items.jsonl'}; key in {out / 'key.jsonl'}")


def score(out: Path) -> None:
    from podbrief import devset

    key = {r["id"]: r for r in map(json.loads, (out / "key.jsonl").read_text().splitlines())}
    lines = (out / "verdicts.jsonl").read_text().splitlines()
    verdicts = {row["id"]: row for row in (json.loads(line) for line in lines if line.strip())}
    missing = set(key) - set(verdicts)
    if missing:
        sys.exit(f"{len(missing)} items have no verdict, e.g. {sorted(missing)[:5]}")
    totals: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for item_id, row in key.items():
        v, t = verdicts[item_id], totals[row["system"]]
        t["items"] += 1
        for c in ("S", "T", "R", "W", "good"):
            t[c] += int(bool(v.get(c)))
        verbatim = devset.norm_words(row["text"]) == devset.norm_words(row["quote"])
        t["verbatim"] += verbatim
        source = row["quote"].replace(",", "")
        t["number_not_in_source"] += any(n.replace(",", "").rstrip(".") not in source for n in _NUMBER.findall(row["text"]))
    print(f"{'system':10} {'items':>5} {'good':>10} {'S':>5} {'T':>5} {'R':>5} {'W':>5} {'verbatim':>8} {'num!src':>7}")
    for system, t in sorted(totals.items(), key=lambda kv: -kv[1]["good"] / kv[1]["items"]):
        n = t["items"]
        print(
            f"{system:10} {n:5d} {t['good']:4d} ({t['good'] / n:4.0%}) {t['S'] / n:5.0%} {t['T'] / n:5.0%} {t['R'] / n:5.0%} "
            f"{t['W'] / n:5.0%} {t['verbatim'] / n:8.0%} {t['number_not_in_source']:7d}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("prepare")
    p.add_argument("dir", type=Path)
    p.add_argument("--split", default="heldout", choices=["heldout", "dev", "all"])
    p.add_argument("--previous", type=Path)
    p.add_argument("--seed", type=int, default=7)
    s = sub.add_parser("score")
    s.add_argument("dir", type=Path)
    args = parser.parse_args()
    if args.command == "prepare":
        prepare(args.dir, args.split, args.previous, args.seed)
    else:
        score(args.dir)


if __name__ == "__main__":
    main()
