"""A Reply as plain text: for the terminal, and as the fallback text of rich messages."""
from __future__ import annotations

from handlers.messages import Reply


def shorten(text: str, limit: int) -> str:
    """At most `limit` characters, cut at a word with an ellipsis."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def day(value) -> str:
    """A date as people write it: 5 Mar 2024 (no leading zero, on every platform)."""
    return f"{value.day} {value:%b %Y}"


def render_text(reply: Reply) -> str:
    out: list[str] = []
    if reply.title:
        out.append(reply.title)
    out += [f"{f.label}: {f.value}" for f in reply.fields]
    out += reply.lines
    if reply.table:
        out.append(_table(reply.table.columns, reply.table.rows))
    if reply.actions:
        out.append("→ " + "   ".join(f"[{a.label}: {a.command}]" for a in reply.actions))
    out += [f"({line})" for line in reply.context]
    return "\n".join(out).replace("`", "").replace("*", "")


def _table(columns: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(str(cell)) for cell in column) for column in zip(columns, *rows, strict=False)]
    lines = ["  ".join(str(cell).ljust(w) for cell, w in zip(row, widths, strict=False)).rstrip()
             for row in [columns, *rows]]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
