"""Fixtures for end-to-end tests that drive the real aiogram Bot against a fake Bot API."""

import sys
from pathlib import Path

# tests/ is not a package and pytest's default import mode only puts tests/e2e on sys.path,
# so make the project root importable for ``tests.support``.
_ROOT = str(Path(__file__).resolve().parents[2])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from tests.support.fake_bot_api import fake_api  # noqa: E402

__all__ = ["fake_api"]
