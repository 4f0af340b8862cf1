"""One address can never stop the others: refused up front when it cannot be carried, kept
apart in the outbox, and a message that cannot be composed fails alone."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from digest.config.addresses import normalize_address
from digest.delivery.transports import safe_filename

from .conftest import Site
from .test_delivery import ALICE, Cli, errors, run, states, tally


def test_an_address_with_a_non_ascii_local_part_is_refused_with_a_hint() -> None:
    with pytest.raises(ValueError, match=r"before the @-sign .* plain ASCII"):
        normalize_address("ü@example.org")


def test_an_internationalised_domain_becomes_its_ascii_form() -> None:
    assert normalize_address("Jörg@Bücher.de".replace("ö", "o")) == "jorg@xn--bcher-kva.de"


def test_check_names_the_file_and_line_of_a_non_ascii_address(site: Site, cli: Cli) -> None:
    path = site.profile("uwe", "keywords: [pretraining]\nemail: ü@example.org\n")

    result = cli("check", "--config", site.config)

    assert result.exit_code == 1
    [error] = errors(result)
    assert error.startswith(f"Error: {path}:2: email: invalid address 'ü@example.org'")
    assert "plain ASCII" in error


def test_a_non_ascii_address_never_stops_the_others(site: Site, cli: Cli) -> None:
    site.profile("uwe", "keywords: [pretraining]\nemail: ü@example.org\n")

    result = run(cli, site)

    assert tally(result, "sent", "broken profile(s)") == (1, 1)
    assert states(site) == {ALICE: "sent"}


def test_sign_up_refuses_a_non_ascii_address_in_one_line(site: Site, cli: Cli) -> None:
    result = cli("subscribe", "ü@example.org", "--config", site.config, "--keyword", "pretraining")

    assert result.exit_code == 1
    [error] = errors(result)
    assert "'ü@example.org' is not a valid email address" in error and "plain ASCII" in error
    assert not site.outbox.exists()


def test_addresses_that_differ_only_in_replaced_characters_get_their_own_files() -> None:
    names = {safe_filename(a) for a in ("a/b@example.org", "a_b@example.org", "a?b@example.org")}

    assert len(names) == 3
    assert safe_filename("a_b@example.org") == "a_b@example.org"  # unaltered names stay readable


def test_the_longest_valid_address_has_a_file_name_the_disk_takes(tmp_path: Path) -> None:
    longest = normalize_address("a" * 64 + "@" + ".".join(["b" * 63] * 2 + ["c" * 57]) + ".org")
    assert len(longest) == 254

    name = safe_filename(longest) + ".eml"
    (tmp_path / name).write_bytes(b"")  # would be "File name too long" past 255 bytes

    assert name != safe_filename("a" * 64 + "@" + "b" * 200 + ".eml")


NAME_FIRST = (
    "Dear {{ digest.profile.name.split()[0] }},\n{% for item in papers %}{{ item.title }}\n{% endfor %}\n"
)


@pytest.mark.parametrize("others", [2, 130], ids=["here", "in-workers"])
def test_a_message_that_cannot_be_composed_fails_alone(site: Site, cli: Cli, others: int) -> None:
    # An operator's template that assumes every profile has a name: it fails for the one without.
    (site.root / "config" / "templates").mkdir()
    (site.root / "config" / "templates" / "digest.txt.j2").write_text(NAME_FIRST, encoding="utf-8")
    config = yaml.safe_load(site.config.read_text(encoding="utf-8"))
    site.config.write_text(yaml.safe_dump({**config, "templates": "templates"}), encoding="utf-8")
    crowd = [f"reader{n}@example.org" for n in range(others)]
    site.profile("crowd", f"name: The Crowd\nemail: [{', '.join(crowd)}]\nkeywords: [language model]\n")
    site.profile("nameless", "email: nameless@example.org\nkeywords: [language model]\n")

    result = run(cli, site)

    assert tally(result, "sent", "failed") == (others + 1, 1)
    [error] = errors(result)
    assert error.startswith("Error: not delivered: nameless@example.org: could not compose the message: ")
    assert "UndefinedError" in error
    assert "nameless@example.org" not in states(site)  # no ledger row: the next run tries again
