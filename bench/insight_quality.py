"""Insight quality on real episodes: precision@5 of the extractor against labelled good passages.

The labels (`tests/data/insight_dev/labels.jsonl`, made blind to the extractor and reviewed twice)
mark every passage of eleven real episodes that is a good insight by the rubric in INSIGHTS.md.
An item counts as good when at least half of its source passage lies inside labelled passages.
Printed next to two baselines run in the same process on the same sentences: random 1-3 sentence
passages (mean over 50 draws) and lead-5 (the episode's first five two-sentence passages).
Also prints the automatic proxies of INSIGHTS.md for the extractor's top 5.

Report on the held-out split (the default); tune only on `--split dev`.

    .venv/bin/python bench/insight_quality.py [--split heldout|dev|all] [--show] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import sys
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from podbrief_rank import features  # noqa: E402
from podbrief_rank.cleanup import clean_text  # noqa: E402
from podbrief_rank.embedder import SentenceTransformerEmbedder  # noqa: E402
from podbrief_rank.extract import Extractor  # noqa: E402
from podbrief_rank.segmentation import Sentence, TimedText, split_sentences  # noqa: E402
from podbrief_rank.structure import furniture  # noqa: E402

from podbrief import devset  # noqa: E402

TOP = 5
RANDOM_DRAWS = 50
_FILLER = re.compile(r"\b(?:um+|uh+|you know|i mean|like,)", re.IGNORECASE)
_NUMBER = re.compile(r"\d[\d,.]*")
_QUOTED = re.compile(r'"[^"]*"|\u201c[^\u201d]*\u201d')


def segments_of(ep: devset.DevEpisode) -> list[TimedText]:
    return [TimedText(s.start, s.end, s.text, getattr(s, "speaker", None)) for s in devset.load_segments(ep)]


def random_precision(lab: devset.LabelledEpisode, sentences: list[Sentence], seed: int) -> float:
    """Mean precision@5 of five random non-overlapping 1-3 sentence passages, over RANDOM_DRAWS draws."""
    rng = random.Random(seed)
    total = 0.0
    for _ in range(RANDOM_DRAWS):
        starts = sorted(rng.sample(range(len(sentences)), min(TOP, len(sentences))))
        picks = [" ".join(s.text for s in sentences[i : i + rng.randint(1, 3)]) for i in starts]
        total += sum(lab.is_good(p) for p in picks) / TOP
    return total / RANDOM_DRAWS


def lead_precision(lab: devset.LabelledEpisode, sentences: list[Sentence]) -> float:
    picks = [" ".join(s.text for s in sentences[i : i + 2]) for i in range(0, 2 * TOP, 2)]
    return sum(lab.is_good(p) for p in picks) / TOP


def proxies(items: list, sentences_by_text: dict[str, list[str | None]]) -> dict[str, int]:
    """Counts over the extractor's items of the failure proxies INSIGHTS.md names."""
    out = {"opens_on_reference": 0, "furniture": 0, "question": 0, "filler_clutter": 0, "number_not_in_source": 0}
    for x in items:
        text = x.text
        out["opens_on_reference"] += features.opens_on_reference(text)
        out["furniture"] += any(sentences_by_text.get(x.passage, []))
        out["question"] += "?" in _QUOTED.sub("", text)  # a quoted question is reported speech, not a question
        out["filler_clutter"] += len(_FILLER.findall(text)) > len(text.split()) / 40
        source = x.passage.replace(",", "")
        out["number_not_in_source"] += any(n.replace(",", "").rstrip(".") not in source for n in _NUMBER.findall(text))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", default="heldout", choices=["heldout", "dev", "all"])
    parser.add_argument("--show", action="store_true", help="print each episode's top 5 with its verdict")
    parser.add_argument("--json", help="write the figures to this file")
    args = parser.parse_args()
    if not devset.real_world_dir().exists():
        print(f"the real-world folder {devset.real_world_dir()} is missing", file=sys.stderr)
        return 2
    extractor = Extractor(SentenceTransformerEmbedder(None))
    rows, all_items = [], []
    started = time.perf_counter()
    for ep in devset.episodes():
        if args.split != "all" and ep.split != args.split:
            continue
        lab = devset.labelled(ep)
        moments = devset.labelled(ep, lenient=True)
        segments = segments_of(ep)
        sentences = split_sentences(segments, ep.language)
        items = extractor.extract(segments, None, ep.language, top=TOP)
        good = [lab.is_good(x.passage) for x in items]
        reasons = furniture(sentences)
        by_text = {}
        for x in items:
            by_text[x.passage] = reasons[x.first_sentence : x.last_sentence + 1]
        all_items.append((items, by_text))
        rows.append(
            {
                "episode": ep.id,
                "labelled": len(lab.good),
                "extractor": sum(good) / TOP,
                "extractor_moments": sum(moments.is_good(x.passage) for x in items) / TOP,
                "random_moments": random_precision(moments, sentences, seed=len(rows)),
                "random": random_precision(lab, sentences, seed=len(rows)),
                "lead": lead_precision(lab, sentences),
            }
        )
        if args.show:
            print(f"== {ep.id}")
            for x, g in zip(items, good, strict=True):
                print(f"  [{'GOOD' if g else '----'} {x.score:.2f} {x.start:7.1f}s] {clean_text(x.text)}")
    elapsed = time.perf_counter() - started
    keys = ("extractor", "random", "lead", "extractor_moments", "random_moments")
    mean = {k: sum(r[k] for r in rows) / len(rows) for k in keys}
    counts: dict[str, int] = {}
    for items, by_text in all_items:
        for k, v in proxies(items, by_text).items():
            counts[k] = counts.get(k, 0) + v
    n_items = sum(len(items) for items, _ in all_items)
    print(f"precision@{TOP} on the {args.split} split ({len(rows)} real episodes, {n_items} items, {elapsed:.0f} s)")
    print(f"{'':37} {'good (majority of 3 judges)':^27} | {'right moment (any judge)':^18}")
    print(f"{'episode':28} {'labelled':>8} {'extractor':>9} {'random':>7} {'lead-5':>7} | {'extractor':>9} {'random':>7}")
    for r in rows:
        print(
            f"{r['episode']:28} {r['labelled']:8d} {r['extractor']:9.2f} {r['random']:7.2f} {r['lead']:7.2f} | "
            f"{r['extractor_moments']:9.2f} {r['random_moments']:7.2f}"
        )
    print(
        f"{'mean':28} {'':8} {mean['extractor']:9.2f} {mean['random']:7.2f} {mean['lead']:7.2f} | "
        f"{mean['extractor_moments']:9.2f} {mean['random_moments']:7.2f}"
    )
    print("proxies over the extractor's items: " + ", ".join(f"{k} {v}/{n_items}" for k, v in counts.items()))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"split": args.split, "episodes": rows, "mean": mean, "proxies": counts, "items": n_items}, f, indent=1)
    ok = mean["extractor"] > max(mean["random"], mean["lead"]) and counts["number_not_in_source"] == 0
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
