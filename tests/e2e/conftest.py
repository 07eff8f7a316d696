"""Fixtures for the end-to-end tests: LUMINA's real application against the fake Bot API."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.e2e.harness import Lumina, running_lumina
from tests.support.fake_bot_api import fake_api

__all__ = ["fake_api"]

OWNER = 5001


@pytest.fixture
async def lumina(database_url, tmp_path) -> AsyncIterator[Lumina]:
    async with running_lumina(database_url, tmp_path) as running:
        yield running


@pytest.fixture(params=["pt-BR", "en"])
def language(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
async def owner(lumina: Lumina, language: str) -> Lumina:
    """A LUMINA whose owner (OWNER) speaks `language`."""
    await lumina.say(OWNER, f"/start {lumina.app.setup_code}", language_code=language)
    return lumina
