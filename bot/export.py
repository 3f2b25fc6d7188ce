"""`tapbot export`: activities and the indicator table, for reports to the conferences of the Parties."""
from __future__ import annotations

import csv
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from handlers.context import Context
from handlers.status import Target, status_data
from storage.models import Activity

ACTIVITY_COLUMNS = [
    "id", "title", "kind", "modality", "start_date", "end_date", "country", "countries", "organiser",
    "participants", "women", "men", "products", "product_kind", "centre", "status", "indicators", "logged_by",
    "channel", "logged_at", "message",
]
INDICATOR_COLUMNS = ["convention", "outcome", "indicator", "text", "measure", "unit", "value", "activities",
                     "participants", "women", "men", "sex_not_stated", "countries", "non_parties",
                     "outside_period", "undated", "last_activity"]


def activity_rows(ctx: Context):
    with ctx.sessions() as session:
        query = (select(Activity).where(Activity.deleted_at.is_(None)).order_by(Activity.id)
                 .options(selectinload(Activity.countries), selectinload(Activity.links)))
        for a in session.scalars(query.execution_options(yield_per=1000)):
            yield [a.id, a.title, a.kind, a.modality or "", _iso(a.start_date), _iso(a.end_date), a.country or "",
                   " ".join(c.country for c in a.countries), a.organiser or "", _n(a.participants), _n(a.women),
                   _n(a.men), _n(a.products), a.product_kind or "", a.centre or "", a.status,
                   " ".join(link.indicator_code for link in a.links if link.plan_id == ctx.plan.id),
                   a.user_name or a.user_id, a.channel, a.created_at.isoformat(timespec="seconds"), a.raw_text]


def indicator_rows(ctx: Context):
    plan = ctx.plan
    with ctx.sessions() as session:
        for convention in plan.conventions:
            data = status_data(session, plan, Target("convention", convention))
            for row in data["indicators"]:
                indicator = plan.indicators[row["code"]]
                yield [convention, indicator.outcome, row["code"], indicator.text, row["measure"], row["unit"],
                       row["value"], row["activities"], row["participants"], _n(row["women"]), _n(row["men"]),
                       row["sex_not_stated"], " ".join(row["countries"]), " ".join(row["non_parties"]),
                       len(row["outside_period"]), len(row["undated"]), row["last_date"] or ""]


def _cell(value):
    """Text that a spreadsheet would run as a formula ("=…", "+…", "-…", "@…") is kept as text."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def _iso(value) -> str:
    return value.isoformat() if value else ""


def _n(value) -> str | int:
    return "" if value is None else value


def export(ctx: Context, fmt: str, out: Path) -> list[Path]:
    """Write the export; csv gives two files (…-activities.csv, …-indicators.csv), xlsx one workbook."""
    if fmt == "xlsx":
        from openpyxl import Workbook  # only this command needs it

        book = Workbook(write_only=True)
        for title, columns, rows in (("Indicators", INDICATOR_COLUMNS, indicator_rows(ctx)),
                                     ("Activities", ACTIVITY_COLUMNS, activity_rows(ctx))):
            sheet = book.create_sheet(title)
            sheet.append(columns)
            for row in rows:
                sheet.append([_cell(v) for v in row])
        book.save(out)
        return [out]
    stem = out.with_suffix("")
    written = []
    for name, columns, rows in (("indicators", INDICATOR_COLUMNS, indicator_rows(ctx)),
                                ("activities", ACTIVITY_COLUMNS, activity_rows(ctx))):
        path = stem.parent / f"{stem.name}-{name}.csv"
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(columns)
            writer.writerows([_cell(v) for v in row] for row in rows)
        written.append(path)
    return written
