"""Inbound mail: what a message sent back to the site is (a bounce, a complaint, a mailed
unsubscribe, an automatic reply or something for a person), read from its bytes alone.

Pure: no state, no clock. The pipeline (pipeline/inbound.py) acts on what this finds.
"""

from .classify import MAX_MESSAGE_BYTES, classify

__all__ = ["MAX_MESSAGE_BYTES", "classify"]
