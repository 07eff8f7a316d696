"""/settings in Portuguese and English: turn a kind of alert off and on, set quiet hours and the summary hour.

Labels are looked up through the catalog in the user's language, so the test follows the translations."""

from __future__ import annotations

from datetime import time

from sqlalchemy import select

from bot.i18n import _, use_locale
from domain.alerts import PREFERENCES
from storage.models import AuditLog, Property, PropertyAccess, User
from tests.e2e.conftest import OWNER
from tests.e2e.harness import Lumina

CLEANER = 5003


def locale_of(language: str) -> str:
    return "pt_BR" if language.startswith("pt") else "en"


async def stored(lumina: Lumina, telegram_id: int = OWNER) -> User:
    async with lumina.sessions() as session:
        return (await session.scalars(select(User).where(User.telegram_id == telegram_id))).one()


def labels(message: dict) -> list[str]:
    return [text for text, _data in Lumina.buttons(message)]


async def test_settings_toggle_quiet_hours_and_summary(owner: Lumina, language: str):
    locale = locale_of(language)
    with use_locale(locale):
        title, new_bookings = _("⚙️ <b>Settings</b>"), _("New bookings")
        quiet_button, summary_button = _("🌙 Quiet hours: {value}"), _("☀️ Daily summary: {value}")
        off, quiet_prompt = (
            _("off"),
            _("🌙 When should I keep quiet? Alerts wait until the end; only double bookings break through."),
        )  # noqa: E501
    [answer] = await owner.say(OWNER, "/settings", language_code=language)
    assert answer["text"].startswith(title)
    screen = owner.keyboard(OWNER)
    assert f"✅ {new_bookings}" in labels(screen)
    assert quiet_button.format(value=off) in labels(screen) and summary_button.format(value=off) in labels(screen)
    assert (await stored(owner)).alert_kinds is None

    calls = await owner.tap(OWNER, new_bookings)
    assert "editMessageText" in calls and calls["answerCallbackQuery"]
    assert f"⬜ {new_bookings}" in labels(owner.keyboard(OWNER))
    assert (await stored(owner)).alert_kinds == [p for p in PREFERENCES if p != "booking_new"]
    await owner.tap(OWNER, new_bookings)  # and back on: None means everything, kinds added later included
    assert (await stored(owner)).alert_kinds is None

    await owner.tap(OWNER, quiet_button.split("{")[0])
    assert owner.text(OWNER) == quiet_prompt
    await owner.tap(OWNER, "22:00–07:00")
    user = await stored(owner)
    assert (user.quiet_start, user.quiet_end) == (time(22, 0), time(7, 0))
    assert quiet_button.format(value="22:00–07:00") in labels(owner.keyboard(OWNER))

    await owner.tap(OWNER, summary_button.split("{")[0])
    await owner.tap(OWNER, "07:00")
    assert (await stored(owner)).summary_hour == 7
    assert summary_button.format(value="07:00") in labels(owner.keyboard(OWNER))
    with use_locale(locale):
        no_summary = _("No summary")
    await owner.tap(OWNER, summary_button.split("{")[0])
    await owner.tap(OWNER, no_summary)
    assert (await stored(owner)).summary_hour is None

    async with owner.sessions() as session:
        actions = (await session.scalars(select(AuditLog.action).order_by(AuditLog.id))).all()
    assert [a for a in actions if a.startswith("user.")][-5:] == [
        "user.alert_kinds", "user.alert_kinds", "user.quiet_hours", "user.summary_hour", "user.summary_hour",
    ]  # fmt: skip


async def test_forged_settings_buttons_change_nothing(owner: Lumina, language: str):
    await owner.say(OWNER, "/settings", language_code=language)
    message_id = owner.keyboard(OWNER)["message_id"]
    for data in ("set:kind:double_booking", "set:quiet:1-2", "set:summary:3", "set:summary:x"):
        calls = await owner.press(OWNER, data, message_id=message_id)
        assert calls["answerCallbackQuery"][0].get("show_alert") is True
    user = await stored(owner)
    assert (user.alert_kinds, user.quiet_start, user.summary_hour) == (None, None, None)


async def test_a_cleaner_only_sees_quiet_hours(owner: Lumina, language: str):
    async with owner.sessions.begin() as session:
        prop = Property(name="Casa", timezone="America/Sao_Paulo", export_token="settings-e2e")
        cleaner = User(telegram_id=CLEANER, first_name="Lia", role="cleaner", locale=locale_of(language))
        session.add_all([prop, cleaner])
        await session.flush()
        session.add(PropertyAccess(user_id=cleaner.id, property_id=prop.id, role="cleaner"))
    await owner.say(CLEANER, "/settings", language_code=language)
    with use_locale(locale_of(language)):
        quiet, new_bookings = _("🌙 Quiet hours: {value}").split("{")[0], _("New bookings")
    shown = labels(owner.keyboard(CLEANER))
    assert any(label.startswith(quiet) for label in shown)
    assert not any(new_bookings in label for label in shown)


async def test_the_owner_downloads_the_newest_backup_and_nobody_else(owner: Lumina, language: str):
    t = {"pt-BR": ("Ainda não há backup", "Backup mais recente", "Só o proprietário"),
         "en": ("There is no backup yet", "Newest backup", "Only the owner")}[language]  # fmt: skip
    await owner.say(OWNER, "/backup")
    assert t[0] in owner.text(OWNER)
    assert await owner.app.backups.run() is not None
    await owner.say(OWNER, "/backup")
    [sent] = owner.api.documents(OWNER)
    assert sent.filename.startswith("lumina-") and sent.filename.endswith(".tar.gz") and t[1] in (sent.caption or "")
    async with owner.sessions.begin() as session:
        session.add(User(telegram_id=6002, first_name="Co", role="viewer", locale=language.replace("-", "_")))
    await owner.say(6002, "/backup", language_code=language)
    assert t[2] in owner.text(6002) and len(owner.api.documents()) == 1
