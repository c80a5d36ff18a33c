"""Packaged Whisper models: base assembled from its two PyPI parts, and the language it is told or detects."""

from __future__ import annotations

import hashlib
import importlib.util
import threading
from pathlib import Path

import pytest
from podbrief_transcribe import asr, models
from podbrief_transcribe.accuracy import word_error_rate
from podbrief_transcribe.asr import load_engine, resolve_model, transcribe_path
from podbrief_transcribe.models import BASE, ModelUnavailable, SplitModel, assemble
from podbrief_transcribe.settings import Settings

REAL = Path(__file__).resolve().parents[3] / "shared" / "real-world" / "audio"
BASE_INSTALLED = all(importlib.util.find_spec(package) for package, _ in BASE.parts)
needs_base = pytest.mark.skipif(not BASE_INSTALLED, reason="the Whisper base packages are not installed: `make models-base`")


def fake_split_model(site: Path, name: str, parts: list[bytes], corrupt: bool = False) -> SplitModel:
    """A model in two packages under `site` (prepend it to sys.path), shaped like the base packages."""
    first, second = f"{name}_part1", f"{name}_part2"
    for package, part, index in ((first, parts[0], 1), (second, parts[1], 2)):
        data = site / package / "data"
        data.mkdir(parents=True)
        (site / package / "__init__.py").write_text('"""Model data only."""\n')
        (data / f"model.bin.part{index}").write_bytes(part if not (corrupt and index == 2) else part[:-1] + b"!")
    (site / first / "data" / "config.json").write_text('{"alignment_heads": []}')
    (site / first / "data" / "vocabulary.txt").write_text("hello\n")
    whole = b"".join(parts)
    return SplitModel(
        name=name,
        parts=((first, "data/model.bin.part1"), (second, "data/model.bin.part2")),
        files=((first, "data/config.json"), (first, "data/vocabulary.txt")),
        size=len(whole),
        sha256=hashlib.sha256(whole).hexdigest(),
        install_hint="install the fake parts",
    )


@pytest.fixture
def site(tmp_path: Path, monkeypatch) -> Path:
    folder = tmp_path / "site"
    folder.mkdir()
    monkeypatch.syspath_prepend(str(folder))
    return folder


def test_the_parts_are_joined_in_order_into_a_complete_model_folder(site: Path, tmp_path: Path):
    model = fake_split_model(site, "fakea", [b"first half|", b"second half"])
    folder = assemble(model, tmp_path / "data")
    assert folder == tmp_path / "data" / "models" / "whisper-fakea"
    assert (folder / "model.bin").read_bytes() == b"first half|second half"
    assert (folder / "config.json").read_text() == '{"alignment_heads": []}'
    assert (folder / "vocabulary.txt").is_file()
    assert sorted(p.name for p in folder.parent.iterdir()) == ["whisper-fakea"]  # no build folder left behind


def test_assembling_again_reuses_the_folder_without_rewriting_it(site: Path, tmp_path: Path):
    model = fake_split_model(site, "fakeb", [b"a" * 1000, b"b" * 1000])
    written = (assemble(model, tmp_path) / "model.bin").stat().st_mtime_ns
    assert (assemble(model, tmp_path) / "model.bin").stat().st_mtime_ns == written


def test_a_part_with_the_wrong_content_is_refused_and_leaves_nothing(site: Path, tmp_path: Path):
    model = fake_split_model(site, "fakec", [b"a" * 1000, b"b" * 1000], corrupt=True)
    with pytest.raises(ModelUnavailable, match="SHA-256"):
        assemble(model, tmp_path)
    assert list((tmp_path / "models").iterdir()) == []


def test_a_damaged_model_folder_is_assembled_again(site: Path, tmp_path: Path):
    model = fake_split_model(site, "faked", [b"a" * 1000, b"b" * 1000])
    folder = assemble(model, tmp_path)
    (folder / "model.bin").write_bytes(b"truncated")
    assert (assemble(model, tmp_path) / "model.bin").read_bytes() == b"a" * 1000 + b"b" * 1000


def test_missing_packages_say_how_to_install_them(tmp_path: Path):
    model = SplitModel("nothing", (("podbrief_no_such_package", "data/x"),), (), 1, "0" * 64, "run `make models-nothing`")
    with pytest.raises(ModelUnavailable, match="make models-nothing"):
        assemble(model, tmp_path)


