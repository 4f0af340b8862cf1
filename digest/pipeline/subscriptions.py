"""Joining and leaving: double opt-in through signed, expiring, single-use links, and
unsubscribes kept in the state database, where they win over any profile file."""

from __future__ import annotations

import contextlib
import datetime as dt
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..config import profile_edits
from ..config.addresses import normalize_address
from ..config.options import model_default
from ..config.profile_cache import CACHE_FILE
from ..config.profile_edits import SubscriberSettings, save_subscription, subscriber_settings
from ..config.profiles import profile_for, profile_to_edit
from ..delivery.chosen import open_transport
from ..errors import (
    ConfigError,
    DeliveryError,
    ProfileNotSaved,
    SubscriptionError,
    TokenGone,
    TooManySignUps,
)
from ..models import Profile, Settings
from ..render.mime import build_notice
from ..render.pages import Pages
from ..store import Database, Subscribers
from ..tokens import Claims, new_nonce, sign, site_secret, verify

CONFIRM_DAYS = 7
RESEND_AFTER = dt.timedelta(hours=1)  # one confirmation per address per hour, however often asked
MAX_KEYWORDS = 50  # and as many excluded words, and authors
MAX_PAPERS, DEFAULT_MAX_PAPERS = 500, model_default(Profile, "max_papers")
TERM_FIELDS = ("keywords", "exclude", "authors")
# The confirmation goes to an address someone else may have typed: it quotes little of their text.
MAILED_KEYWORDS, MAILED_KEYWORD_LENGTH, MAILED_NAME_LENGTH = 10, 40, 40

OPERATOR_HINT = "Tell the site's operator: the server cannot write its profiles folder"
OPERATOR_FILE_HINT = "Tell the site's operator: your profile file cannot be edited from this page"


@dataclass(frozen=True)
class SignUp:
    """A pending sign-up whose confirmation slot is reserved and whose email is still to go."""

    address: str
    keywords: list[str]
    name: str | None
    nonce: str
    at: dt.datetime


def clean_keywords(keywords: Iterable[str]) -> list[str]:
    """Keywords from a form or the command line: one per line or comma, trimmed, each once."""
    found = list(_terms("\n".join(keywords), "keywords", r"[\n,]"))
    if not found:
        raise SubscriptionError("at least one keyword is needed", "for example: pretraining", "keywords")
    return found


def checked_address(text: str) -> str:
    try:
        return normalize_address(text)
    except ValueError as exc:
        raise SubscriptionError(
            f"'{text.strip()}' is not a valid email address: {exc}", field="email"
        ) from exc


def reserve_signup(
    settings: Settings, db: Database, address: str, keywords: Iterable[str],
    name: str | None = None, now: dt.datetime | None = None,
) -> SignUp | None:  # fmt: skip
    """Record a pending sign-up and reserve its confirmation email; None when one went out recently.

    The limits are checked and the slot taken in one transaction, so parallel requests for one
    address get one email between them, and the site's hourly cap lets exactly that many through."""
    address, keywords = checked_address(address), clean_keywords(keywords)
    name = " ".join(name.split())[:100] if name else None
    return _reserve(settings, db, address, keywords, name, now or dt.datetime.now(dt.UTC))


def reserve_return(
    settings: Settings, db: Database, address: str, now: dt.datetime | None = None
) -> SignUp | None:
    """Like `reserve_signup`, for an address that left and wants its profile back as it is.

    Its sign-up holds no keywords: confirming it writes no profile, it only lifts the unsubscribe."""
    if profile_for(settings.profiles_dir, address, profiles_cache(settings)) is None:
        raise SubscriptionError("no profile lists this address any more", "sign up again on the form")
    return _reserve(settings, db, address, [], None, now or dt.datetime.now(dt.UTC))


def _reserve(
    settings: Settings, db: Database, address: str, keywords: list[str], name: str | None,
    now: dt.datetime,
) -> SignUp | None:  # fmt: skip
    nonce = new_nonce()
    outcome = Subscribers(db).reserve(
        nonce, address, keywords, name, now, RESEND_AFTER, settings.max_signups_per_hour
    )
    if outcome == "full":
        raise TooManySignUps("too many sign-ups in the last hour", "try again later")
    return None if outcome == "recent" else SignUp(address, keywords, name, nonce, now)


def has_left(db: Database, address: str) -> bool:
    return Subscribers(db).has_left(address)


