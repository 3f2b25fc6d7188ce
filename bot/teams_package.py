"""`tapbot teams-package`: the Teams app package (manifest.json, color.png, outline.png, zipped).

Upload it in Teams (Apps → Manage your apps → Upload an app) or in the Teams admin
centre. The icons are drawn here with zlib and struct: three rising bars, one per
convention, white on the accent colour (192×192) and white on transparent (32×32).
"""
from __future__ import annotations

import json
import struct
import uuid
import zipfile
import zlib
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from bot.config import ConfigError, Settings
from handlers.context import utc_today
from handlers.examples import with_examples
from plan_data.loader import load_plans

ACCENT = (0x0B, 0x6E, 0x4F)  # a deep green
WHITE = (255, 255, 255)
WEBSITE = "https://www.brsmeas.org/"
COMMANDS = [
    ("log", "Log a workshop, webinar or pilot project in one message, or open the form"),
    ("status {outcome}", "Where an outcome, indicator, convention or country stands"),  # {outcome}: from the plan
    ("list mine", "Recent activities: yours, or by country, convention, outcome or indicator"),
    ("plan", "Browse the plan's outcomes, outputs and indicators"),
    ("digest weekly monday 09:00", "A weekly digest of progress in this conversation"),
    ("help", "Everything tapbot can do, with examples"),
]


def manifest(settings: Settings) -> dict:
    app_id = settings.teams_app_id
    if not app_id:
        raise ConfigError("TEAMS_APP_ID is not set: it is the Microsoft App ID of the Azure Bot registration "
                          "(README, “Teams”).")
    try:
        uuid.UUID(app_id)
    except ValueError:
        raise ConfigError(
            f"TEAMS_APP_ID {app_id!r} is not a GUID; copy the Microsoft App ID from the Azure Bot.") from None
    plan = load_plans(settings.plan_files).current(utc_today())  # the command examples name its codes
    return {
        "$schema": "https://developer.microsoft.com/en-us/json-schemas/teams/v1.17/MicrosoftTeams.schema.json",
        "manifestVersion": "1.17",
        "version": _version(),
        "id": app_id,
        "developer": {"name": "BRS Secretariat", "websiteUrl": WEBSITE, "privacyUrl": WEBSITE,
                      "termsOfUseUrl": WEBSITE},
        "name": {"short": "tapbot", "full": "tapbot: BRS Technical Assistance Plan tracker"},
        "description": {
            "short": "Log workshops against the BRS Technical Assistance Plan and see where it stands.",
            "full": ("tapbot keeps track of the Technical Assistance Plan of the Basel, Rotterdam and Stockholm "
                     "conventions. Log a workshop, webinar, pilot project or guidance launch in one message right "
                     "after it happened; ask where an outcome, an indicator or a country stands; get a weekly "
                     "digest of what was logged and what moved."),
        },
        "icons": {"color": "color.png", "outline": "outline.png"},
        "accentColor": "#{:02X}{:02X}{:02X}".format(*ACCENT),
        "bots": [{
            "botId": app_id,
            "scopes": ["personal", "team", "groupChat"],
            "isNotificationOnly": False,
            "supportsFiles": False,
            "commandLists": [{"scopes": ["personal", "team", "groupChat"],
                              "commands": [{"title": with_examples(title, plan), "description": text}
                                           for title, text in COMMANDS]}],
        }],
        "permissions": ["identity", "messageTeamMembers"],
        "validDomains": [],
    }


def write_package(settings: Settings, out: Path) -> Path:
    """Write the zipped app package to `out` and return its path."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr("manifest.json", json.dumps(manifest(settings), indent=2, ensure_ascii=False))
        package.writestr("color.png", icon(192, background=ACCENT))
        package.writestr("outline.png", icon(32, background=None))
    return out


def icon(size: int, background: tuple[int, int, int] | None) -> bytes:
    """Three rising white bars; on `background`, or on transparent for the outline icon."""
    fill = (*background, 255) if background else (0, 0, 0, 0)
    pixels = [[fill] * size for _ in range(size)]
    # Bars sit inside the centre of the icon, as Teams' safe area asks.
    margin = size // 5 if background else size // 8
    width = (size - 2 * margin) // 5
    bottom = size - margin
    for i, height in enumerate((0.4, 0.7, 1.0)):
        left = margin + i * 2 * width
        top = bottom - round(height * (size - 2 * margin))
        for y in range(top, bottom):
            for x in range(left, left + width):
                pixels[y][x] = (*WHITE, 255)
    return png(pixels)


def png(pixels: list[list[tuple[int, int, int, int]]]) -> bytes:
    """An RGBA PNG from rows of pixels."""
    height, width = len(pixels), len(pixels[0])
    raw = b"".join(b"\x00" + bytes(channel for pixel in row for channel in pixel) for row in pixels)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)  # 8-bit RGBA
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")


def _version() -> str:
    try:
        return version("tapbot")
    except PackageNotFoundError:
        return "0.1.0"
