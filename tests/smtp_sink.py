"""An SMTP server that keeps what it is sent, for the tests and benchmarks that send real email.

`SmtpSink` runs aiosmtpd on 127.0.0.1 and a free port, in a thread of the calling process, and
records the Message-ID, recipients and subject of each message it accepts. Point a worker at it
with `sink.email_env()` (EMAIL_BACKEND=…smtp.EmailBackend, EMAIL_HOST, EMAIL_PORT).

It can hold a send half-way: the messages whose ordinal (1 for the first message any session
starts, counted at its first RCPT TO) is in `stall` wait for the answer to that RCPT until
`release()` is called, the client goes away, or `stall_timeout_s` passes. The message is then
not accepted, so a client killed while it waits has sent nothing.

    with SmtpSink(stall={3}) as sink:
        …  # start a worker with sink.email_env(), queue notifications
        wait_until(lambda: sink.stalled())  # the third message is in the middle of its send
        sink.message_ids()  # Counter of the Message-IDs accepted so far

Run as a program (`python -m tests.smtp_sink --record FILE`), it serves in a process of its own,
as the benchmarks use it: it prints its port, appends each message to FILE as a JSON line, and
stops on SIGTERM or SIGINT.
"""

from __future__ import annotations

import argparse
import asyncio
import email
import email.policy
import json
import logging
import signal
import sys
import threading
from collections import Counter
from collections.abc import Container
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

HOST = "127.0.0.1"

# aiosmtpd logs every command at INFO; a benchmark sends tens of thousands.
logging.getLogger("mail.log").setLevel(logging.WARNING)


@dataclass(frozen=True)
class ReceivedEmail:
    message_id: str
    to: tuple[str, ...]
    subject: str


class _FreePortController(Controller):
    """aiosmtpd's Controller bound to port 0: the kernel picks a free port, so no other process
    can take it between choosing and binding."""

    def _create_server(self):
        return self._bind()

    async def _bind(self) -> asyncio.AbstractServer:
        server = await self.loop.create_server(self._factory_invoker, host=self.hostname, port=0)
        self.port = server.sockets[0].getsockname()[1]
        return server


class _Handler:
    def __init__(self, sink: SmtpSink) -> None:
        self.sink = sink

    async def handle_RCPT(self, server, session, envelope, address: str, rcpt_options) -> str:
        if not envelope.rcpt_tos:  # the first recipient: a new message starts
            ordinal = self.sink._next_ordinal()
            if ordinal in self.sink.stall:
                await self.sink._hold(ordinal, address)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope) -> str:
        message = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        self.sink._record(
            ReceivedEmail(
                message_id=str(message.get("Message-ID", "")),
                to=tuple(envelope.rcpt_tos),
                subject=str(message.get("Subject", "")),
            )
        )
        return "250 Message accepted for delivery"


class SmtpSink:
    """An SMTP server on 127.0.0.1 that accepts every message and remembers it."""

    def __init__(
        self,
        *,
        stall: Container[int] = (),
        stall_timeout_s: float = 120,
        record: Path | None = None,
    ) -> None:
        self.stall = stall
        self.stall_timeout_s = stall_timeout_s
        self._lock = threading.Lock()
        self._received: list[ReceivedEmail] = []
        self._holding: dict[int, str] = {}
        self._ordinal = 0
        # Waited on in the server's loop (an Event binds to a loop when first waited on).
        self._released = asyncio.Event()
        self._record_file = record.open("a", encoding="utf-8") if record else None
        self._controller = _FreePortController(_Handler(self), hostname=HOST, port=0)

    @property
    def port(self) -> int:
        return self._controller.port

    def start(self) -> SmtpSink:
        self._controller.start()
        return self

    def stop(self) -> None:
        self.release()
        self._controller.stop()
        if self._record_file is not None:
            self._record_file.close()

    def __enter__(self) -> SmtpSink:
        return self.start()

    def __exit__(self, *exc_info: Any) -> None:
        self.stop()

    def email_env(self) -> dict[str, str]:
        """The environment that sends a Paydesk process's email here."""
        return {
            "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "EMAIL_HOST": HOST,
            "EMAIL_PORT": str(self.port),
            "EMAIL_USE_TLS": "false",
            "EMAIL_USE_SSL": "false",
        }

    def received(self) -> list[ReceivedEmail]:
        with self._lock:
            return list(self._received)

    def message_ids(self) -> Counter[str]:
        with self._lock:
            return Counter(message.message_id for message in self._received)

    def stalled(self) -> dict[int, str]:
        """The messages held right now: ordinal → the recipient whose RCPT waits."""
        with self._lock:
            return dict(self._holding)

    def release(self) -> None:
        """Let the held messages (and any later one in `stall`) go on."""
        if self._controller.loop.is_running():
            self._controller.loop.call_soon_threadsafe(self._released.set)

    def _next_ordinal(self) -> int:
        with self._lock:
            self._ordinal += 1
            return self._ordinal

    def _record(self, message: ReceivedEmail) -> None:
        with self._lock:
            self._received.append(message)
            if self._record_file is not None:
                self._record_file.write(json.dumps(asdict(message)) + "\n")
                self._record_file.flush()

    async def _hold(self, ordinal: int, recipient: str) -> None:
        with self._lock:
            self._holding[ordinal] = recipient
        try:
            # Cancelled when the client disconnects: aiosmtpd cancels the session's handler.
            await asyncio.wait_for(self._released.wait(), self.stall_timeout_s)
        except TimeoutError:
            pass
        finally:
            with self._lock:
                self._holding.pop(ordinal, None)


def read_record(path: Path) -> list[ReceivedEmail]:
    """The messages a sink run as a program wrote to its record file."""
    received = []
    for line in path.read_text(encoding="utf-8").splitlines():
        fields = json.loads(line)
        received.append(ReceivedEmail(fields["message_id"], tuple(fields["to"]), fields["subject"]))
    return received


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="An SMTP sink on 127.0.0.1 and a free port.")
    parser.add_argument("--record", type=Path, required=True, help="append messages here")
    args = parser.parse_args(argv)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    with SmtpSink(record=args.record) as sink:
        print(sink.port, flush=True)
        stop.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
