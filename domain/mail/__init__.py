"""E-mail: the building's guest authorization sent through the host's SMTP server (an outbox, like the alerts),
and the platforms' reservation mails read over IMAP to fill in what iCal lacks."""
