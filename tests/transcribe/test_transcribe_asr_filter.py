"""ASR output fit for extraction: punctuated sentences, no text for what is not speech, no decoding loops."""

from __future__ import annotations

import dataclasses
import re
import wave
from pathlib import Path

import numpy as np
import pytest
from faster_whisper import decode_audio
from faster_whisper.transcribe import Segment as WhisperSegment
from faster_whisper.transcribe import get_compression_ratio
from podbrief_transcribe import asr
from podbrief_transcribe.accuracy import normalise, word_error_rate
from podbrief_transcribe.asr import SpeechFilter, better_punctuated, needs_punctuation, transcribe_path
from podbrief_transcribe.settings import DEFAULT_PROMPT
from transcribe_helpers import SAMPLES

REAL = Path(__file__).resolve().parents[3] / "shared" / "real-world" / "audio"
needs_real = pytest.mark.skipif(not REAL.is_dir(), reason="../shared/real-world is not here")
SENTENCE_END = re.compile(r"[.?!][\"')\]]*$")


def clip(text: str, *, no_speech: float = 0.05, logprob: float = -0.2, start: float = 0.0, end: float = 10.0) -> WhisperSegment:
    """A clip as faster-whisper's batched path returns it, with the scores the filter reads."""
    return WhisperSegment(
        id=1,
        seek=0,
        start=start,
        end=end,
        text=" " + text,
        tokens=[],
        avg_logprob=logprob,
        compression_ratio=get_compression_ratio(text),
        no_speech_prob=no_speech,
        words=None,
        temperature=0.0,
    )


def collapsed(text: str) -> str:
    tokens = text.split()
    return " ".join(tokens[i] for i in SpeechFilter().without_repeats(tokens))


def write_wav(path: Path, audio: np.ndarray) -> Path:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(16000)
        out.writeframes((np.clip(audio, -1, 1) * 32767).astype(np.int16).tobytes())
    return path


def unpunctuated_stretches(text: str, longer_than: int = 35) -> list[str]:
    """Runs of more than `longer_than` words with no , ; : . ! ? (what rank's run-on splitter exists for)."""
    return [run for run in re.split(r"[,;:.!?](?=\s|$)", text) if len(run.split()) > longer_than]


# --- the filter on constructed clips -------------------------------------------------------------------------


def test_a_clip_whisper_thinks_is_no_speech_and_decoded_unsurely_is_dropped():
    assert SpeechFilter().rejects(clip("Hey, how are you?", no_speech=0.94, logprob=-1.28, end=2.5)) == "no speech"


def test_a_clip_with_low_no_speech_probability_is_kept_however_unsure():
    """Hard real speech (an accent, a phone line) decodes unsurely but is still speech."""
    assert SpeechFilter().rejects(clip("the narrative would be tedious", no_speech=0.3, logprob=-1.6)) is None


def test_a_clip_whisper_thinks_is_no_speech_but_decoded_confidently_is_kept():
    """faster-whisper's own rule: a confident decode vouches for speech whatever the no-speech probability."""
    text = "People who sleep less than six hours a night make roughly thirty percent more errors at work the next day."
    assert SpeechFilter().rejects(clip(text, no_speech=0.7, logprob=-0.3, end=6.0)) is None


def test_a_confident_loop_on_a_no_speech_clip_is_dropped():
    loop = "1 cm x 2 cm" + " x 2 cm" * 30
    assert SpeechFilter().rejects(clip(loop, no_speech=0.87, logprob=-0.14)) == "no speech"


def test_a_single_word_for_seconds_of_no_speech_is_dropped_however_confident():
    """Whisper writes " you" for silence; at -0.94 it passes faster-whisper's log-probability rule."""
    assert SpeechFilter().rejects(clip("you", no_speech=0.86, logprob=-0.94, end=3.0)) == "no speech"
    assert SpeechFilter().rejects(clip("you", no_speech=0.2, logprob=-0.94, end=3.0)) is None
    assert SpeechFilter().rejects(clip("you", no_speech=0.2, logprob=-0.94, end=12.0)) == "too few words"


def test_a_long_clip_with_a_few_words_is_dropped_whatever_whisper_thinks_of_it():
    """Speech runs at 2 words a second or more (every clip of the real and sample speech); Whisper's text for noise
    that voice detection let through was a handful of words ("I'm sorry.") at a low no-speech probability."""
    assert SpeechFilter().rejects(clip("I'm sorry.", no_speech=0.3, logprob=-0.5, end=12.0)) == "too few words"
    assert SpeechFilter().rejects(clip("Yeah. Right.", no_speech=0.3, logprob=-0.5, end=3.0)) is None
    slow_speech = "well I think that the answer is probably somewhere in the middle honestly"
    assert SpeechFilter().rejects(clip(slow_speech, no_speech=0.1, logprob=-0.3, end=12.0)) is None


