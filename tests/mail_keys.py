"""DKIM keys for tests, made by openssl as an operator would make them."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest


def make_key(folder: Path, bits: int = 2048, name: str = "dkim.pem") -> Path:
    """A new RSA private key in PEM form."""
    if shutil.which("openssl") is None:  # the README's command for making a key needs it too
        pytest.fail("openssl is needed to make DKIM keys")
    path = folder / name
    subprocess.run(
        ["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", f"rsa_keygen_bits:{bits}", "-out", str(path)],
        check=True,
        capture_output=True,
    )
    return path
