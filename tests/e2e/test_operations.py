"""What an operator watches: /metrics in the Prometheus text format (parsed with the official client's parser),
protected by a token when one is set, and /ready naming what is wrong, Redis included when configured."""

from __future__ import annotations

import random
from datetime import timedelta
from pathlib import Path

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

from storage.models import Feed, Property, User
from tests.e2e.conftest import OWNER
from tests.e2e.delivery_harness import until
from tests.e2e.harness import Lumina, running_lumina
from tests.e2e.test_cli import free_port
from tests.support.clock import e2e_today
from tests.support.feed_server import FeedServer
from tests.support.ical_builder import Stay, airbnb


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


async def test_metrics_are_scraped_and_parse(owner: Lumina):
    await owner.say(OWNER, "/menu")
    async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{owner.app.port}/metrics") as response:
        assert response.status == 200 and response.headers["Content-Type"].startswith("text/plain")
        found = samples(await response.text())
    assert found[("lumina_updates_total", (("result", "ok"), ("router", "menu")))] >= 1
    assert found[("lumina_telegram_calls_total", (("method", "sendMessage"), ("result", "ok")))] >= 1
    assert any(name == "lumina_update_seconds_bucket" for name, _labels in found)
    for gauge in ("outbox_pending", "outbox_oldest_age_seconds", "bookings_created_last_day", "users_active",
                  "feeds_in_trouble"):  # fmt: skip
        assert (f"lumina_{gauge}", ()) in found
    assert found[("lumina_users_active", ())] == 1


async def test_the_metrics_move_with_the_work(database_url: str, tmp_path: Path):
    """A feed synced twice (a new stay the second time) and its alert sent: the counters say so, by platform."""
    soon = e2e_today() + timedelta(days=20)
    first = Stay("m1@airbnb.com", soon, soon + timedelta(days=2))
    async with FeedServer() as server, running_lumina(database_url, tmp_path, owner_ids=[OWNER]) as lumina:
        server.route("/cal.ics", body=airbnb([first]))
        async with lumina.sessions.begin() as session:
            session.add(User(telegram_id=OWNER, first_name="Bia", role="owner", locale="en"))
            prop = Property(name="Apto 7", timezone="America/Sao_Paulo", export_token="metrics-7")
            session.add(prop)
            await session.flush()
            feed = Feed(property_id=prop.id, url=server.url("/cal.ics"), platform="airbnb")
            session.add(feed)
            await session.flush()
        before = samples(await scrape(lumina))
        await lumina.app.services.syncer.sync_feed(feed.id)
        server.route(
            "/cal.ics", body=airbnb([first, Stay("m2@airbnb.com", soon + timedelta(days=3), soon + timedelta(days=5))])
        )
        await lumina.app.services.syncer.sync_feed(feed.id)
        await lumina.api.wait_for("sendMessage", chat_id=OWNER)
        await until(lambda: lumina.app.delivery.stats.sent >= 1)
        after = samples(await scrape(lumina))

    def moved(name: str, **labels: str) -> float:
        key = (name, tuple(sorted(labels.items())))
        return after.get(key, 0.0) - before.get(key, 0.0)

    assert moved("lumina_feed_downloads_total", outcome="ok", platform="airbnb", reason="") == 2
    assert moved("lumina_alerts_total", result="queued") >= 1 and moved("lumina_alerts_total", result="sent") >= 1


async def scrape(lumina: Lumina) -> str:
    async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{lumina.app.port}/metrics") as response:
        return await response.text()


async def test_a_metrics_token_is_required_when_set(database_url: str, tmp_path: Path):
    async with running_lumina(database_url, tmp_path, metrics_token="s3cret") as lumina:
        url = f"http://127.0.0.1:{lumina.app.port}/metrics"
        async with aiohttp.ClientSession() as http:
            async with http.get(url) as response:
                assert response.status == 401 and "lumina_" not in await response.text()
            async with http.get(url, headers={"Authorization": "Bearer wrong"}) as response:
                assert response.status == 401
            async with http.get(url, headers={"Authorization": "Bearer s3cret"}) as response:
                assert response.status == 200


async def test_ready_names_what_is_wrong_redis_included(database_url: str, tmp_path: Path):
    async with running_lumina(database_url, tmp_path, redis_url=f"redis://127.0.0.1:{free_port()}/0") as lumina:
        await lumina.api.wait_idle()
        async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{lumina.app.port}/ready") as response:
            body = await response.json()
    assert response.status == 503 and body["checks"]["redis"] is False
    assert body["problems"] == ["redis: no answer to PING at LUMINA_REDIS_URL"]


def _message(update_id: int, user_id: int, text: str) -> dict[str, object]:
    """An update as Telegram posts it to a webhook."""
    entities = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}] if text.startswith("/") else []
    return {"update_id": update_id, "message": {
        "message_id": update_id, "date": 1_790_000_000, "text": text, "entities": entities,
        "chat": {"id": user_id, "type": "private", "first_name": "Ana"},
        "from": {"id": user_id, "is_bot": False, "first_name": "Ana", "language_code": "en"},
    }}  # fmt: skip


async def test_webhook_mode_takes_updates_with_the_secret_only(database_url: str, tmp_path: Path):
    hook = "https://lumina.example.org/telegram/hook"
    async with running_lumina(database_url, tmp_path, webhook_url=hook, webhook_secret="hook-secret") as lumina:
        [setting] = lumina.api.calls("setWebhook")
        assert setting.params["url"] == hook and setting.params["secret_token"] == "hook-secret"
        assert "message" in setting.params["allowed_updates"] and "callback_query" in setting.params["allowed_updates"]
        assert not lumina.api.calls("getUpdates")  # no long polling beside the webhook
        url = f"http://127.0.0.1:{lumina.app.port}/telegram/hook"
        start = _message(1, 4242, f"/start {lumina.app.setup_code}")
        async with aiohttp.ClientSession() as http:
            async with http.post(url, json=start, headers={"X-Telegram-Bot-Api-Secret-Token": "wrong"}) as response:
                assert response.status == 401
            mark = lumina.api.mark()
            secret = {"X-Telegram-Bot-Api-Secret-Token": "hook-secret"}
            async with http.post(url, json=start, headers=secret) as response:
                assert response.status == 200
        [reply] = await lumina.api.wait_for("sendMessage", after=mark, chat_id=4242, timeout=10)
        assert "owner" in reply.params["text"]
    assert not lumina.api.calls("deleteWebhook")  # a clean stop leaves the webhook in place


async def test_a_dialog_started_on_one_instance_finishes_on_the_other(database_url: str, tmp_path: Path):
    # A person of their own: other test runs may share this Redis, and the FSM key is the bot, chat and user.
    person = random.randrange(10**9, 2 * 10**9)
    redis_url = "redis://127.0.0.1:6379/14"
    async with running_lumina(database_url, tmp_path / "a", redis_url=redis_url) as first:
        await first.say(person, f"/start {first.app.setup_code}", language_code="en")
        await first.say(person, "/properties", language_code="en")
        await first.tap(person, "Add a property")
        assert "What is the property called?" in first.text(person)
        async with running_lumina(database_url, tmp_path / "b", redis_url=redis_url) as second:
            await second.say(person, "Apto 101", language_code="en")  # the next step reaches the other instance
            assert "What is the address?" in second.text(person)
        await first.say(person, "/cancel", language_code="en")  # leaves nothing behind in Redis
