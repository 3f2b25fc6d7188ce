"""The terminal channel: `tapbot chat`. Also the harness tests use to talk to the bot."""
from __future__ import annotations

import contextlib
import getpass
import sys
from collections.abc import Iterable, Iterator
from typing import TextIO

from handlers.context import Context
from handlers.dispatch import dispatch
from handlers.examples import with_examples
from handlers.messages import Incoming, Reply
from handlers.render import render_text

CONVERSATION = "console"
HINT = ("tapbot — log what you did against the Technical Assistance Plan, ask where it stands.\n"
        "Try: log Regional workshop on e-waste ESM, Accra, Ghana, 12-14 March 2024, 35 participants (14 women)\n"
        "     status {outcome}   ·   status Ghana   ·   help   ·   Ctrl-D to leave\n"
        "A pasted list of several lines is one message; end a line with \\ to go on on the next.")
# Terminals that support it wrap pasted text in these markers once asked to.
PASTE_ON, PASTE_OFF = "\x1b[?2004h", "\x1b[?2004l"
PASTE_START, PASTE_END = "\x1b[200~", "\x1b[201~"


def messages(lines: Iterable[str]) -> Iterator[str]:
    """Lines joined into messages: a bracketed paste is one message, and so is a line
    ending in a backslash with the lines that follow it."""
    parts: list[str] = []
    pasting = False
    for line in lines:
        line = line.rstrip("\r\n")
        if PASTE_START in line:
            pasting, line = True, line.replace(PASTE_START, "")
        if PASTE_END in line:
            pasting, line = False, line.replace(PASTE_END, "")
        continued = line.endswith("\\")
        parts.append(line[:-1] if continued else line)
        if pasting or continued:
            continue
        message = "\n".join(parts).strip("\n")
        parts = []
        if message.strip():
            yield message
    if "".join(parts).strip():
        yield "\n".join(parts).strip("\n")


class ConsoleChannel:
    def __init__(self, ctx: Context, user: str | None = None):
        self.ctx = ctx
        self.user = user or getpass.getuser()

    def send(self, text: str) -> Reply:
        return dispatch(Incoming(text=text, user_id=self.user, user_name=self.user,
                                 conversation_id=CONVERSATION, channel="console"), self.ctx)

    def converse(self, lines: Iterable[str]) -> Iterator[tuple[str, Reply]]:
        for message in messages(lines):
            yield message, self.send(message)


def run_chat(ctx: Context, user: str | None, stdin: TextIO = sys.stdin, stdout: TextIO = sys.stdout) -> None:
    channel = ConsoleChannel(ctx, user)
    if not stdin.isatty():
        for _, reply in channel.converse(stdin):
            print(render_text(reply), end="\n\n", file=stdout, flush=True)
        return
    with contextlib.suppress(ImportError):
        import readline  # noqa: F401  — arrow-key history where the platform has it
    print(with_examples(HINT, ctx.plan), file=stdout)
    print(PASTE_ON, end="", file=stdout, flush=True)
    try:
        for message in messages(_typed_lines()):
            if message.strip() in ("quit", "exit"):
                return
            print(render_text(channel.send(message)), file=stdout)
    finally:
        print(PASTE_OFF, end="", file=stdout, flush=True)


def _typed_lines() -> Iterator[str]:
    """Lines typed at the prompt, a shorter prompt while a message goes on, until Ctrl-D."""
    prompt = "\n› "
    while True:
        try:
            line = input(prompt)
        except (EOFError, KeyboardInterrupt):
            print()
            return
        # readline may hand a whole paste over as one string with its newlines
        yield from line.split("\n")
        prompt = "… " if line.endswith("\\") or (PASTE_START in line and PASTE_END not in line) else "\n› "
