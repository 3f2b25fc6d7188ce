"""Conversation references: how to reach a conversation later without being asked."""
from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from storage.models import ConversationPlan, ConversationRef


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


def chosen_plan(session: Session, channel: str, conversation_id: str) -> str | None:
    """The plan id a conversation chose with `plan use`, if any."""
    row = session.get(ConversationPlan, (channel, conversation_id))
    return row.plan_id if row else None


def choose_plan(session: Session, channel: str, conversation_id: str, plan_id: str, chosen_by: str) -> None:
    row = session.get(ConversationPlan, (channel, conversation_id))
    if row is None:
        session.add(ConversationPlan(channel=channel, conversation_id=conversation_id, plan_id=plan_id,
                                     chosen_by=chosen_by))
    else:
        row.plan_id, row.chosen_by = plan_id, chosen_by
