"""digest: a self-hosted research-paper newsletter."""

__version__ = "0.1.0"
