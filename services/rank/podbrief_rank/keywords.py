"""Keywords of an insight, KeyBERT-style.

Candidate n-grams are embedded with the same model; those closest to the passage win, diversified by MMR.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from podbrief_rank.embedder import Embedder

_STOPWORDS = frozenset(
    """a about above after again against all almost also am an and any are aren't around as at be because been before
    being below between both but by can can't could couldn't did didn't do does doesn't doing don't down during
    each even every few for from further get gets got had has have having he her here hers herself him himself his
    how i if in into is isn't it it's its itself just least less let's like lot made make makes many may me might
    more most much must my myself never no nor not now of off on once one only or other our ours ourselves out
    over own per pretty probably quite rather really right roughly said same say says she should so some still
    such than that that's the their theirs them themselves then there there's these they they're thing things
    think this those though through thus to too under until up upon us very was wasn't way we we're well were what
    when where which while who whom why will with without won't would yeah yes yet you you'll you're your yours um
    uh okay ok actually basically literally know going go lot lots kind sort new good great big small every single
    whole next last first second""".split()  # noqa: SIM905
)
_TOKEN = re.compile(r"[A-Za-z][A-Za-z0-9'\-]*|\d[\d,.]*%?")


def candidates(text: str, max_ngram: int = 3) -> list[str]:
    """Distinct lower-cased 1..`max_ngram`-grams inside one sentence that neither start nor end with a stopword."""
    found: dict[str, None] = {}
    for sentence in re.split(r"[.!?;:,]", text):
        tokens = [t.lower().strip("'-") for t in _TOKEN.findall(sentence)]
        for n in range(1, max_ngram + 1):
            for i in range(len(tokens) - n + 1):
                gram = tokens[i : i + n]
                if gram[0] in _STOPWORDS or gram[-1] in _STOPWORDS or any(len(t) < 2 for t in gram):
                    continue
                if n == 1 and (len(gram[0]) < 4 or gram[0][0].isdigit()):
                    continue
                found[" ".join(gram)] = None
    return list(found)


def keywords_for(
    texts: Sequence[str], vectors: np.ndarray, embedder: Embedder, top: int = 4, diversity: float = 0.5, pool: int = 12
) -> list[list[str]]:
    """Keywords for each text, given its unit vector; all candidates of all texts are embedded in one call."""
    per_text = [candidates(t) for t in texts]
    vocabulary = list(dict.fromkeys(c for cands in per_text for c in cands))
    if not vocabulary:
        return [[] for _ in texts]
    index = {c: i for i, c in enumerate(vocabulary)}
    cand_vectors = embedder.encode(vocabulary)
    result: list[list[str]] = []
    for cands, vector in zip(per_text, vectors, strict=True):
        if not cands:
            result.append([])
            continue
        rows = cand_vectors[[index[c] for c in cands]]
        relevance = rows @ vector
        shortlist = np.argsort(-relevance)[:pool]
        result.append(_mmr([cands[i] for i in shortlist], rows[shortlist], relevance[shortlist], top, diversity))
    return result


def _mmr(words: list[str], vectors: np.ndarray, relevance: np.ndarray, top: int, diversity: float) -> list[str]:
    chosen: list[int] = [int(relevance.argmax())]
    while len(chosen) < min(top, len(words)):
        redundancy = (vectors @ vectors[chosen].T).max(axis=1)
        mmr = (1.0 - diversity) * relevance - diversity * redundancy
        mmr[chosen] = -np.inf
        chosen.append(int(mmr.argmax()))
    return [words[i] for i in chosen]