def test_processes_assembling_at_once_all_get_the_same_complete_folder(site: Path, tmp_path: Path):
    model = fake_split_model(site, "fakee", [b"x" * 3_000_000, b"y" * 3_000_000])
    folders: list[Path] = []
    threads = [threading.Thread(target=lambda: folders.append(assemble(model, tmp_path))) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(folders) == 4 and len(set(folders)) == 1
    assert hashlib.sha256((folders[0] / "model.bin").read_bytes()).hexdigest() == model.sha256
    assert sorted(p.name for p in (tmp_path / "models").iterdir()) == ["whisper-fakee"]


def test_the_model_setting_base_resolves_to_the_assembled_folder(site: Path, tmp_path: Path, monkeypatch):
    model = fake_split_model(site, "base", [b"a", b"b"])
    monkeypatch.setitem(models.PACKAGED, "base", model)
    assert resolve_model("base", tmp_path) == (str(tmp_path / "models" / "whisper-base"), "base")
    assert resolve_model("tiny.en", tmp_path) == resolve_model(None, tmp_path)


# --- the real base model ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def base_engine(tmp_path_factory):
    """Whisper base, assembled from the installed packages into a fresh data folder, with default tuning."""
    data_dir = tmp_path_factory.mktemp("data")
    return load_engine(Settings(data_dir=data_dir, whisper_model="base"))


@pytest.mark.slow
@needs_base
def test_base_is_assembled_from_its_packages_to_the_published_size_and_hash(base_engine, tmp_path: Path):
    folder = assemble(BASE, tmp_path)
    model_bin = folder / "model.bin"
    assert model_bin.stat().st_size == 145_217_532
    digest = hashlib.sha256(model_bin.read_bytes()).hexdigest()
    assert digest == "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"
    assert base_engine.name == "base" and base_engine.multilingual


@pytest.mark.slow
@needs_base
def test_base_detects_english_and_transcribes_a_real_clip_with_punctuation(base_engine, monkeypatch):
    asked: list[dict] = []
    transcribe = base_engine.pipeline.transcribe
    monkeypatch.setattr(base_engine.pipeline, "transcribe", lambda *a, **kw: asked.append(kw) or transcribe(*a, **kw))
    transcript = transcribe_path(REAL / "librispeech_2412-153948-0000.flac", base_engine)
    reference = (REAL / "librispeech_2412-153948-0000.ref.txt").read_text()
    assert transcript.language == "en" and transcript.model == "base"
    assert word_error_rate(reference, transcript.text) < 0.1
    assert transcript.text.endswith(".") and transcript.text.count(",") >= 2
    assert [(kw["language"], kw["initial_prompt"]) for kw in asked] == [("en", None)]  # punctuated: not decoded again


@pytest.mark.slow
@needs_base
def test_base_uses_the_language_it_is_told_without_detecting_it(base_engine, monkeypatch):
    def no_detection(*args, **kwargs):
        raise AssertionError("the language was given; nothing to detect")

    monkeypatch.setattr(base_engine.model, "detect_language", no_detection)
    transcript = transcribe_path(REAL / "jfk_inaugural.flac", base_engine, language="en-US")
    assert transcript.language == "en"
    assert word_error_rate((REAL / "jfk_inaugural.ref.txt").read_text(), transcript.text) < 0.1


@pytest.mark.slow
@needs_base
def test_the_english_prompt_is_not_given_for_audio_in_another_language(base_engine, monkeypatch):
    asked: list[dict] = []
    transcribe = base_engine.pipeline.transcribe
    monkeypatch.setattr(base_engine.pipeline, "transcribe", lambda *a, **kw: asked.append(kw) or transcribe(*a, **kw))
    monkeypatch.setattr(asr, "needs_punctuation", lambda text: True)  # every clip would be decoded again with it

    assert transcribe_path(REAL / "jfk_inaugural.flac", base_engine, language="de").language == "de"
    assert [(kw["language"], kw["initial_prompt"]) for kw in asked] == [("de", None)]

    asked.clear()
    assert transcribe_path(REAL / "jfk_inaugural.flac", base_engine, language="en").language == "en"
    assert [(kw["language"], kw["initial_prompt"]) for kw in asked] == [("en", None), ("en", base_engine.initial_prompt)]


@pytest.mark.slow
def test_an_english_only_model_transcribes_as_english_whatever_it_is_told(engine):
    transcript = transcribe_path(REAL / "ami_es2011a_40s_46s.wav", engine, language="de")
    assert transcript.language == "en"
    assert "Abigail" in transcript.text


@pytest.mark.slow
@needs_base
def test_base_loads_from_the_data_folder_without_asking_a_model_hub(tmp_path: Path, monkeypatch):
    import faster_whisper.transcribe
    import tokenizers

    def no_hub(*args, **kwargs):
        raise AssertionError(f"asked a model hub for {args}")

    monkeypatch.setattr(faster_whisper.transcribe, "download_model", no_hub)
    monkeypatch.setattr(tokenizers.Tokenizer, "from_pretrained", no_hub)
    engine = load_engine(Settings(data_dir=tmp_path, whisper_model="base", whisper_batch_size=1))
    transcript = transcribe_path(REAL / "ami_es2011a_40s_46s.wav", engine, language="en")
    assert "Abigail" in transcript.text
