"""/sync: one message that shows progress and ends with what changed and what failed."""

from __future__ import annotations

from datetime import timedelta

from storage.models import Feed, Property
from tests.e2e.conftest import OWNER
from tests.e2e.harness import Lumina
from tests.support.clock import e2e_today
from tests.support.feed_server import FeedServer
from tests.support.ical_builder import Stay, airbnb

T = {
    "pt-BR": {"checked": "Calendários verificados: 1/2.", "new": "novas reservas: 1", "html": "página da web"},
    "en": {"checked": "Calendars checked: 1/2.", "new": "new reservations: 1", "html": "web page"},
}


async def test_sync_reports_progress_changes_and_failures(owner: Lumina, language: str):
    start = e2e_today() + timedelta(days=15)
    async with FeedServer() as server:
        server.route("/airbnb.ics", body=airbnb([Stay("r1@airbnb.com", start, start + timedelta(days=3))]))
        server.html_page("/vrbo.ics")
        async with owner.sessions.begin() as session:
            prop = Property(name="Apto 101", timezone="America/Sao_Paulo", export_token="1-x")
            session.add(prop)
            await session.flush()
            session.add_all([Feed(property_id=prop.id, url=server.url("/airbnb.ics")),
                             Feed(property_id=prop.id, url=server.url("/vrbo.ics"))])  # fmt: skip
        feed_ids = await owner.app.services.syncer.feeds_of()
        await owner.app.services.syncer.sync_feeds(feed_ids)  # the first import is quiet
        server.route("/airbnb.ics", body=airbnb([Stay("r1@airbnb.com", start, start + timedelta(days=3)),
                                                  Stay("r2@airbnb.com", start + timedelta(days=5),
                                                       start + timedelta(days=7))]))  # fmt: skip
        mark = owner.api.mark()
        await owner.say(OWNER, "/sync")
    sent = [r for r in owner.api.calls("sendMessage", after=mark) if r.params["chat_id"] == OWNER]
    progress = sent[0]
    assert "0/2" in progress.params["text"]
    t = T[language]
    texts = [m.get("text", "") for m in owner.api.sent_messages(OWNER)]
    report = next(x for x in reversed(texts) if t["checked"] in x)
    assert t["new"] in report and t["html"] in report
    assert not any(t["checked"] in r.params["text"] for r in sent)  # the progress message was edited, not repeated
