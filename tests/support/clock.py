"""A clock the test moves by hand, for everything that takes `clock=` (jobs.clock.Clock)."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

# Where end-to-end apps' clocks start: a Tuesday, midday in São Paulo and afternoon in Lisbon and Rome (the same date
# in every zone the tests use), so a test's dates never depend on the day or hour it runs.
E2E_START = datetime(2030, 3, 12, 15, 0, tzinfo=UTC)


class FakeClock:
    """Stands still (moved by `advance`), or with `ticking` runs on from `now` at the wall clock's pace: for a whole
    application whose retries, leases and timeouts must see time pass."""

    def __init__(self, now: datetime, *, ticking: bool = False) -> None:
        self.now = now
        self._started = time.monotonic() if ticking else None

    def __call__(self) -> datetime:
        if self._started is None:
            return self.now
        return self.now + timedelta(seconds=time.monotonic() - self._started)

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def e2e_today(zone: str = "America/Sao_Paulo") -> date:
    """The date at E2E_START in `zone`: "today" for an end-to-end app all through a test."""
    return E2E_START.astimezone(ZoneInfo(zone)).date()