def test_a_clip_that_only_names_a_sound_is_dropped():
    for label in ("Music", "(upbeat music)", "[APPLAUSE]", "Music playing"):
        assert SpeechFilter().rejects_text(label) == "sound label"
    assert SpeechFilter().rejects_text("The music industry never recovered.") is None


def test_the_no_speech_rule_can_be_turned_off():
    assert SpeechFilter(no_speech_threshold=None).rejects(clip("you", no_speech=0.99, logprob=-3.0, end=2.0)) is None


def test_a_filter_turned_off_keeps_every_clip_as_decoded():
    off = SpeechFilter(enabled=False)
    assert off.rejects(clip("you", no_speech=0.99, logprob=-3.0)) is None
    assert off.without_repeats(["Thank", "you.", "Thank", "you.", "Thank", "you."]) == [0, 1, 2, 3, 4, 5]
    assert off.rejects_text("Let's get started! " * 20, DEFAULT_PROMPT) is None
    assert off.rejects_text(". . .") is None
    assert off.rejects_text("  ") == "no words"


def test_a_phrase_said_over_and_over_is_kept_once():
    assert collapsed("Thank you. Thank you. Thank you. Thank you.") == "Thank you."
    assert collapsed("So I said the the the the the answer is no.") == "So I said the answer is no."
    assert collapsed("We're going to get started! We're going to get started!") == "We're going to get started!"


def test_a_loop_keeps_its_last_saying_so_the_sentence_goes_on():
    assert collapsed("and no, no, no, no way") == "and no way"


def test_ordinary_repetition_in_speech_is_kept():
    for text in ("I know, I know.", "very, very good", "that that is the point", "it was the best of times, it was the worst"):
        assert collapsed(text) == text


def test_a_loop_that_still_compresses_too_well_after_collapsing_is_dropped():
    loop = " ".join(f"chapter {n} of the show," for n in range(1, 60))  # counting: no phrase repeats as it is
    assert collapsed(loop) == loop
    assert SpeechFilter().rejects_text(loop) == "loop"
    assert SpeechFilter().rejects_text("A gold ring will please most any girl. The long journey home took a year.") is None


def test_a_clip_that_only_repeats_the_prompt_is_dropped():
    assert SpeechFilter().rejects_text("Let's get started!", DEFAULT_PROMPT) == "prompt echo"
    assert SpeechFilter().rejects_text("Let's get started! Hello, and welcome back to the show.", DEFAULT_PROMPT) == "prompt echo"
    assert (
        SpeechFilter().rejects_text("Today we're talking about technology, science and the news.", DEFAULT_PROMPT)
        == "prompt echo"
    )
    assert SpeechFilter().rejects_text("Let's get started on the budget.", DEFAULT_PROMPT) is None
    assert SpeechFilter().rejects_text("Let's get started. The budget is due.", DEFAULT_PROMPT) is None
    assert SpeechFilter().rejects_text("Hello, and welcome back to the showroom.", DEFAULT_PROMPT) is None
    assert SpeechFilter().rejects_text("Let's get started!", None) is None


def test_a_clip_of_only_punctuation_is_dropped():
    assert SpeechFilter().rejects_text(". . .") == "no words"
    assert SpeechFilter().rejects_text("...") == "no words"


# --- the filter on real speech, through the service's transcription path ---------------------------------------


@pytest.mark.slow
@needs_real
def test_noise_and_silence_after_a_real_clip_add_no_words(tmp_path: Path, engine):
    rng = np.random.default_rng(0)
    jfk = decode_audio(str(REAL / "jfk_inaugural.flac"))
    tail = np.concatenate(
        [
            np.zeros(16000 * 5),
            rng.standard_normal(16000 * 10) * 0.05,
            0.1 * np.sin(np.arange(16000 * 10) / 16000 * 2 * np.pi * 120),
        ]
    )
    path = write_wav(tmp_path / "jfk-and-tail.wav", np.concatenate([jfk, tail]).astype(np.float32))
    transcript = transcribe_path(path, engine)
    reference = (REAL / "jfk_inaugural.ref.txt").read_text()
    assert word_error_rate(reference, transcript.text) < 0.1
    assert len(normalise(transcript.text).split()) <= len(normalise(reference).split())
    assert transcript.segments[-1].end < 12.0


