"""The service commands: serve, subscribe, confirm, unsubscribe, suppressions and init-state."""

from __future__ import annotations

import logging
import logging.config
from pathlib import Path

import click

from ..config.settings import load_settings
from ..errors import DigestError, SubscriptionError
from ..pipeline import state, subscriptions
from .main import config_option, main


@main.command()
@click.argument("email")
@config_option
@click.option(
    "--keyword", "keywords", multiple=True, required=True, metavar="K", help="A keyword (repeatable)."
)
@click.option("--name", help="The subscriber's name, for the greeting.")
def subscribe(email: str, config_path: Path, keywords: tuple[str, ...], name: str | None) -> None:
    """Sign EMAIL up: a confirmation link is mailed, and nothing more until it is used.

    \b
    Examples:
      digest subscribe alice@example.org --keyword pretraining --keyword "data selection"
    """
    settings = load_settings(config_path)
    sent = state.with_state(
        settings, lambda db: subscriptions.request_subscription(settings, db, email, keywords, name)
    )
    if not sent:
        raise SubscriptionError(
            f"a confirmation was sent to {email} less than an hour ago; not sending another yet",
            "use the link in that message, or try again in an hour",
        )
    valid = f"it is valid for {subscriptions.CONFIRM_DAYS} days"
    click.echo(f"Confirmation link sent to {email} (via {settings.transport}); {valid}.")


@main.command()
@click.argument("token")
@config_option
def confirm(token: str, config_path: Path) -> None:
    """Confirm a subscription with the TOKEN from its confirmation link, writing the profile.

    \b
    Examples:
      digest confirm eyJwIjoiY29uZmlybSIs...
    """
    settings = load_settings(config_path)
    token = token.rstrip("/").rpartition("/")[2]  # the whole link works as well as its token
    path = state.with_state(settings, lambda db: subscriptions.confirm_subscription(settings, db, token))
    click.echo(f"Subscribed: profile written to {path}")


@main.command()
@click.argument("email")
@config_option
def unsubscribe(email: str, config_path: Path) -> None:
    """Stop every digest to EMAIL. It wins over profiles: editing one never mails EMAIL again.

    \b
    Examples:
      digest unsubscribe alice@example.org
    """
    settings = load_settings(config_path)
    newly = state.with_state(settings, lambda db: subscriptions.unsubscribe(db, email, "command line"))
    click.echo(f"{email} is unsubscribed" + ("" if newly else " (it already was)"))


@main.command()
@config_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port", default=8080, show_default=True, type=click.IntRange(1, 65535), help="Port to listen on."
)
@click.option("--no-schedule", is_flag=True, help="Serve the web pages only; send no editions.")
@click.option(
    "--request-timeout", default=10.0, show_default=True, type=click.FloatRange(0.1, 300),
    metavar="SECONDS", help="Close a request whose headers, or whose body, take longer to arrive.",
)  # fmt: skip
def serve(config_path: Path, host: str, port: int, no_schedule: bool, request_timeout: float) -> None:
    """Serve the web pages and send every edition at its time, in each subscriber's time zone.

    The pages: subscribe, confirm, unsubscribe (one-click), manage, view, /healthz.
    With inbound.lmtp set, it also takes bounces, complaints and mailed
    unsubscribes over LMTP from a mail server (see `digest inbound`).
    Editions missed while the service was down are sent once when it is back
    (within schedule.catch_up_days). SIGTERM or Ctrl-C stops it cleanly: the
    message in flight is finished and recorded, the rest wait for the next start.
    Put it behind a reverse proxy that terminates HTTPS at site.base_url.
    A client that sends its request too slowly (--request-timeout) is cut off,
    so a few slow clients cannot hold every connection.

    \b
    Examples:
      digest serve
      digest serve --host 0.0.0.0 --port 8000 --config /etc/digest/digest.yaml
    """
    import uvicorn

    from ..serve.lmtp import LmtpListener
    from ..serve.scheduler import Service
    from ..serve.web import create_app
    from ..serve.web_server import listening_socket, log_config, server_config

    settings = load_settings(config_path)
    logging_setup = log_config()  # once, for every line; uvicorn is handed the same
    logging.config.dictConfig(logging_setup)
    # Checks the state; starts with the server. Each edition is sent by a process of its own.
    service = None if no_schedule else Service(settings, in_child=True)
    listening = listening_socket(host, port)  # a busy port stops it here, before anything is sent
    lmtp = LmtpListener(settings, settings.lmtp) if settings.lmtp else None
    if lmtp is not None:
        lmtp.start()  # so does a busy LMTP port
    where = f"http://{host}:{port} (links in emails use {settings.base_url})"
    logging.getLogger("digest.serve").info("serving %s on %s", settings.title, where)
    app = create_app(settings, service, request_seconds=request_timeout)
    config = server_config(app, host, port, request_timeout, log_config=logging_setup)
    try:
        uvicorn.Server(config).run(sockets=[listening])
    finally:
        if lmtp is not None:
            lmtp.stop()


@main.command()
@config_option
@click.option("--clear", "clear", metavar="EMAIL", help="Allow mail to this address again.")
def suppressions(config_path: Path, clear: str | None) -> None:
    """List bounce scores and the addresses no longer mailed.

    An address is suppressed after `delivery.suppress_after` editions in a row
    ended in a permanent (5xx) refusal, when its bounce score reaches
    `inbound.suppress_score` (a hard bounce adds 1, a soft one
    `inbound.soft_bounce_weight`; the score starts over after
    `inbound.decay_days` without a bounce), or at once after a spam complaint.
    Clearing one lifts its suppression and starts its score over.

    \b
    Examples:
      digest suppressions
      digest suppressions --clear alice@example.org
    """
    settings = load_settings(config_path)
    if clear:
        if not state.clear_suppression(settings, clear):
            raise DigestError(
                f"{clear} is not suppressed", "digest suppressions lists the addresses that are"
            )
        click.echo(f"{clear} will be mailed again")
        return
    listed = state.list_suppressions(settings)
    scores = state.bounce_scores(settings)
    limit = settings.bounces.suppress_score
    for bounced in scores:
        marker = "suppressed" if bounced.suppressed else "mailed"
        click.echo(
            f"{bounced.address}  score {bounced.score:g} of {limit:g}  {marker}  "
            f"last bounce {bounced.last_bounce}  {bounced.reason}"
        )
    scored = {bounced.address for bounced in scores}
    for address, reason, since in listed:
        if address not in scored:
            click.echo(f"{address}  since {since}  {reason}")
    click.echo(f"{len(listed)} suppressed address(es), {len(scores)} with bounces", err=True)


@main.command("init-state")
@config_option
def init_state(config_path: Path) -> None:
    """Create the state database where one was lost, keeping who unsubscribed.

    Runs refuse to start when the database is missing or empty but the state
    dir shows it existed (it would send every edition again). Restore it from a
    backup if you can; otherwise this starts a new one, with every unsubscribe
    read back from unsubscribes.jsonl beside it.

    \b
    Examples:
      digest init-state
      digest init-state --config /etc/digest/digest.yaml
    """
    settings = load_settings(config_path)
    created, restored = state.init_state(settings)
    path = state.database_path(settings)
    if created:
        click.echo(
            f"Created {path}; {restored} unsubscribe(s) kept from {path.parent / 'unsubscribes.jsonl'}."
        )
    else:
        click.echo(f"{path} already exists; nothing to do.")