def request_subscription(
    settings: Settings, db: Database, address: str, keywords: Iterable[str],
    name: str | None = None, now: dt.datetime | None = None,
) -> bool:  # fmt: skip
    """Record a pending sign-up and mail its confirmation link now; False when one went out recently."""
    signup = reserve_signup(settings, db, address, keywords, name, now)
    if signup is None:
        return False
    try:
        send_confirmation(settings, signup)
    except SubscriptionError:
        Subscribers(db).release(signup.nonce)  # so asking again can work
        raise
    return True


def pending_confirmation(
    settings: Settings, db: Database, token: str, now: dt.datetime | None = None
) -> tuple[str, str, list[str], str | None]:
    """The nonce, address, keywords and name of a confirmation link that still works."""
    claims = verify(secret(settings), "confirm", token, now)
    nonce = claims.nonce or ""
    pending = Subscribers(db).pending(nonce)
    if pending is None or pending[0] != claims.address:
        raise TokenGone("this link has already been used", "if you are not subscribed yet, sign up again")
    return (nonce, *pending)


def confirm_subscription(
    settings: Settings, db: Database, token: str, now: dt.datetime | None = None
) -> Path:
    """Turn a confirmation link into a profile file; the link is used up only once the file is written."""
    nonce, address, keywords, name = pending_confirmation(settings, db, token, now)
    if keywords:
        path = save_profile(settings, address, keywords, name)
    else:  # a return (`reserve_return`): the profile stays as it is
        profile = profile_for(settings.profiles_dir, address, profiles_cache(settings))
        if profile is None:
            raise TokenGone("no profile lists this address any more", "sign up again on the form")
        path = profile.path
    Subscribers(db).complete(nonce, address)
    return path


def save_profile(settings: Settings, address: str, keywords: Sequence[str], name: str | None = None) -> Path:
    """Write `address`'s keywords to its profile; ProfileNotSaved when the disk refuses."""
    with profile_saving("your subscription", "your link still works: try it again later"):
        return save_subscription(settings.profiles_dir, address, keywords, name, profiles_cache(settings))


def chosen_settings(
    form: Mapping[str, str], current: SubscriberSettings, likes: bool = False
) -> SubscriberSettings:
    """The settings a manage form asks for; a field the form lacks keeps its current value.
    A profile with liked papers (`likes`) may do without keywords and authors."""
    terms = {key: _terms(form[key], key) if key in form else getattr(current, key) for key in TERM_FIELDS}
    if not (terms["keywords"] or terms["authors"] or likes):
        raise SubscriptionError(
            "at least one keyword or author is needed", "for example: pretraining", "keywords"
        )
    frequency = form.get("frequency", current.frequency).strip()
    if frequency not in ("daily", "weekly"):
        raise SubscriptionError(
            f"'{frequency[:20]}' is not a frequency: choose daily or weekly", field="frequency"
        )
    return SubscriberSettings(**terms, frequency=frequency, max_papers=_max_papers(form, current))


def _terms(text: str, key: str, separators: str = r"\n") -> tuple[str, ...]:
    """The terms of a form field, each once; one a line on the manage page, where an operator's
    author "Liang, Percy" must come back as it went."""
    found = list(dict.fromkeys(t.strip() for t in re.split(separators, text) if t.strip()))
    if len(found) > MAX_KEYWORDS or any(len(t) > 100 for t in found):
        raise SubscriptionError(f"{key}: at most {MAX_KEYWORDS} of up to 100 characters each", field=key)
    for term in found:
        if not re.search(r"[^\W_]", term):
            raise SubscriptionError(f"{key}: '{term}' has no letters or digits to match", field=key)
    return tuple(found)


def _max_papers(form: Mapping[str, str], current: SubscriberSettings) -> int:
    text = form.get("max_papers", str(current.max_papers)).strip()
    if not (text.isascii() and text.isdigit() and 1 <= int(text) <= MAX_PAPERS):
        raise SubscriptionError(
            f"papers per digest: '{text[:20]}' is not a number between 1 and {MAX_PAPERS}", field="max_papers"
        )
    return int(text)


def current_settings(
    settings: Settings, address: str
) -> tuple[SubscriberSettings, int, bool, Profile | None]:
    """What the manage page shows for `address`: its settings, how many addresses its profile
    mails, whether only a profile with mistakes lists it (so that no digest goes to it), and
    the profile itself (None for the last two)."""
    try:
        profile = profile_to_edit(settings.profiles_dir, address, profiles_cache(settings))
    except ConfigError:
        profile, broken = None, True
    else:
        broken = False
    if profile is None:
        return SubscriberSettings((), (), (), "daily", DEFAULT_MAX_PAPERS), 1, broken, None
    return subscriber_settings(profile), len(profile.emails), broken, profile


