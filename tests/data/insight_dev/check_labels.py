"""Check that every label quote is found verbatim in its episode: `python tests/data/insight_dev/check_labels.py`."""

from collections import Counter

from podbrief import devset

if __name__ == "__main__":
    counts: Counter[str] = Counter()
    bad = 0
    for ep in devset.episodes():
        try:
            counts[ep.id] = len(devset.labelled(ep).good)
        except ValueError as exc:
            print("MISSING", exc)
            bad += 1
    for ep in devset.episodes():
        print(f"{ep.id:28} {ep.split:8} {counts[ep.id]:3} good passages")
    raise SystemExit(1 if bad else 0)
