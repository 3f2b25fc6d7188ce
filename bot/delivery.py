"""Sending a Reply into a conversation without being asked (digests)."""
from __future__ import annotations


class DeliveryError(Exception):
    """A message could not be delivered. `permanent` when retrying cannot help
    (the bot was removed from the conversation, the channel no longer exists)."""

    def __init__(self, message: str, permanent: bool = False):
        super().__init__(message)
        self.permanent = permanent
