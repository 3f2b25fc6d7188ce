"""The terminal channel: `tapbot chat`. Also the harness tests use to talk to the bot."""
from __future__ import annotations

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
        "     status {outcome}   ·   status Ghana   ·   help   ·   Ctrl-D to leave")  # {outcome}: from the plan


class ConsoleChannel:
    def __init__(self, ctx: Context, user: str | None = None):
        self.ctx = ctx
        self.user = user or getpass.getuser()

    def send(self, text: str) -> Reply:
        return dispatch(Incoming(text=text, user_id=self.user, user_name=self.user,
                                 conversation_id=CONVERSATION, channel="console"), self.ctx)

    def converse(self, lines: Iterable[str]) -> Iterator[tuple[str, Reply]]:
        for line in lines:
            if line.strip():
                yield line, self.send(line.rstrip("\n"))


def run_chat(ctx: Context, user: str | None, stdin: TextIO = sys.stdin, stdout: TextIO = sys.stdout) -> None:
    channel = ConsoleChannel(ctx, user)
    if not stdin.isatty():
        for _, reply in channel.converse(stdin):
            print(render_text(reply), end="\n\n", file=stdout, flush=True)
        return
    try:
        import readline  # noqa: F401  — arrow-key history where the platform has it
    except ImportError:
        pass
    print(with_examples(HINT, ctx.plan), file=stdout)
    while True:
        try:
            line = input("\n› ")
        except (EOFError, KeyboardInterrupt):
            print(file=stdout)
            return
        if line.strip() in ("quit", "exit"):
            return
        if line.strip():
            print(render_text(channel.send(line)), file=stdout)
