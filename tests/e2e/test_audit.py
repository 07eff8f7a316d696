"""/audit through the chat: a whole flow of an owner and the people they invite, then the trail read back newest
first, by property and by person, page by page, and as CSV; secrets never in it; others refused."""

from __future__ import annotations

import csv
import io

from bot.views.audit import PAGE_SIZE
from tests.e2e.conftest import OWNER
from tests.e2e.harness import Lumina
from tests.e2e.test_team import ANA, BRUNO, invite, seed, words


async def test_a_flow_then_the_trail_filters_pages_and_csv(owner: Lumina, language: str):
    ids = await seed(owner)
    for person, role in ((ANA, "cleaner"), (BRUNO, "viewer")):
        code = await invite(owner, OWNER, language, words(language, role))
        mark = owner.api.mark()
        await owner.say(person, f"/start {code}", first_name="Lia" if person == ANA else "Bruno", language_code="en")
        # the owner is told by the delivery loop; wait, so that message does not land on top of the screens below
        await owner.api.wait_for("sendMessage", chat_id=OWNER, after=mark, timeout=20)
    await owner.say(OWNER, "/export")  # issues the calendar links' secret: recorded, the secret never
    await owner.say(OWNER, "/settings")
    await owner.tap(OWNER, "🌙")
    await owner.tap(OWNER, "22:00–07:00")
    for _ in range(PAGE_SIZE):  # enough events for a second page
        await invite(owner, OWNER, language, words(language, "viewer"))

    await owner.say(OWNER, "/audit")
    first = owner.text(OWNER)
    assert words(language, "invited someone") in first and "Apto 101" in first
    assert first.index(words(language, "invited someone")) < first.rindex("\n")  # the newest first
    await owner.tap(OWNER, "▶️")
    second = owner.text(OWNER)
    assert words(language, "joined") in second and "Lia" in second

    await owner.tap(OWNER, words(language, "👤 Person"))
    await owner.tap(OWNER, "Lia")
    only_ana = owner.text(OWNER)
    assert words(language, "joined") in only_ana and words(language, "invited someone") not in only_ana

    await owner.tap(OWNER, words(language, "📎 CSV"))
    await owner.tap(OWNER, words(language, "Last 7 days"))
    [document] = owner.api.documents(OWNER)[-1:]
    rows = list(csv.reader(io.StringIO(document.content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["at", "who", "action"] and {r[2] for r in rows[1:]} == {"member.joined"}

    await owner.say(OWNER, "/audit")
    await owner.tap(OWNER, words(language, "📎 CSV"))
    await owner.tap(OWNER, words(language, "Last 7 days"))
    everything = owner.api.documents(OWNER)[-1].content.decode("utf-8-sig")
    for action in ("member.invited", "member.joined", "export.issued", "user.quiet_hours"):
        assert action in everything, action
    async with owner.sessions() as session:
        from storage.models import Property

        prop = await session.get(Property, ids["apto"])
        assert prop is not None and prop.export_token not in everything  # the secret is never in the trail


async def test_only_owners_read_the_trail(owner: Lumina):
    ids = await seed(owner)
    await owner.add_member(BRUNO, ids["apto"], "manager")
    answer = await owner.say(BRUNO, "/audit", language_code="en")
    assert answer[0]["text"] == "Only owners read the audit trail."
    calls = await owner.press(BRUNO, "au:show:0:0:0:0", message_id=owner.screen(BRUNO)["message_id"],
                              language_code="en")  # fmt: skip
    assert calls["answerCallbackQuery"][0].get("text") == "This button has expired."
