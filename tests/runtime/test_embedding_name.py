"""The embedding model's name is one rule in every service, so the name on each vector can be checked."""

from __future__ import annotations

from podbrief_runtime.embedding import DEFAULT_EMBEDDING_MODEL, bundled_model_path, model_name


def test_the_bundled_model_has_one_name_however_it_is_chosen():
    assert model_name(None) == model_name(bundled_model_path()) == DEFAULT_EMBEDDING_MODEL == "all-MiniLM-L6-v2"
    assert model_name(bundled_model_path() + "/") == DEFAULT_EMBEDDING_MODEL


def test_another_model_is_named_by_its_folder_or_its_name():
    assert model_name("/models/all-mpnet-base-v2") == "all-mpnet-base-v2"
    assert model_name("sentence-transformers/all-mpnet-base-v2") == "all-mpnet-base-v2"
