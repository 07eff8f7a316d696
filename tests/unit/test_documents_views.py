"""Document screens: every field has its help text, and every button fits Telegram's 64-byte callback data."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from bot.i18n import LOCALES, use_locale
from bot.views import documents as views
from domain.documents.context import FIELDS, INFO_KEYS, KINDS, Need
from domain.documents.problem import TemplateProblem
from domain.documents.service import DocumentInfo, Missing, UploadInfo
from storage.models import Booking, Property

PROP = Property(id=2_000_000_000, name="Apto <101> & Co", timezone="America/Sao_Paulo", currency="BRL")
BOOKING = Booking(id=2_000_000_001, property_id=PROP.id, kind="reservation", source="airbnb",
                  check_in=date(2027, 8, 12), check_out=date(2027, 8, 15))  # fmt: skip
AT = datetime(2027, 8, 1, 12, tzinfo=UTC)
RECENT = [DocumentInfo(2_000_000_002, "receipt", "receipt-2027-08-12-" + "x" * 60 + ".pdf", AT)]


def callback_data(markup) -> list[str]:  # type: ignore[no-untyped-def]
    return [b.callback_data for row in markup.inline_keyboard for b in row if b.callback_data]


def test_every_field_has_help_and_every_detail_a_label_and_a_question():
    assert set(views.FIELD_HELP) == set().union(*FIELDS.values())
    assert set(views.INFO_LABELS) == set(views.INFO_QUESTIONS) == set(INFO_KEYS)


@pytest.mark.parametrize("locale", LOCALES)
def test_buttons_fit_in_64_bytes_and_texts_escape_names(locale: str):
    with use_locale(locale):
        markups = [
            views.documents_keyboard(BOOKING, RECENT),
            views.format_keyboard(BOOKING.id, "authorization", locale),
            views.question_keyboard(BOOKING.id, Need("vehicle_plate", skippable=True)),
            views.setup_keyboard(PROP),
            views.template_keyboard(PROP.id, "authorization", "pt_BR", custom=True),
            views.info_keyboard(PROP.id, "access_instructions", skippable=True),
            views.upload_kind_keyboard(PROP.id),
            views.upload_language_keyboard(PROP.id, "authorization", locale),
        ]
        for markup in markups:
            assert all(len(data.encode()) <= 64 for data in callback_data(markup))
        texts = [
            views.documents_menu(BOOKING, PROP, RECENT, tz=PROP.timezone),
            views.setup_text(PROP, {"door_code": "1234", "host_name": "Ana <Lima>", "wifi_name": ""},
                             {("receipt", "en"): UploadInfo("receipt", "en", 3, AT)}),
            views.caption("receipt", PROP, BOOKING),
            views.missing_text("authorization", Missing(Need("guest_document", person="Zé <x>"), 3)),
        ]  # fmt: skip
        for text in texts:
            assert "<101>" not in text and "Ana <Lima>" not in text and "<x>" not in text
        assert "1234" not in texts[1]  # secrets are never shown in the chat


@pytest.mark.parametrize("kind", KINDS)
def test_refusals_list_the_fields_and_stay_under_telegrams_limit(kind: str):
    for locale in LOCALES:
        with use_locale(locale):
            text = views.problem_text(TemplateProblem("unknown_fields", unknown=("a" * 40,) * 20), kind)
            assert "{{ property_name }}" in text and len(text) < 4096
            assert len(views.template_text(PROP, kind, locale, None)) < 4096
