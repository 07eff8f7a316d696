"""The team through the chat: inviting each role with a link and its QR code, joining, codes that are expired,
used, withdrawn or forged, what a manager may do, changing a role, and removing someone (their old buttons and their
queued alerts die with their access)."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select, update

from bot.commands import COMMANDS
from bot.i18n import _, use_locale
from bot.views.team import INVITE_PROBLEMS
from domain.alerts import add_outbox_rows, outbox_row
from domain.turnovers import refresh_turnovers
from storage.models import Booking, Feed, Invite, Outbox, Property, PropertyAccess, User
from tests.e2e.conftest import OWNER
from tests.e2e.delivery_harness import until
from tests.e2e.harness import Lumina, running_lumina
from tests.support.clock import e2e_today
from tests.support.feed_server import FeedServer
from tests.support.ical_builder import Stay, airbnb, vrbo

ANA, BRUNO, CAIO, DORA = 9101, 9102, 9103, 9104
PNG = b"\x89PNG\r\n\x1a\n"


def words(language: str, text: str) -> str:
    with use_locale("pt_BR" if language == "pt-BR" else "en"):
        return _(text)


async def seed(lumina: Lumina) -> dict[str, int]:
    async with lumina.sessions.begin() as session:
        apto = Property(name="Apto 101", timezone="America/Sao_Paulo", export_token="team-1")
        casa = Property(name="Casa 7", timezone="America/Sao_Paulo", export_token="team-2")
        session.add_all([apto, casa])
        await session.flush()
        return {"apto": apto.id, "casa": casa.id}


async def invite(lumina: Lumina, who: int, language: str, role_label: str, *, place: str = "Apto 101") -> str:
    """Open /team, the property, "Invite someone", the role, 2 days: the code in the link sent back."""
    await lumina.say(who, "/team", language_code="en")
    if place:
        await lumina.tap(who, place, language_code="en")
        await lumina.tap(who, words(language, "➕ Invite someone"), language_code="en")
    else:
        await lumina.tap(who, words(language, "➕ Invite a co-owner"), language_code="en")
    if role_label:
        await lumina.tap(who, role_label, language_code="en")
    await lumina.tap(who, "2", language_code="en")  # "2 days"
    sent = lumina.api.sent_messages(who)
    links = (re.search(r"https://t\.me/lumina_test_bot\?start=([\w-]+)", str(m.get("text"))) for m in sent[::-1])
    found = next((link for link in links if link), None)
    assert found, sent[-2:]
    assert lumina.api.photos(who), "the QR code"
    return found.group(1)


async def access_of(lumina: Lumina, telegram_id: int) -> dict[int, str]:
    async with lumina.sessions() as session:
        query = (
            select(PropertyAccess.property_id, PropertyAccess.role).join(User).where(User.telegram_id == telegram_id)
        )
        return dict((await session.execute(query)).all())  # type: ignore[arg-type]


async def test_inviting_each_role_and_joining(owner: Lumina, language: str):
    ids = await seed(owner)
    await owner.say(OWNER, "/team")
    await owner.tap(OWNER, "Apto 101")
    await owner.tap(OWNER, words(language, "➕ Invite someone"))
    offered = [text for text, _data in owner.buttons(owner.screen(OWNER))]
    for role in ("manager", "cleaner", "viewer"):
        assert any(text.startswith(words(language, role)) for text in offered), offered
    assert not any(text.startswith(words(language, "co-owner")) for text in offered)  # co-owners: from /team

    for person, role in ((ANA, "cleaner"), (BRUNO, "viewer"), (CAIO, "manager")):
        code = await invite(owner, OWNER, language, words(language, role))
        [qr] = owner.api.photos(OWNER)[-1:]
        assert qr.content.startswith(PNG)
        name, username = ("Ana", "ana") if person == ANA else ("Someone", None)
        answer = await owner.say(person, f"/start {code}", first_name=name, username=username, language_code="en")
        assert "You are now " + role in answer[0]["text"] and "Apto 101" in answer[0]["text"]
        assert await access_of(owner, person) == {ids["apto"]: role}
    told = await owner.api.wait_for("sendMessage", chat_id=OWNER, timeout=20)
    texts = [m["text"] for m in owner.api.sent_messages(OWNER) if "👥" in m.get("text", "")]
    assert any("Ana (@ana)" in t and "Apto 101" in t and words(language, "cleaner") in t for t in texts), told


async def test_used_expired_withdrawn_and_forged_codes_say_one_line(owner: Lumina, language: str):
    await seed(owner)
    used = await invite(owner, OWNER, language, words(language, "viewer"))
    await owner.say(ANA, f"/start {used}", language_code="en")
    answer = await owner.say(BRUNO, f"/start {used}", language_code="en")
    assert [a["text"] for a in answer] == [words("en", INVITE_PROBLEMS["used"])]
    assert await access_of(owner, BRUNO) == {}

    late = await invite(owner, OWNER, language, words(language, "viewer"))
    async with owner.sessions.begin() as session:
        await session.execute(update(Invite).where(Invite.used_at.is_(None)).values(
            expires_at=owner.clock() - timedelta(minutes=1)))  # fmt: skip
    answer = await owner.say(CAIO, f"/start {late}", language_code="en")
    assert [a["text"] for a in answer] == [words("en", INVITE_PROBLEMS["expired"])]

    withdrawn = await invite(owner, OWNER, language, words(language, "cleaner"))
    await owner.say(OWNER, "/team")
    await owner.tap(OWNER, "Apto 101")
    await owner.tap(OWNER, "✖️")
    assert not any("✖️" in text for text, _data in owner.buttons(owner.screen(OWNER)))
    answer = await owner.say(DORA, f"/start {withdrawn}", language_code="en")
    assert [a["text"] for a in answer] == [words("en", INVITE_PROBLEMS["revoked"])]

    answer = await owner.say(DORA, "/start forged-code-123", language_code="en")
    assert [a["text"] for a in answer] == ["Sorry, this is a private assistant and I can't help you here."]
    for person in (CAIO, DORA):
        assert await access_of(owner, person) == {}


async def test_a_co_owner_invitation_is_listed_and_withdrawn_from_the_overview(owner: Lumina, language: str):
    ids = await seed(owner)
    for_apto = await invite(owner, OWNER, language, words(language, "viewer"))
    for_all = await invite(owner, OWNER, language, "", place="")
    await owner.say(OWNER, "/team")
    screen = owner.screen(OWNER)
    assert words(language, "Invitations not used yet:") in screen["text"]
    [withdraw] = [data for text, data in owner.buttons(screen) if "✖️" in text]  # the co-owner one only
    async with owner.sessions() as session:
        apto_invite = (await session.scalars(select(Invite).where(Invite.role == "viewer"))).one()
    # the same button naming another invitation (one of a property, or of a property it does not belong to)
    assert withdraw.startswith("tm:revoke:0:")
    for forged in (f"tm:revoke:0:{apto_invite.id}::0", f"tm:revoke:{ids['casa']}:{apto_invite.id}::0"):
        calls = await owner.press(OWNER, forged, message_id=screen["message_id"])
        assert calls["answerCallbackQuery"][0].get("text") == words(language, "This button has expired.")
    await owner.tap(OWNER, "✖️")
    assert not any("✖️" in text for text, _data in owner.buttons(owner.screen(OWNER)))
    answer = await owner.say(DORA, f"/start {for_all}", language_code="en")
    assert [a["text"] for a in answer] == [words("en", INVITE_PROBLEMS["revoked"])]
    answer = await owner.say(ANA, f"/start {for_apto}", language_code="en")  # the property's one still works
    assert await access_of(owner, ANA) == {ids["apto"]: "viewer"}


async def test_a_manager_invites_cleaners_and_viewers_of_their_properties_only(owner: Lumina, language: str):
    ids = await seed(owner)
    await owner.add_member(CAIO, ids["apto"], "manager")
    await owner.say(CAIO, "/team", language_code="en")
    labels = [text for text, _data in owner.buttons(owner.screen(CAIO))]
    assert any("Apto 101" in t for t in labels) and not any("Casa 7" in t for t in labels)
    assert not any("co-owner" in t for t in labels)
    await owner.tap(CAIO, "Apto 101", language_code="en")
    await owner.tap(CAIO, "Invite someone", language_code="en")
    offered = [text for text, _data in owner.buttons(owner.screen(CAIO))]
    assert [t.split(":")[0] for t in offered[:-1]] == ["cleaner", "viewer"]
    screen = owner.screen(CAIO)["message_id"]
    for forged in (f"tm:hours:{ids['apto']}:0:manager:0", f"tm:open:{ids['casa']}:0::0", "tm:hours:0:0:co_owner:0",
                   f"tm:make:{ids['casa']}:0:viewer:48"):  # fmt: skip
        calls = await owner.press(CAIO, forged, message_id=screen, language_code="en")
        assert calls["answerCallbackQuery"][0].get("text") == "This button has expired.", forged
        assert "editMessageText" not in calls and "Apto" not in str(calls.get("sendMessage"))
    code = await invite(owner, CAIO, "en", "cleaner")
    await owner.say(ANA, f"/start {code}", language_code="en")
    assert await access_of(owner, ANA) == {ids["apto"]: "cleaner"}


async def test_changing_a_role_and_removing_someone(owner: Lumina, language: str):
    ids = await seed(owner)
    await owner.add_member(BRUNO, ids["apto"], "viewer")
    await owner.say(OWNER, "/team")
    await owner.tap(OWNER, "Apto 101")
    await owner.tap(OWNER, "Viewer")  # the member's button: their first name
    await owner.tap(OWNER, words(language, "Make {role}").format(role=words(language, "manager")))
    assert await access_of(owner, BRUNO) == {ids["apto"]: "manager"}

    await owner.say(BRUNO, "/properties", language_code="en")
    await owner.tap(BRUNO, "Apto 101", language_code="en")
    old_screen = owner.screen(BRUNO)
    async with owner.sessions.begin() as session:  # an alert waiting for them (quiet hours, say)
        bruno = (await session.scalars(select(User).where(User.telegram_id == BRUNO))).one()
        row = outbox_row(bruno, "booking_new", "waiting", now=owner.clock() + timedelta(hours=1),
                         payload={"booking_id": None}, property_id=ids["apto"])  # fmt: skip
        row["not_before"] = owner.clock() + timedelta(hours=1)
        await add_outbox_rows(session, [row])

    await owner.tap(OWNER, "Viewer")
    await owner.tap(OWNER, words(language, "🗑 Remove"))
    assert await access_of(owner, BRUNO) == {ids["apto"]: "manager"}  # not before the confirmation
    await owner.tap(OWNER, words(language, "🗑 Yes, remove"))
    assert await access_of(owner, BRUNO) == {}

    data = next(d for _t, d in owner.buttons(old_screen) if d.startswith("p:"))
    calls = await owner.press(BRUNO, data, message_id=old_screen["message_id"], language_code="en")
    assert calls["answerCallbackQuery"][0].get("text") == "This button has expired."
    async with owner.sessions() as session:
        waiting = (await session.scalars(select(Outbox).where(Outbox.idempotency_key == "waiting"))).one()
        assert (waiting.status, waiting.last_error) == ("skipped", "access removed")


async def test_a_co_owner_is_invited_by_the_owner_and_sees_everything(owner: Lumina, language: str):
    await seed(owner)
    code = await invite(owner, OWNER, language, "", place="")
    answer = await owner.say(DORA, f"/start {code}", first_name="Dora", language_code="en")
    assert "co-owner" in answer[0]["text"]
    answer = await owner.say(DORA, "/properties", language_code="en")
    assert "Apto 101" in str(answer) and "Casa 7" in str(answer)
    await owner.say(DORA, "/team", language_code="en")
    labels = [text for text, _data in owner.buttons(owner.screen(DORA))]
    assert not any("Invite a co-owner" in t for t in labels)  # only the owner makes co-owners
    async with owner.sessions() as session:
        dora = (await session.scalars(select(User).where(User.telegram_id == DORA))).one()
        assert dora.role == "co_owner"
    await owner.say(OWNER, "/team")
    await owner.tap(OWNER, "Dora")  # the co-owner's button
    await owner.tap(OWNER, words(language, "🗑 Remove"))
    await owner.tap(OWNER, words(language, "🗑 Yes, remove"))
    answer = await owner.say(DORA, "/properties", language_code="en")
    assert "Apto 101" not in str(answer)


async def test_a_cleaner_never_sees_a_guests_name_phone_or_price(database_url, tmp_path):
    """A cleaner joins by invite; the stays come from a calendar with names, a person fills in a phone and a price:
    every command, the stays' buttons and the turnover messages show the cleaner dates and counts only."""
    soon = e2e_today() + timedelta(days=4)
    first = Stay("s1", soon, soon + timedelta(days=3))
    second = Stay("s2", soon + timedelta(days=3), soon + timedelta(days=5))
    third = Stay("s3@airbnb.com", soon + timedelta(days=5), soon + timedelta(days=7), code="HMSECRET01", phone="9876")
    async with FeedServer() as server, running_lumina(database_url, tmp_path, owner_ids=[OWNER]) as lumina:
        server.route("/vrbo.ics", body=vrbo([(first, "Reserved - Maria Segredo"), (second, "Reserved - Rui Sigilo")]))
        server.route("/airbnb.ics", body=airbnb([third]))
        await lumina.say(OWNER, "/menu", language_code="en")
        ids = await seed(lumina)
        async with lumina.sessions.begin() as session:
            feeds = [Feed(property_id=ids["apto"], url=server.url(f"/{name}.ics"), platform=name)
                     for name in ("vrbo", "airbnb")]  # fmt: skip
            session.add_all(feeds)
        code = await invite(lumina, OWNER, "en", "cleaner")
        await lumina.say(ANA, f"/start {code}", language_code="en")
        for feed in feeds:
            await lumina.app.services.syncer.sync_feed(feed.id)
        async with lumina.sessions.begin() as session:
            for booking in (await session.scalars(select(Booking))).all():
                booking.guest_phone, booking.price, booking.guests_count = "+55 21 90000-1111", Decimal("4321"), 3
            prop = await session.get(Property, ids["apto"])
            assert prop is not None
            await refresh_turnovers(session, prop, now=lumina.clock())
        lumina.app.services.outbox_wakeup()
        await until(lambda: any("3 guests" in str(m.get("text")) for m in lumina.api.sent_messages(ANA)))
        for command, _description in COMMANDS:
            await lumina.say(ANA, f"/{command}", language_code="en")
            await lumina.say(ANA, "/cancel", language_code="en")
        screen = lumina.api.sent_messages(ANA)[-1]["message_id"]
        async with lumina.sessions() as session:
            booking_ids = (await session.scalars(select(Booking.id))).all()
        for booking_id in booking_ids:
            for action in ("open", "fill", "cancel"):
                await lumina.press(ANA, f"b:{booking_id}:{action}", message_id=screen, language_code="en")
            await lumina.press(ANA, f"dc:{booking_id}:menu:::", message_id=screen, language_code="en")
        await lumina.api.wait_idle()
        seen = [str([c.params.get(k) for k in ("text", "caption", "reply_markup")]) + str(c.files)
                for c in lumina.api.requests if str(c.params.get("chat_id")) == str(ANA)]  # fmt: skip
        turnovers = [s for s in seen if "🧹" in s]
        assert turnovers and any("3 guests" in s for s in turnovers)
        for secret in ("Maria", "Segredo", "Rui", "Sigilo", "HMSECRET01", "9876", "90000", "4321", "4.321"):
            assert not any(secret in s for s in seen), secret


