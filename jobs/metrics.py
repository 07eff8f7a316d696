"""The process's Prometheus metrics, in one registry that /metrics serves. Counters and histograms are bumped where
the work happens (the chat middleware, the sync, the delivery, the Bot API session); what the database knows
(queue, bookings, users) is read at scrape time by bot/web.py."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram

REGISTRY = CollectorRegistry(auto_describe=True)

UPDATES = Counter("lumina_updates", "Telegram updates handled, by router and result", ["router", "result"],
                  registry=REGISTRY)  # fmt: skip
UPDATE_SECONDS = Histogram(
    "lumina_update_seconds", "Time to handle one update, by router", ["router"], registry=REGISTRY,
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)  # fmt: skip
FEED_DOWNLOADS = Counter("lumina_feed_downloads", "Feed downloads recorded, by outcome, failure reason and platform",
                         ["outcome", "reason", "platform"], registry=REGISTRY)  # fmt: skip
SYNC_SECONDS = Histogram("lumina_sync_seconds", "One sync of a batch of feeds, fetch to last write",
                         registry=REGISTRY, buckets=(0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300))  # fmt: skip
ALERTS = Counter("lumina_alerts", "Outbox rows queued by the sync and the reminders, and what delivery did with them "
                 "(sent, edited, retried, dead, skipped, deferred, recovered)", ["result"],
                 registry=REGISTRY)  # fmt: skip
TELEGRAM_CALLS = Counter("lumina_telegram_calls", "Bot API calls, by method and result (ok, 429, error name)",
                         ["method", "result"], registry=REGISTRY)  # fmt: skip
EMAILS = Counter("lumina_emails", "E-mails to buildings, by result (sent, retried, failed)", ["result"],
                 registry=REGISTRY)  # fmt: skip
