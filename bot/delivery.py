"""Sending a Reply into a conversation without being asked (digests)."""
from __future__ import annotations

from dataclasses import dataclass

from bot.config import Settings
from handlers.messages import Reply

# Channels whose "delivery" is the outbox row itself: `tapbot scheduler --once` prints it.
LOCAL_CHANNELS = ("console", "local")


class DeliveryError(Exception):
    """A message could not be delivered. `permanent` when retrying cannot help
    (the bot was removed from the conversation, the channel no longer exists)."""

    def __init__(self, message: str, permanent: bool = False):
        super().__init__(message)
        self.permanent = permanent


@dataclass(frozen=True)
class Destination:
    """Where a digest goes: a conversation of a channel, and how the platform reaches it."""

    channel: str  # slack, teams, console
    conversation_id: str
    reference: dict | None = None  # Teams: the conversation reference stored from its messages


async def deliver(settings: Settings, destination: Destination, reply: Reply) -> None:
    """Post `reply` into the destination conversation; raises DeliveryError when it cannot."""
    if destination.channel == "slack":
        from bot.slack import post_reply

        await post_reply(settings, destination.conversation_id, reply)
    elif destination.channel == "teams":
        if not destination.reference:
            raise DeliveryError("no Teams conversation reference is stored for this conversation; "
                                "mention the bot there once", permanent=True)
        from bot.teams import send_proactive

        await send_proactive(settings, destination.reference, reply)
    elif destination.channel not in LOCAL_CHANNELS:
        raise DeliveryError(f"no way to deliver to channel “{destination.channel}”", permanent=True)
