"""Planning the ≤30 s clips Whisper decodes: cut at the longest pause, never inside speech."""

from __future__ import annotations

from podbrief_transcribe.chunking import MAX_CLIP, PAD, plan_clips


def _covers(clips, regions):
    return all(any(start <= r0 and r1 <= end for start, end in clips) for r0, r1 in regions)


def test_clips_never_exceed_thirty_seconds_and_keep_every_region_whole():
    regions = [(i * 3.0, i * 3.0 + 2.6) for i in range(40)]  # 2.6 s of speech, 0.4 s pauses, for 2 minutes
    clips = plan_clips(regions, 120.0)
    assert all(end - start <= MAX_CLIP + 1e-9 for start, end in clips)
    assert _covers(clips, regions)
    assert all(a[1] <= b[0] for a, b in zip(clips, clips[1:], strict=False))


def test_a_clip_is_cut_in_the_middle_of_its_longest_late_pause():
    # Pauses of 0.1 s everywhere except one of 1.0 s after 22 s of speech.
    regions = [(0.0, 10.0), (10.1, 22.0), (23.0, 28.0), (28.1, 40.0)]
    clips = plan_clips(regions, 40.0)
    assert clips[0] == (0.0, 22.5)
    assert clips[1][0] == 23.0 - PAD  # the pause itself is not transcribed


def test_a_long_silence_always_ends_a_clip():
    regions = [(1.0, 5.0), (12.0, 15.0)]
    clips = plan_clips(regions, 20.0)
    assert clips == [(1.0 - PAD, 5.0 + PAD), (12.0 - PAD, 15.0 + PAD)]


def test_speech_longer_than_a_clip_without_any_pause_is_cut_hard():
    clips = plan_clips([(0.0, 70.0)], 70.0)
    assert clips == [(0.0, 30.0), (30.0, 60.0), (60.0, 70.0)]


def test_no_speech_means_no_clips():
    assert plan_clips([], 60.0) == []
