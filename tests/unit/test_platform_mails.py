"""The platforms' reservation mails in four languages, and what is refused: other senders, unverified mail,
malformed MIME, HTML-only mails (read), huge mails (skipped)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from domain.mail.platforms import MAX_BYTES, NotPlatformMail, parse
from tests.support.platform_mails import airbnb_mail, booking_mail

LANGUAGES = ["pt", "en", "it", "es"]


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("event", ["confirmed", "changed", "cancelled"])
def test_airbnb_in_four_languages(language: str, event: str):
    found = parse(airbnb_mail(event, language))
    assert (found.platform, found.event, found.reservation_code, found.listing) == ("airbnb", event, "HMQX7Z2K4B",
                                                                                   "53127744")  # fmt: skip
    assert (found.check_in, found.check_out) == (date(2027, 8, 12), date(2027, 8, 15))
    assert (found.guests, found.amount, found.currency) == (2, Decimal("1240.00"), "BRL")
    if event == "confirmed":
        assert found.guest_name == "Maria Silva"


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("event", ["confirmed", "changed", "cancelled"])
def test_booking_in_four_languages(language: str, event: str):
    found = parse(booking_mail(event, language))
    assert (found.platform, found.event, found.reservation_code, found.listing) == ("booking", event, "4127093385",
                                                                                   "9912345")  # fmt: skip
    assert (found.guest_name, found.guests, found.phone) == ("João Pereira", 3, "+55 21 99876-5432")
    assert (found.check_in, found.check_out) == (date(2027, 8, 12), date(2027, 8, 16))
    assert (found.amount, found.currency) == (Decimal("2150.50"), "BRL")


def test_dollars_and_euros():
    assert parse(airbnb_mail(amount="$1,240.00")).currency == "USD"
    found = parse(booking_mail(language="it", amount="€ 980,00"))
    assert (found.amount, found.currency) == (Decimal("980.00"), "EUR")


def test_html_only_mail_is_read():
    found = parse(booking_mail(html_only=True))
    assert found.guest_name == "João Pereira" and found.check_in == date(2027, 8, 12)
    assert parse(airbnb_mail(html_only=True)).listing == "53127744"


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (airbnb_mail(sender="automated@airbnb.com.evil.test"), "unknown_sender"),
        (airbnb_mail(sender="automated@notairbnb.com"), "unknown_sender"),
        (airbnb_mail(authentication=""), "unverified"),
        (airbnb_mail(authentication="mx.lumina-test.example; dkim=fail header.d=airbnb.com; dmarc=fail"), "unverified"),
        (airbnb_mail(authentication="mx.lumina-test.example; dkim=pass header.d=evil.test; dmarc=pass "
                                    "header.from=evil.test"), "unverified"),  # fmt: skip
        (b"From: <automated@airbnb.com>\r\nSubject: =?utf-8?q?broken\r\nContent-Type: multipart/mixed; "
         b"boundary=\"x\"\r\n\r\n--x\r\nContent-Type: text/plain\r\n\r\nHM\xff\xfe\r\n", "unverified"),
        (b"\x00\xff garbage without headers", "unknown_sender"),
        (b"X" * (MAX_BYTES + 1), "too_large"),
    ],
)
def test_what_does_not_count(raw: bytes, reason: str):
    with pytest.raises(NotPlatformMail) as refused:
        parse(raw)
    assert refused.value.reason == reason


def test_a_verified_mail_that_is_not_a_reservation():
    raw = airbnb_mail().replace(b"Subject: Reservation confirmed", b"Subject: Your payout was sent")
    with pytest.raises(NotPlatformMail) as refused:
        parse(raw)
    assert refused.value.reason == "not_reservation"


def test_a_forged_header_below_the_servers_own_does_not_count():
    """The sender can write an Authentication-Results of its own; only the topmost (our server's) counts."""
    raw = airbnb_mail(authentication="mx.lumina-test.example; dkim=none; dmarc=none")
    forged = raw.replace(b"From:", b"Authentication-Results: mx; dmarc=pass header.from=airbnb.com\r\nFrom:", 1)
    with pytest.raises(NotPlatformMail):
        parse(forged)
