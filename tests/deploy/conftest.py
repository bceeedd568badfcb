from __future__ import annotations

from collections.abc import Iterator

import pytest

from just_ingredients.config import get_settings


@pytest.fixture(autouse=True)
def _fresh_settings() -> Iterator[None]:
    """Commands run in-process read their env through the cached get_settings()."""
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()
