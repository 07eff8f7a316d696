"""LUMINA_PUBLIC_URL: the base of the links LUMINA gives out (the calendar export feeds)."""

from __future__ import annotations

import pytest

from bot.settings import SettingsError, load_settings


def test_defaults_to_the_web_app_address():
    assert load_settings(http_host="127.0.0.1", http_port=8080).resolved_public_url == "http://127.0.0.1:8080"
    assert load_settings(http_host="::1", http_port=9000).resolved_public_url == "http://[::1]:9000"
    empty = load_settings(public_url="", http_host="127.0.0.1", http_port=8080)  # an empty line in .env
    assert empty.resolved_public_url == "http://127.0.0.1:8080"


def test_a_public_address_wins_without_its_trailing_slash():
    settings = load_settings(public_url="https://lumina.example.com/", http_port=8080)
    assert settings.resolved_public_url == "https://lumina.example.com"


def test_a_bare_host_is_refused_with_the_setting_named():
    with pytest.raises(SettingsError, match="LUMINA_PUBLIC_URL"):
        load_settings(public_url="lumina.example.com")
