"""SMTP and IMAP settings: a combination that cannot work stops start-up with one line naming it."""

from __future__ import annotations

import pytest

from bot.settings import SettingsError, load_settings


@pytest.mark.parametrize(
    ("settings", "named"),
    [
        ({"smtp_host": "smtp.gmail.com", "smtp_security": "none", "smtp_from": "a@b.test"},
         "LUMINA_SMTP_SECURITY=none"),
        ({"smtp_host": "smtp.gmail.com", "smtp_security": "tls", "smtp_port": 587, "smtp_from": "a@b.test"},
         "LUMINA_SMTP_PORT=587"),
        ({"smtp_host": "smtp.gmail.com", "smtp_security": "starttls", "smtp_port": 465, "smtp_from": "a@b.test"},
         "LUMINA_SMTP_PORT=465"),
        ({"smtp_host": "smtp.gmail.com", "smtp_username": "a@b.test"}, "LUMINA_SMTP_PASSWORD"),
        ({"smtp_host": "smtp.gmail.com"}, "LUMINA_SMTP_FROM"),
        ({"smtp_host": "smtp.gmail.com", "smtp_from": "a@b.test", "smtp_ca_file": "/nonexistent/ca.pem"},
         "LUMINA_SMTP_CA_FILE"),
        ({"imap_host": "imap.gmail.com", "imap_security": "none", "imap_username": "u", "imap_password": "p"},
         "LUMINA_IMAP_SECURITY=none"),
        ({"imap_host": "imap.gmail.com"}, "LUMINA_IMAP_USERNAME"),
        ({"smtp_host": "smtp.gmail.com", "smtp_from": "a@b.test", "smtp_security": "ssl"}, "LUMINA_SMTP_SECURITY"),
    ],
)
def test_a_wrong_combination_is_one_line_naming_it(settings: dict[str, object], named: str):
    with pytest.raises(SettingsError) as error:
        load_settings(**settings)
    message = str(error.value)
    assert named in message and "\n" not in message


def test_good_combinations_and_their_ports():
    settings = load_settings(smtp_host="smtp.gmail.com", smtp_security="tls", smtp_username="host@gmail.com",
                             smtp_password="abcd efgh ijkl mnop")  # fmt: skip
    config = settings.smtp_config()
    assert config is not None and config.resolved_port == 465 and config.sender == "host@gmail.com"
    assert "abcd" not in repr(settings)  # the password is a secret
    starttls = load_settings(smtp_host="smtp.office365.com", smtp_from="a@b.test").smtp_config()
    assert starttls is not None and starttls.resolved_port == 587 and starttls.security == "starttls"
    local = load_settings(smtp_host="127.0.0.1", smtp_security="none", smtp_from="a@b.test").smtp_config()
    assert local is not None and local.resolved_port == 25
    assert load_settings().smtp_config() is None and load_settings().imap_config() is None
    imap = load_settings(imap_host="imap.gmail.com", imap_username="u", imap_password="p").imap_config()
    assert imap is not None and imap.resolved_port == 993 and imap.folder == "INBOX"
