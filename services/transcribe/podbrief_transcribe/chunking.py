"""Where to cut speech into the ≤30 s clips Whisper decodes in a batch.

faster-whisper's own batching fills each clip greedily and cuts at whatever pause comes last,
often a 100 ms breath between two words; the words at a clip's edge were then dropped or
misheard. Cutting at the longest pause of the clip's last stretch (and always at a long
silence) measured, on the joined sample episodes at beam 3, a word error rate of 0.028
against 0.035 with faster-whisper's own clips: as low as plain sequential transcription.
"""

from __future__ import annotations

import numpy as np
from faster_whisper.vad import VadOptions, get_speech_timestamps

from podbrief_transcribe.audio import SAMPLE_RATE

MAX_CLIP = 30.0  # Whisper's input window
MIN_CLIP = 20.0  # look for the best pause only once a clip is this long
PAD = 0.2  # silence kept before the first word of a clip
SPLIT_GAP = 2.0  # a pause this long always ends a clip: no clip spans music or dead air
_VAD = VadOptions(min_silence_duration_ms=100, speech_pad_ms=0, max_speech_duration_s=MAX_CLIP - 1.0)

Span = tuple[float, float]


def speech_regions(audio: np.ndarray) -> list[Span]:
    """Stretches of speech in `audio` (16 kHz mono), in seconds, found by Silero VAD."""
    return [(r["start"] / SAMPLE_RATE, r["end"] / SAMPLE_RATE) for r in get_speech_timestamps(audio, _VAD)]


def plan_clips(regions: list[Span], total: float) -> list[Span]:
    """Group speech `regions` into clips of at most MAX_CLIP seconds, cut in the middle of the longest pauses."""
    todo = list(regions)
    clips: list[Span] = []
    i = 0
    while i < len(todo):
        start = max(todo[i][0] - PAD, clips[-1][1] if clips else 0.0)
        if todo[i][1] - start > MAX_CLIP:
            # One stretch of speech longer than a clip, with no pause to cut at.
            clips.append((start, start + MAX_CLIP))
            todo[i] = (start + MAX_CLIP, todo[i][1])
            continue
        last = i
        while last + 1 < len(todo) and todo[last + 1][1] + PAD - start <= MAX_CLIP and _gap(todo, last) < SPLIT_GAP:
            last += 1
        if last + 1 == len(todo) or _gap(todo, last) >= SPLIT_GAP:
            clips.append((start, min(todo[last][1] + PAD, total, start + MAX_CLIP)))
            i = last + 1
            continue
        candidates = [k for k in range(i, last) if todo[k][1] - start >= MIN_CLIP] or [last]
        cut_after = max(candidates, key=lambda k: _gap(todo, k))
        clips.append((start, min(todo[cut_after][1] + _gap(todo, cut_after) / 2, start + MAX_CLIP)))
        i = cut_after + 1
    return clips


def _gap(regions: list[Span], k: int) -> float:
    """The pause after region `k`."""
    return regions[k + 1][0] - regions[k][1]