@pytest.mark.slow
@needs_real
def test_non_speech_that_voice_detection_lets_through_is_dropped(tmp_path: Path, engine, monkeypatch):
    """Silero VAD passes music and some noise as speech; Whisper then writes text for it, which the filter drops."""
    jfk = decode_audio(str(REAL / "jfk_inaugural.flac"))
    path = write_wav(tmp_path / "jfk-and-silence.wav", np.concatenate([jfk, np.zeros(16000 * 15, np.float32)]))
    found = asr.speech_regions
    monkeypatch.setattr(asr, "speech_regions", lambda audio: [*found(audio), (14.0, 26.0)])
    reference = (REAL / "jfk_inaugural.ref.txt").read_text()

    unfiltered = transcribe_path(path, dataclasses.replace(engine, speech_filter=SpeechFilter(enabled=False)))
    assert len(normalise(unfiltered.text).split()) > len(normalise(reference).split()), "no hallucination to filter"
    assert unfiltered.segments[-1].start >= 13.5

    filtered = transcribe_path(path, engine)
    assert word_error_rate(reference, filtered.text) < 0.1
    assert len(normalise(filtered.text).split()) <= len(normalise(reference).split())
    assert all(segment.end <= 12.0 for segment in filtered.segments)


# --- punctuation ---------------------------------------------------------------------------------------------


def test_a_clip_needs_punctuation_when_it_runs_on_or_stops_mid_sentence():
    run_on = "the real value is in the trend weights and the weights never left the building right you can read " * 2
    assert needs_punctuation(run_on + "and that is it.")
    assert needs_punctuation("So yeah, protect your sleep")
    assert not needs_punctuation("A gold ring will please most any girl. The long journey home took a year!")
    assert not needs_punctuation("")


def test_a_prompted_decoding_is_kept_only_when_better_punctuated_with_no_words_lost():
    plain = "a leak of source code travels across the internet almost instantly yet it rarely hurts an AI company " * 3
    punctuated = plain.replace("instantly", "instantly.").replace("company", "company,")
    assert better_punctuated(punctuated, plain)
    assert not better_punctuated(" ".join(punctuated.split()[:40]) + ".", plain)  # a sentence skipped
    assert not better_punctuated(plain, plain)
    assert better_punctuated("So yeah, protect your sleep.", "so yeah protect your sleep")
    assert not better_punctuated("So yeah, protect your sleep", "so yeah protect your sleep")


@pytest.mark.slow
def test_every_clip_of_a_sample_episode_ends_on_a_sentence_mark_with_no_run_on(engine, monkeypatch):
    """Batched tiny.en left a 71-word run-on in ep3 ("...the real value is in the trend weights and the weights
    never left the building right you can read the code all day but without the weights..."); that clip is
    decoded again with the prompt, and only such clips are."""
    asked: list[dict] = []
    transcribe = engine.pipeline.transcribe
    monkeypatch.setattr(engine.pipeline, "transcribe", lambda *a, **kw: asked.append(kw) or transcribe(*a, **kw))
    transcript = transcribe_path(SAMPLES / "audio" / "ep3.mp3", engine)
    assert [kw["initial_prompt"] for kw in asked] == [None, DEFAULT_PROMPT]
    assert 0 < len(asked[1]["clip_timestamps"]) < len(asked[0]["clip_timestamps"]) / 2
    assert all(SENTENCE_END.search(segment.text) for segment in transcript.segments), [s.text[-40:] for s in transcript.segments]
    assert unpunctuated_stretches(transcript.text) == []
    assert word_error_rate((SAMPLES / "scripts" / "ep3.txt").read_text(), transcript.text) < 0.06


@pytest.mark.slow
@needs_real
def test_read_sentences_of_a_real_recording_come_out_as_sentences(engine):
    transcript = transcribe_path(REAL / "osr_us_000_0034_8k.wav", engine)
    sentences = [s for s in re.split(r"(?<=[.?!])\s+", transcript.text.strip()) if s]
    assert 9 <= len(sentences) <= 11  # the recording reads 10 sentences
    assert word_error_rate((REAL / "osr_us_000_0034_8k.ref.txt").read_text(), transcript.text) < 0.06


@pytest.mark.slow
def test_the_prompt_is_not_in_the_transcript_of_speech(engine):
    transcript = transcribe_path(SAMPLES / "audio" / "ep1.mp3", engine)
    assert "let's get started" not in transcript.text.lower()
    assert "talking about technology, science" not in transcript.text.lower()


@pytest.mark.parametrize(
    ("hint", "expected"),
    [("en-US", "en"), ("en_US", "en"), ("de", "de"), ("english", None), ("eng", None), (None, None)],
)
def test_a_language_hint_is_normalised_and_an_unknown_code_leaves_detection_to_the_model(hint, expected):
    from types import SimpleNamespace

    from podbrief_transcribe.asr import _Run

    multilingual = SimpleNamespace(
        language=None, multilingual=True, model=SimpleNamespace(supported_languages=["en", "de", "fr"])
    )
    assert _Run(multilingual, 60.0, None, None, language=hint).language == expected
