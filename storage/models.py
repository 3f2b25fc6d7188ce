"""The database tables, as typed SQLAlchemy 2.0 models.

The schema only ever changes through the Alembic migrations beside this file;
tests/test_migrations.py proves the two agree.
"""
from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import (
    JSON,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

# Stable constraint names, so migrations can refer to them on every database.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Activity(Base):
    """A workshop, webinar, pilot project, guidance launch… as a trainer logged it."""

    __tablename__ = "activities"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(32))
    modality: Mapped[str | None] = mapped_column(String(16))
    start_date: Mapped[date | None] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    city: Mapped[str | None] = mapped_column(String(120))
    country: Mapped[str | None] = mapped_column(String(2))  # where it took place
    organiser: Mapped[str | None] = mapped_column(String(200))
    participants: Mapped[int | None] = mapped_column(Integer)
    women: Mapped[int | None] = mapped_column(Integer)
    men: Mapped[int | None] = mapped_column(Integer)
    # How many countries the log said took part ("from 9 countries"), even when fewer were named.
    countries_stated: Mapped[int | None] = mapped_column(Integer)
    # Kept in step with the attendee list, so figures can fall back on it in SQL
    # when no total was stated, without reading the attendees table.
    attendee_count: Mapped[int] = mapped_column(Integer, default=0)
    attendee_women: Mapped[int | None] = mapped_column(Integer)  # None unless every attendee's sex is known
    attendee_men: Mapped[int | None] = mapped_column(Integer)  # likewise
    # What the activity produced, for indicators that count products ("2 case studies"):
    # how many, and of which kind (handlers/counted.py PRODUCT_KINDS).
    products: Mapped[int | None] = mapped_column(Integer)
    product_kind: Mapped[str | None] = mapped_column(String(32))
    centre: Mapped[str | None] = mapped_column(String(40))  # the organising regional centre (plan_data/centres.toml)
    status: Mapped[str] = mapped_column(String(16), default="done")
    raw_text: Mapped[str] = mapped_column(Text)
    channel: Mapped[str] = mapped_column(String(16))
    conversation_id: Mapped[str] = mapped_column(String(400))
    user_id: Mapped[str] = mapped_column(String(200), index=True)
    user_name: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    countries: Mapped[list[ActivityCountry]] = relationship(
        back_populates="activity", cascade="all, delete-orphan", order_by="ActivityCountry.position"
    )
    languages: Mapped[list[ActivityLanguage]] = relationship(
        back_populates="activity", cascade="all, delete-orphan"
    )
    links: Mapped[list[IndicatorLink]] = relationship(
        back_populates="activity", cascade="all, delete-orphan", order_by="IndicatorLink.id"
    )
    attendees: Mapped[list[Attendee]] = relationship(
        back_populates="activity", cascade="all, delete-orphan", order_by="Attendee.id"
    )

    # Live activities only, by date: most queries want just those, and an index led by
    # deleted_at (NULL for nearly every row) would make both databases scan them all.
    __table_args__ = (Index("ix_activities_live_start", "start_date",
                            sqlite_where=text("deleted_at IS NULL"), postgresql_where=text("deleted_at IS NULL")),)


