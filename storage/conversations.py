"""Conversation references: how to reach a conversation later without being asked."""
from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from storage.models import ConversationRef


def remember_conversation(sessions: sessionmaker[Session], channel: str, conversation_id: str,
                          reference: dict, timezone: str | None) -> None:
    """Store or refresh a conversation's reference; writes only when something changed."""
    with sessions() as session:
        row = session.get(ConversationRef, (channel, conversation_id))
        if row is None:
            session.add(ConversationRef(channel=channel, conversation_id=conversation_id, reference=reference,
                                        timezone=timezone))
        elif row.reference != reference or (timezone and row.timezone != timezone):
            row.reference = reference
            row.timezone = timezone or row.timezone
        else:
            return
        try:
            session.commit()
        except IntegrityError:  # another process stored it first
            session.rollback()
