"""Email address checks shared by profiles, the site sender and subscriptions."""

from __future__ import annotations

from email.utils import formataddr, parseaddr

from email_validator import EmailNotValidError, validate_email

# Why addresses are ASCII only: a non-ASCII local part (ü@example.org) needs SMTPUTF8 from
# every relay on the way and RFC 6532 headers from every client, and a digest that one relay
# refuses would be lost. Refused up front, it is one clear error at `digest check` and at
# sign-up instead. A non-ASCII domain has an ASCII form (punycode) that works everywhere.
SMTPUTF8_HINT = "use an address whose part before the @ is plain ASCII (letters, digits, . _ + -)"


def normalize_address(text: str) -> str:
    """A syntactically valid ASCII address, lower-cased; ValueError says what is wrong.

    Lower-casing the local part is not what RFC 5321 promises, but it is what every mailbox
    provider does, and it keeps one person from being two subscribers.
    """
    if any(c in text for c in "\r\n\0"):
        raise ValueError("line breaks are not allowed in an address")
    try:
        # No DNS look-ups: checks must work offline and must not leak who subscribes.
        checked = validate_email(text.strip(), check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError as exc:
        if not text.partition("@")[0].isascii():
            raise ValueError(f"{exc} ({SMTPUTF8_HINT})") from exc
        raise ValueError(str(exc)) from exc
    address = checked.ascii_email or checked.normalized
    return address.lower()


def normalize_mailbox(text: str) -> str:
    """A "Name <address>" mailbox with a valid address; ValueError says what is wrong."""
    if any(c in text for c in "\r\n\0"):
        raise ValueError("line breaks are not allowed in a mailbox")
    name, address = parseaddr(text)
    if not address:
        raise ValueError("expected an address such as 'Paper Digest <digest@example.org>'")
    return formataddr((name, normalize_address(address)))
