"""The deployment files: the compose file of "Running on several machines", its digest.yaml, the image."""

from __future__ import annotations

import re
from typing import Any

import yaml

from digest.config.options import BY_KEY

from .conftest import ROOT

DEPLOY = ROOT / "deploy"
COMPOSE = DEPLOY / "compose.several-machines.yaml"


def compose() -> dict[str, Any]:
    parsed: dict[str, Any] = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    return parsed


def nodes() -> dict[str, dict[str, Any]]:
    """The services that run `digest serve`."""
    return {name: s for name, s in compose()["services"].items() if s.get("command", [""])[0] == "serve"}


def mounted(service: dict[str, Any], target: str) -> str:
    [source] = [v.split(":")[0] for v in service["volumes"] if v.split(":")[1] == target]
    return source


def leaf_keys(mapping: dict[str, Any], prefix: str = "") -> list[str]:
    keys = []
    for key, value in mapping.items():
        if isinstance(value, dict):
            keys += leaf_keys(value, f"{prefix}{key}.")
        elif not isinstance(value, list):  # sources: a list of its own, checked by digest check
            keys.append(prefix + key)
    return keys


def test_the_compose_file_runs_postgresql_a_relay_and_two_digest_serve() -> None:
    services = compose()["services"]
    assert services["db"]["image"].startswith("postgres:")
    assert "relay" in services and len(nodes()) == 2
    for name, node in nodes().items():
        assert node["depends_on"]["db"] == {"condition": "service_healthy"}, name
        assert mounted(node, "/config/profiles") == "profiles", name  # one folder for every node
        assert "${DIGEST_SECRET" in node["environment"]["DIGEST_SECRET"], name  # the same secret
    states = {mounted(node, "/state") for node in nodes().values()}
    assert len(states) == 2  # each node a state_dir of its own
    assert "nfsvers=4" in compose()["volumes"]["profiles"]["driver_opts"]["o"]


def test_every_node_reads_a_digest_yaml_that_exists_and_sends_through_the_relay() -> None:
    for node in nodes().values():
        config_file = DEPLOY / mounted(node, "/config/digest.yaml")
        config = yaml.safe_load(config_file.read_text(encoding="utf-8"))
        assert config["state_url"].startswith("postgresql://")
        assert config["delivery"]["transport"] == "smtp" and config["delivery"]["smtp"]["host"] == "relay"
        # Every key is one digest knows (state_url: the PostgreSQL backend's own key).
        unknown = [key for key in leaf_keys(config) if key not in BY_KEY and key != "state_url"]
        assert unknown == []


def test_the_image_exposes_the_web_and_the_lmtp_ports() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    [exposed] = re.findall(r"^EXPOSE (.+)$", dockerfile, re.M)
    assert set(exposed.split()) == {"8080", "8024"}
