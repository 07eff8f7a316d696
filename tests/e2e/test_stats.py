"""/stats through the fake Bot API: pick the property and the period, get the figures, the chart and the files."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from babel.dates import get_month_names
from openpyxl import load_workbook

from domain.stats import month_start
from tests.e2e.conftest import OWNER
from tests.e2e.harness import Lumina
from tests.support.clock import e2e_today
from tests.support.stats_data import seed_month

VIEWER, MANAGER = 7003, 8004
TZ = ZoneInfo("America/Sao_Paulo")

T = {
    "pt-BR": {
        "locale": "pt_BR",
        "button": "📊 Números",
        "all": "Todos os imóveis",
        "last_month": "Mês passado",
        "revenue": "Receita: R$ 1.300,00 (ano passado R$ 0,00, +R$ 1.300,00)",
        "adr": "ADR: R$ 185,71 (ano passado —)",
        "unpriced": "5 de 12 noites sem preço",
        "blocked": "Bloqueadas por você: 2",
        "platform": "Booking.com: 5 noites",
        "header": ["imóvel", "plataforma", "check-in", "check-out", "noites", "hóspedes", "preço", "moeda",
                   "situação"],  # fmt: skip
        "statuses": ["encerrada", "reservada", "cancelada", "reservada"],
        "summary": "Resumo",
        "nobody": "Só proprietários e gerentes veem os números.",
    },
    "en": {
        "locale": "en",
        "button": "📊 Numbers",
        "all": "All properties",
        "last_month": "Last month",
        "revenue": "Revenue: R$1,300.00 (last year R$0.00, +R$1,300.00)",
        "adr": "ADR: R$185.71 (last year —)",
        "unpriced": "5 of 12 nights without a price",
        "blocked": "Blocked by you: 2",
        "platform": "Booking.com: 5 nights",
        "header": ["property", "platform", "check-in", "check-out", "nights", "guests", "price", "currency",
                   "status"],  # fmt: skip
        "statuses": ["ended", "booked", "cancelled", "booked"],
        "summary": "Summary",
        "nobody": "Only owners and managers see the numbers.",
    },
}


def last_month() -> date:
    return month_start(e2e_today(), -1)


async def test_figures_chart_and_files_in_both_languages(owner: Lumina, language: str):
    t = T[language]
    first = last_month()
    async with owner.sessions.begin() as session:
        ids = await seed_month(session, first)
    await owner.say(OWNER, "/menu")
    await owner.tap(OWNER, t["button"])
    picker = owner.keyboard(OWNER)
    labels = [text for text, _data in owner.buttons(picker)]
    assert "✅ " + t["all"] in labels and "Apto 101" in labels and "Beach house" in labels
    assert "Old flat" not in labels  # archived

    await owner.tap(OWNER, "Apto 101")  # the picker is edited in place, the choice marked
    assert "✅ Apto 101" in [text for text, _data in owner.buttons(owner.keyboard(OWNER))]
    calls = await owner.tap(OWNER, t["last_month"])
    text = owner.api.sent_messages(OWNER)[-2]["text"].replace("\xa0", " ")  # the figures, then the chart
    month_name = get_month_names("wide", locale=t["locale"])[first.month].capitalize()
    assert "Apto 101" in text and f"{month_name} {first.year}" in text
    for key in ("revenue", "adr", "unpriced", "blocked", "platform"):
        assert t[key] in text, (key, text)
    assert "Beach house" not in text and "US$" not in text
    photo = owner.api.photos(OWNER)[-1]
    assert photo.content.startswith(b"\x89PNG") and len(photo.content) > 10_000
    assert "sendPhoto" in calls

    await owner.tap(OWNER, "CSV")
    sent = owner.api.documents(OWNER)[-1]
    last_night = month_start(first, 1) - timedelta(days=1)
    assert sent.filename == f"lumina-property-{ids['flat']}-{first.isoformat()}-{last_night.isoformat()}.csv"
    rows = list(csv.reader(io.StringIO(sent.content.decode("utf-8-sig"))))
    assert rows[0] == t["header"]
    direct = "Direta" if language == "pt-BR" else "Direct"
    assert [r[1] for r in rows[1:]] == ["Airbnb", "Booking.com", "Airbnb", direct]
    assert [r[8] for r in rows[1:]] == t["statuses"]
    assert rows[1][2] == date(first.year, first.month, 3).isoformat() and rows[1][4:8] == ["3", "2", "900.00", "BRL"]
    assert rows[2][6] == ""  # no price: empty, never 0

    await owner.tap(OWNER, "XLSX")
    book = load_workbook(io.BytesIO(owner.api.documents(OWNER)[-1].content))
    assert book.sheetnames[1] == t["summary"]
    stays_sheet = book[book.sheetnames[0]]
    assert [c.value for c in stays_sheet[1]] == t["header"] and stays_sheet.max_row == 5
    summary_values = [row for row in book[t["summary"]].iter_rows(values_only=True)]
    assert any(row[0] and "ADR" in row[0] and row[1] == 185.71 for row in summary_values)


async def test_all_properties_sums_currencies_apart_and_managers_see_only_theirs(owner: Lumina, language: str):
    first = last_month()
    async with owner.sessions.begin() as session:
        ids = await seed_month(session, first)
    await owner.say(OWNER, "/stats")
    await owner.tap(OWNER, T[language]["last_month"])
    text = owner.api.sent_messages(OWNER)[-2]["text"].replace("\xa0", " ")
    assert "1.300,00" in text or "1,300.00" in text
    dollars = "US$ 300,00" if language == "pt-BR" else "Revenue: $300.00"
    assert dollars in text  # the dollars stay dollars, on a line of their own
    assert "Beach house" in text and "Apto 101" in text  # by property

    await owner.add_member(MANAGER, ids["beach"], "manager")
    await owner.add_member(VIEWER, ids["flat"], "viewer")
    answer = await owner.say(VIEWER, "/stats")
    assert answer[0]["text"] == T["en"]["nobody"]
    calls = await owner.press(VIEWER, f"st:show:{ids['flat']}:last_month", message_id=answer[0].get("message_id", 1))
    assert "sendPhoto" not in calls and "sendDocument" not in calls

    await owner.say(MANAGER, "/stats")
    labels = [text for text, _data in owner.buttons(owner.keyboard(MANAGER))]
    assert "Apto 101" not in labels and "All properties" not in labels  # one property: no property buttons
    await owner.tap(MANAGER, "Last month")
    text = owner.api.sent_messages(MANAGER)[-2]["text"].replace("\xa0", " ")
    assert "Beach house" in text and "Revenue: $300.00" in text and "R$" not in text
    forged = await owner.press(MANAGER, f"st:csv:{ids['flat']}:last_month", message_id=1)
    assert "sendDocument" not in forged


async def test_the_monthly_summary_arrives_on_the_first_with_its_chart_once(owner: Lumina, language: str):
    from domain.monthly_stats import queue_monthly

    t = T[language]
    first = last_month()
    async with owner.sessions.begin() as session:
        await seed_month(session, first)
    # The 1st of this month at 08:30 in São Paulo (no summary hour set: 08:00), as the once-a-minute job sees it.
    due = datetime.combine(month_start(first, 1), datetime.min.time(), TZ).replace(hour=8, minute=30)
    mark = owner.api.mark()
    async with owner.sessions.begin() as session:
        assert await queue_monthly(session, now=due, default_zone=TZ) == 1
    async with owner.sessions.begin() as session:  # the next minute's run: the same key, nothing new
        assert await queue_monthly(session, now=due.replace(minute=31), default_zone=TZ) == 0
        assert await queue_monthly(session, now=due.replace(hour=12), default_zone=TZ) == 0  # past the grace
    owner.app.services.outbox_wakeup()
    [message] = await owner.api.wait_for("sendMessage", chat_id=OWNER, after=mark, timeout=10)
    [photo] = await owner.api.wait_for("sendPhoto", chat_id=OWNER, after=mark, timeout=10)
    text = message.params["text"].replace("\xa0", " ")
    assert t["all"] in text and t["revenue"] in text and "Beach house" in text
    assert photo.seq > message.seq and owner.api.photos(OWNER)[-1].content.startswith(b"\x89PNG")

    # Switched off from /stats: next month nobody is due.
    await owner.say(OWNER, "/stats")
    await owner.tap(OWNER, "🔔")
    assert any("🔕" in text for text, _data in owner.buttons(owner.keyboard(OWNER)))
    next_due = datetime.combine(month_start(first, 2), datetime.min.time(), TZ).replace(hour=8, minute=30)
    async with owner.sessions.begin() as session:
        assert await queue_monthly(session, now=next_due, default_zone=TZ) == 0


async def test_a_default_rate_estimates_the_unpriced_nights_apart(owner: Lumina, language: str):
    first = last_month()
    async with owner.sessions.begin() as session:
        await seed_month(session, first)
    await owner.say(OWNER, "/stats")
    await owner.tap(OWNER, "Apto 101")
    await owner.tap(OWNER, "💵")
    assert "BRL" in owner.text(OWNER)
    answer = await owner.say(OWNER, "abc")
    assert len(answer) == 1 and ("valor" in answer[0]["text"] or "amount" in answer[0]["text"])
    await owner.say(OWNER, "200,00" if language == "pt-BR" else "200.00")
    await owner.tap(OWNER, T[language]["last_month"])
    text = owner.api.sent_messages(OWNER)[-2]["text"].replace("\xa0", " ")
    estimate = {
        "pt-BR": "Estimativa pela sua diária padrão: R$ 1.000,00 por 5 noites (fora dos números acima)",
        "en": "Estimate at your default rate: R$1,000.00 for 5 nights (not in the figures above)",
    }[language]
    assert estimate in text and T[language]["adr"] in text  # ADR still from real prices only
