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


@pytest.mark.parametrize(
    ("public_url", "reachable"),
    [
        (None, False),
        ("http://127.0.0.1:8080", False),
        ("http://192.168.0.10:8080", False),
        ("http://localhost:8080", False),
        ("http://lumina.local", False),
        ("http://myserver:8080", False),
        ("https://lumina.example.com", True),
        ("https://abc.trycloudflare.com", True),
        ("http://203.0.113.7", False),  # documentation range: not global
        ("http://8.8.8.8", True),
    ],
)
def test_whether_the_platforms_can_reach_the_links(public_url, reachable):
    assert load_settings(public_url=public_url, http_port=8080).public_url_reachable is reachable