class ActivityCountry(Base):
    """A country taking part in an activity (the host country included)."""

    __tablename__ = "activity_countries"

    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id", ondelete="CASCADE"), primary_key=True)
    country: Mapped[str] = mapped_column(String(2), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    # "host" or "participant": the host of an online activity is not reached unless its people took part.
    role: Mapped[str] = mapped_column(String(12), default="participant", server_default="participant")

    activity: Mapped[Activity] = relationship(back_populates="countries")

    __table_args__ = (Index("ix_activity_countries_country", "country"),)


class ActivityLanguage(Base):
    __tablename__ = "activity_languages"

    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id", ondelete="CASCADE"), primary_key=True)
    language: Mapped[str] = mapped_column(String(8), primary_key=True)

    activity: Mapped[Activity] = relationship(back_populates="languages")


class IndicatorLink(Base):
    """An activity counted toward an indicator, and how that link was made."""

    __tablename__ = "indicator_links"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id", ondelete="CASCADE"))
    plan_id: Mapped[str] = mapped_column(String(40))
    indicator_code: Mapped[str] = mapped_column(String(16))
    outcome_code: Mapped[str] = mapped_column(String(16))  # the indicator's outcome, for grouping
    method: Mapped[str] = mapped_column(String(16))  # explicit, fuzzy, confirmed
    score: Mapped[float | None] = mapped_column(Float)  # the matcher's score, for fuzzy links
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    activity: Mapped[Activity] = relationship(back_populates="links")

    __table_args__ = (
        UniqueConstraint("activity_id", "plan_id", "indicator_code", name="uq_indicator_links_activity"),
        Index("ix_indicator_links_plan_code", "plan_id", "indicator_code", "activity_id"),
        Index("ix_indicator_links_plan_outcome", "plan_id", "outcome_code", "activity_id"),
    )


class MatchRejection(Base):
    """An indicator a person unlinked from an activity: evidence against matching its text there.

    Confirmed links are the positive examples (indicator_links whose method is not
    "fuzzy"); this table keeps the negative ones, which a removed link would lose.
    """

    __tablename__ = "match_rejections"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id", ondelete="CASCADE"))
    plan_id: Mapped[str] = mapped_column(String(40))
    indicator_code: Mapped[str] = mapped_column(String(16))
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    __table_args__ = (
        UniqueConstraint("activity_id", "plan_id", "indicator_code", name="uq_match_rejections_activity"),
        Index("ix_match_rejections_plan", "plan_id", "activity_id"),
    )


class Attendee(Base):
    """One person at an activity, or `count` people counted together ("12 from Ghana")."""

    __tablename__ = "attendees"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id", ondelete="CASCADE"), index=True)
    name: Mapped[str | None] = mapped_column(String(200))
    organisation: Mapped[str | None] = mapped_column(String(200))
    country: Mapped[str | None] = mapped_column(String(2), index=True)
    sex: Mapped[str | None] = mapped_column(String(8))  # female, male, or None when not stated
    role: Mapped[str | None] = mapped_column(String(200))
    count: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    activity: Mapped[Activity] = relationship(back_populates="attendees")


class AuditEntry(Base):
    """Who changed what and when; also what `undo` reverses."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    user_id: Mapped[str] = mapped_column(String(200))
    user_name: Mapped[str | None] = mapped_column(String(200))
    channel: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(24))  # create, edit, delete, link, unlink, attendees, undo
    activity_id: Mapped[int] = mapped_column(Integer, index=True)
    changes: Mapped[dict] = mapped_column(JSON, default=dict)
    undone_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (Index("ix_audit_log_user_at", "user_id", "at"),)


class DataVersion(Base):
    """One row that counts committed changes to activities, links and attendees, in commit order.

    Status replies are cached per version (handlers.status.StatusCache). The newest
    audit id would not do: PostgreSQL hands ids out when rows are inserted, so a
    transaction that inserted earlier can commit later, with the smaller id.
    """

    __tablename__ = "data_version"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)  # always 1
    version: Mapped[int] = mapped_column(Integer, default=0)


class ProcessedEvent(Base):
    """A platform message already handled; its key makes a redelivery a no-op."""

    __tablename__ = "processed_events"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class InboxEntry(Base):
    """A message that changes data, kept from the moment it is acknowledged until it is handled.

    Slack does not send an acknowledged event again: what a crash interrupts is found here,
    at start-up or by the periodic sweep, and handled then (once, by its key in processed_events).
    """

    __tablename__ = "inbox"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)  # the event key dispatch claims
    channel: Mapped[str] = mapped_column(String(16))
    payload: Mapped[dict] = mapped_column(JSON)  # what is needed to handle it and answer: text, who, where
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # When a process last took it up; another takes it over only when that is a lease old.
    claimed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=1)


class UserName(Base):
    """A chat user's display name as the platform gave it (Slack users.info), cached."""

    __tablename__ = "user_names"

    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    display_name: Mapped[str] = mapped_column(String(200))
    fetched_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ConversationRef(Base):
    """How to reach a conversation later without being asked (Teams proactive messages, digests)."""

    __tablename__ = "conversation_refs"

    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    conversation_id: Mapped[str] = mapped_column(String(400), primary_key=True)
    reference: Mapped[dict] = mapped_column(JSON, default=dict)  # the platform's own reference, as JSON
    timezone: Mapped[str | None] = mapped_column(String(64))  # the conversation's zone where the platform says
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)