async def test_a_cleaner_marks_a_turnover_done_with_a_photo(database_url, tmp_path):
    """ "✅ Done" on the turnover message: the message says so and keeps saying so, the owner is told and sees it in
    /today, a photo follows; nobody else may press it."""
    today = e2e_today()
    leaving = Stay("t1@airbnb.com", today - timedelta(days=2), today)
    arriving = Stay("t2@airbnb.com", today, today + timedelta(days=3))
    async with FeedServer() as server, running_lumina(database_url, tmp_path, owner_ids=[OWNER]) as lumina:
        server.route("/cal.ics", body=airbnb([leaving, arriving]))
        await lumina.say(OWNER, "/menu", language_code="en")
        ids = await seed(lumina)
        async with lumina.sessions.begin() as session:
            feed = Feed(property_id=ids["apto"], url=server.url("/cal.ics"), platform="airbnb")
            session.add(feed)
        await lumina.add_member(ANA, ids["apto"], "cleaner")
        await lumina.add_member(BRUNO, ids["apto"], "viewer")
        await lumina.app.services.syncer.sync_feed(feed.id)
        [sent] = await lumina.api.wait_for("sendMessage", chat_id=ANA, timeout=20)
        assert "🧹" in sent.params["text"]
        await lumina.say(OWNER, "/today", language_code="en")
        assert "⏳ to do" in lumina.text(OWNER)

        message_id = lumina.api.sent_messages(ANA)[-1]["message_id"]
        [(_label, data)] = lumina.buttons(lumina.api.sent_messages(ANA)[-1])
        await lumina.say(BRUNO, "/help", language_code="en")
        calls = await lumina.press(BRUNO, data, message_id=lumina.screen(BRUNO)["message_id"], language_code="en")
        assert calls["answerCallbackQuery"][0].get("text") == "This button has expired."  # not theirs to press

        mark = lumina.api.mark()
        await lumina.press(ANA, data, message_id=message_id, language_code="en")
        edited = lumina.api._messages[(ANA, message_id)].data
        assert "✅ Done at" in edited["text"] and not edited.get("reply_markup")
        [told] = await lumina.api.wait_for("sendMessage", chat_id=OWNER, after=mark, timeout=20)
        assert "finished the cleaning of <b>Apto 101</b>" in told.params["text"]
        await lumina.say(OWNER, "/today", language_code="en")
        assert "✅ done at" in lumina.text(OWNER) and "⏳" not in lumina.text(OWNER)

        mark = lumina.api.mark()
        await lumina.handled(lumina.api.push_photo(ANA, b"\xff\xd8jpeg", language_code="en"))
        await lumina.api.wait_for("sendPhoto", chat_id=OWNER, after=mark, timeout=20)
        assert lumina.api.photos(OWNER)[-1].content == b"\xff\xd8jpeg"

        # The next guest comes a day later: a done turnover's message is left as it is (nothing queued for it)
        async with lumina.sessions.begin() as session:
            nxt = (await session.scalars(select(Booking).where(Booking.uid == "t2@airbnb.com"))).one()
            nxt.check_in = today + timedelta(days=1)
            prop = await session.get(Property, ids["apto"])
            assert prop is not None
            await refresh_turnovers(session, prop, now=lumina.clock())  # the next stay's own turnover changes
            left = (await session.scalars(select(Booking).where(Booking.uid == "t1@airbnb.com"))).one()
            pending = select(Outbox).where(Outbox.booking_id == left.id, Outbox.status == "pending")
            assert (await session.scalars(pending)).all() == []
