"""The embedding model is a contract between rank and notify: a vector from another model is refused loudly."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from podbrief_notify.service import Handlers
from podbrief_notify.tables import insights
from podbrief_runtime.errors import PermanentError

from .helpers import insight


async def test_an_insight_embedded_by_another_model_is_refused_loudly(notify):
    strict = Handlers(notify.store, notify.clock, embedding_model="all-MiniLM-L6-v2")
    event = insight("Embedded by a hash of words, not by the interests' model.")
    with pytest.raises(PermanentError, match="PODBRIEF_EMBED_MODEL") as refused:
        await strict.on_insight_created(event)
    assert "'hash'" in str(refused.value) and "'all-MiniLM-L6-v2'" in str(refused.value)
    with notify.store.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(insights)).scalar_one() == 0
    await Handlers(notify.store, notify.clock, embedding_model="hash").on_insight_created(event)
    with notify.store.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(insights)).scalar_one() == 1