class ConversationPlan(Base):
    """The plan a conversation chose with `plan use`: its questions are answered in that plan."""

    __tablename__ = "conversation_plans"

    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    conversation_id: Mapped[str] = mapped_column(String(400), primary_key=True)
    plan_id: Mapped[str] = mapped_column(String(40))
    chosen_by: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)


# APScheduler's SQLAlchemyJobStore creates and owns this table itself (bot/scheduler.py);
# migrations leave it alone.
SCHEDULER_JOBS_TABLE = "apscheduler_jobs"


def managed_by_migrations(obj, name, type_, reflected, compare_to) -> bool:
    """Alembic's `include_object` hook: everything except the scheduler's own job table."""
    return not (type_ == "table" and name == SCHEDULER_JOBS_TABLE)


class DigestSubscription(Base):
    """A conversation's standing order for a progress digest: how often, when, in which zone, on what."""

    __tablename__ = "digest_subscriptions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    conversation_id: Mapped[str] = mapped_column(String(400))
    # A convention or outcome code the digest is limited to; "" for the whole plan (not NULL,
    # so the unique key below holds: NULLs never collide).
    scope: Mapped[str] = mapped_column(String(16), default="")
    plan_id: Mapped[str] = mapped_column(String(40))
    cadence: Mapped[str] = mapped_column(String(8))  # daily, weekly, monthly
    weekday: Mapped[int | None] = mapped_column(Integer)  # 0 = Monday; weekly only
    day_of_month: Mapped[int | None] = mapped_column(Integer)  # monthly only
    hour: Mapped[int] = mapped_column(Integer)
    minute: Mapped[int] = mapped_column(Integer)
    timezone: Mapped[str] = mapped_column(String(64))  # an IANA zone
    state: Mapped[str] = mapped_column(String(8), default="active")  # active, off, gone
    # When this schedule took effect: periods that ended before it are never sent.
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)

    deliveries: Mapped[list[DigestDelivery]] = relationship(back_populates="subscription")

    __table_args__ = (
        UniqueConstraint("channel", "conversation_id", "scope", name="uq_digest_subscriptions_conversation"),
        Index("ix_digest_subscriptions_state", "state"),
    )


class DigestDelivery(Base):
    """The outbox: one row per (subscription, period), claimed before sending and marked after.

    The unique key is what makes a digest go out once, whatever number of
    scheduler processes run. Console deliveries stay here: the row is the message.
    """

    __tablename__ = "digest_deliveries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("digest_subscriptions.id", ondelete="CASCADE"))
    period_start: Mapped[date] = mapped_column(Date)  # first day of the period, in the subscription's zone
    period_end: Mapped[date] = mapped_column(Date)  # last day of the period, included
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))  # the scheduled instant
    state: Mapped[str] = mapped_column(String(8))  # claimed, sent, failed, gone
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    claimed_by: Mapped[str | None] = mapped_column(String(200))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))  # None: no retry
    last_error: Mapped[str | None] = mapped_column(Text)  # safe to show in chat
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    text: Mapped[str | None] = mapped_column(Text)  # the digest as plain text, once sent

    subscription: Mapped[DigestSubscription] = relationship(back_populates="deliveries")

    __table_args__ = (
        UniqueConstraint("subscription_id", "period_start", name="uq_digest_deliveries_period"),
        Index("ix_digest_deliveries_state_next", "state", "next_attempt_at"),
    )