def save_settings(settings: Settings, address: str, chosen: SubscriberSettings) -> Path:
    """Write a manage form's settings into the file that lists `address`; ProfileNotSaved when refused."""
    with profile_saving("your changes", "what you typed is kept below: save again later"):
        return profile_edits.save_settings(settings.profiles_dir, address, chosen, profiles_cache(settings))


def give_own_profile(settings: Settings, address: str) -> Path:
    """Give `address` a profile file of its own, copying the shared one it was listed in."""
    with profile_saving("your own profile", "nothing changed: try again later"):
        return profile_edits.give_own_file(settings.profiles_dir, address, profiles_cache(settings))


def profiles_cache(settings: Settings) -> Path:
    return settings.state_dir / CACHE_FILE  # the one runs keep: unchanged files are not parsed


@contextlib.contextmanager
def profile_saving(what: str, retry: str) -> Iterator[None]:
    """Turn a refused profile write into ProfileNotSaved: what the person may do, what to tell whom."""
    try:
        yield
    except (OSError, ConfigError) as exc:  # the profile writer names its OSError in a ConfigError
        cause = exc if isinstance(exc, OSError) else exc.__cause__
        if isinstance(cause, OSError):  # not its message: that names folders of the server
            reason, tell = cause.strerror or "the folder refused the file", OPERATOR_HINT
        else:  # the file's text is the trouble (one ruamel cannot keep the comments of, say)
            reason, tell = "the profile file could not be edited", OPERATOR_FILE_HINT
        raise ProfileNotSaved(f"{what} could not be saved just now ({reason})", f"{retry}. {tell}.") from exc


def unsubscribe(db: Database, address: str, via: str) -> bool:
    """Stop every digest to `address`; False when it had already left."""
    return Subscribers(db).unsubscribe(checked_address(address), via)


def secret(settings: Settings) -> str:
    return site_secret(settings.secret, settings.state_dir)


def link_address(
    site_key: str, db: Database, purpose: str, token: str, now: dt.datetime | None = None
) -> str:
    """The address a manage, view or unsubscribe link stands for, unless it was rotated away."""
    return link_claims(site_key, db, purpose, token, now).address


def link_claims(
    site_key: str, db: Database, purpose: str, token: str, now: dt.datetime | None = None
) -> Claims:
    """What a link says, unless it was rotated away (TokenError when it is not genuine)."""
    claims = verify(site_key, purpose, token, now)
    if claims.issued < Subscribers(db).links_valid_from(claims.address):
        raise TokenGone("this link was replaced by a newer one", "use the links in your latest digest")
    return claims


def rotate_links(db: Database, address: str, now: dt.datetime | None = None) -> None:
    """Retire every link issued to `address` so far; the next digest carries new ones."""
    Subscribers(db).rotate_links(address, now or dt.datetime.now(dt.UTC))


def unsubscribe_token(settings: Settings, address: str, now: dt.datetime | None = None) -> str:
    return sign(secret(settings), "unsubscribe", address, issued=now or dt.datetime.now(dt.UTC))


def mailed_keywords(keywords: Sequence[str]) -> tuple[list[str], int]:
    """The keywords a confirmation quotes, each shortened, and how many more there are."""
    shown = [_shortened(k, MAILED_KEYWORD_LENGTH) for k in keywords[:MAILED_KEYWORDS]]
    return shown, len(keywords) - len(shown)


def _shortened(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def send_confirmation(settings: Settings, signup: SignUp) -> None:
    """Mail the confirmation link of a reserved sign-up; SubscriptionError if it cannot go."""
    expires = signup.at + dt.timedelta(days=CONFIRM_DAYS)
    token = sign(secret(settings), "confirm", signup.address, expires, signup.nonce)
    pages = Pages(settings.title, settings.base_url, settings.templates_dir)
    keywords, more = mailed_keywords(signup.keywords)
    name = _shortened(signup.name, MAILED_NAME_LENGTH) if signup.name else None
    text = pages.confirmation_text(
        address=signup.address, keywords=keywords, more_keywords=more, name=name,
        valid_days=CONFIRM_DAYS, confirm_url=f"{settings.base_url}/confirm/{token}",
    )  # fmt: skip
    subject = f"Confirm your subscription to {settings.title}"
    message = build_notice(
        sender=settings.notice_sender or settings.sender, recipient=signup.address, subject=subject,
        text=text, now=signup.at,
    )  # fmt: skip
    outbox = settings.state_dir / "outbox"
    transport = open_transport(settings.transport, settings.smtp, outbox, "confirmations", settings.dkim)
    try:
        transport.send(message, signup.address)
    except DeliveryError as error:
        raise SubscriptionError(
            f"the confirmation email could not be sent: {error}", "try again later"
        ) from error
    finally:
        transport.close()
