"""One "today" for a person (domain.time): /today and the morning summary name the same day."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select

from domain.summary import queue_summaries
from storage.models import Booking, Outbox, Property, User
from tests.e2e.conftest import OWNER
from tests.e2e.harness import Lumina, running_lumina
from tests.support.clock import FakeClock

# 01:30 in Lisbon on 10 March is still 22:30 on 9 March in São Paulo, the installation's default zone
NOW = datetime(2030, 3, 10, 1, 30, tzinfo=UTC)
LISBON_DAY = date(2030, 3, 10)
T = {
    "en": {"tomorrow": "Tomorrow", "arrivals": "Arrivals (1)", "zone": "Time zone: automatic, Europe/Lisbon",
           "sp": "Time zone: America/Sao_Paulo"},
    "pt-BR": {"tomorrow": "Amanhã", "arrivals": "Chegadas (1)", "zone": "Fuso horário: automático, Europe/Lisbon",
              "sp": "Fuso horário: America/Sao_Paulo"},
}  # fmt: skip


async def today_and_tomorrow(lumina: Lumina, language: str) -> list[str]:
    text = (await lumina.say(OWNER, "/today", language_code=language))[0]["text"]
    return text.split(T[language]["tomorrow"])


async def test_a_lisbon_host_lives_on_lisbon_s_day_in_today_and_the_summary(database_url, tmp_path, language):
    t = T[language]
    clock = FakeClock(NOW)
    async with running_lumina(database_url, tmp_path, clock=clock) as lumina:
        assert lumina.app.settings.default_timezone == "America/Sao_Paulo"
        await lumina.say(OWNER, f"/start {lumina.app.setup_code}", language_code=language)
        async with lumina.sessions.begin() as session:
            prop = Property(name="Alfama Flat", timezone="Europe/Lisbon", export_token="1-x", currency="EUR")
            session.add(prop)
            await session.flush()
            session.add(Booking(property_id=prop.id, source="direct", kind="reservation", uid="d1", export_uid="d1-e",
                                check_in=LISBON_DAY, check_out=date(2030, 3, 13), first_seen_at=NOW))  # fmt: skip
            owner = await session.scalar(select(User).where(User.telegram_id == OWNER))
            assert owner is not None and owner.timezone is None  # no zone of their own: their one property's
            owner.summary_hour = 1
        today, tomorrow = await today_and_tomorrow(lumina, language)
        assert t["arrivals"] in today and "Alfama Flat" in today and t["arrivals"] not in tomorrow
        async with lumina.sessions.begin() as session:
            assert await queue_summaries(session, now=clock(), default_zone=ZoneInfo("America/Sao_Paulo")) == 1
            keys = (await session.scalars(select(Outbox.idempotency_key).where(Outbox.kind == "summary"))).all()
        assert [key.rsplit(":", 1)[1] for key in keys] == [LISBON_DAY.isoformat()]

        # /settings shows the zone it follows, and the host can choose another: then their day is São Paulo's
        await lumina.say(OWNER, "/settings", language_code=language)
        await lumina.tap(OWNER, t["zone"], language_code=language)
        await lumina.tap(OWNER, "America/Sao_Paulo", language_code=language)
        assert any(t["sp"] in text for text, _data in lumina.buttons(lumina.screen(OWNER)))
        today, tomorrow = await today_and_tomorrow(lumina, language)
        assert t["arrivals"] not in today and t["arrivals"] in tomorrow
        await lumina.tap(OWNER, t["sp"], language_code=language)
        await lumina.tap(OWNER, "Auto", language_code=language)  # back to following the property
        await lumina.say(OWNER, "/settings", language_code=language)
        assert any(t["zone"] in text for text, _data in lumina.buttons(lumina.screen(OWNER)))
