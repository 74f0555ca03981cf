"""Chat benchmark: customers and agents talking over real websockets, through real servers.

Run from the repository root:

    .venv/bin/python bench/chat.py                  # 500 conversations for 2 minutes, and more
    .venv/bin/python bench/chat.py --quick          # a smoke run of about a minute
    .venv/bin/python bench/chat.py --layer core     # the same on channels_redis.core, to compare
    .venv/bin/python bench/chat.py --help

What it does, in order:

1. Drops and recreates a PostgreSQL database of its own (``--db-name``, default
   paydesk_bench_chat, on 127.0.0.1:5432 as user postgres), migrates it and flushes a Redis
   database of its own (``--redis-db``). Every channel name the servers use carries a prefix of
   the bench's own (pub/sub channels are shared by all Redis databases).
2. Makes, with Paydesk's own services in this process: teams of ``--team-size`` agents, one agent
   per conversation with a signed-in session, and ``--conversations`` conversations of verified
   customers, each started, with a first customer message, and accepted by its agent (so the
   measured messages are neither the first of a conversation nor answered from the FAQ).
3. Starts ``--servers`` uvicorn processes (``helpdesk.asgi:application``,
   ``--ws-per-message-deflate false``, the settings of bench/chat_settings.py: Paydesk's, with the
   ``--layer`` channel layer; PostgreSQL with the settings' connection pool). Conversation i has
   its customer on server i mod n and its agent on the next one, so with two servers every
   message crosses from one process to the other through Redis. The in-memory layer cannot
   cross processes: ``--layer memory`` runs one server.
4. Runs the load generator, this same script in a separate process (asyncio, uvloop and the
   ``websockets`` client), which opens both sockets of every conversation (the customer says
   hello with its token and the conversation, the agent opens it; neither asks for history),
   then:

   * steady run: for ``--duration`` seconds each side sends a message every ``--interval``
     seconds on average (a Poisson process: 2 x conversations / interval messages a second in
     all);
   * burst run: each side of ``--burst-conversations`` conversations sends ``--burst`` messages
     back to back, all at the same moment.

   After each run it waits for whatever is still on its way, until ``--drain`` seconds pass
   without an ack or a delivery (at most 5 minutes).
5. The floor: the same load, on the same number of uvicorn processes with the same flags and
   channel layer, against bench/relay_asgi.py, a bare Channels relay (no authentication, no
   database: it acknowledges and forwards). ``--floor-duration`` seconds of steady run and the
   same burst.
6. The socket ramp: one fresh Paydesk server process, idle verified customers (each says hello
   and gets its welcome) opened ``--ramp-step`` at a time up to ``--max-sockets``, checking after
   each step that none failed or was dropped and that sockets still answer an application
   ping. It stops at the first step with an error.
7. Stops every server it started whatever happens, prints a table and, as its last line, one
   JSON object.

Figures (JSON keys):

* ``p50_ms`` / ``p95_ms`` / ``p99_ms``: delivery latency of the steady run: from the moment the
  load generator sends a message on one side to the moment it reads it on the other side's
  socket. Both sockets are in the load generator, so one clock; the time includes the load
  generator's own queueing (it shares the machine's cores with the servers).
* ``ack_p50_ms`` / ``ack_p99_ms``: from sending to the sender's ack (stored in PostgreSQL).
* ``messages_per_s``: messages delivered to the other side during the steady run, per second
  (what is still queued when it ends is delivered later, and counted in the latency only).
* ``lost``: messages acknowledged (so stored) that the other side's socket never received by the
  end of the drain, steady and burst runs together. A channel layer delivers at most once;
  clients recover such messages by resuming after their last sequence number, which this bench
  does not do: it counts what live delivery dropped. ``unacked``: sent, never acked nor refused.
* ``doubled``: messages a socket received more than once (by client id).
* ``ratio_to_floor``: Paydesk's steady p99 divided by the floor's (``ratio_to_floor_p50``: the
  same with p50).
* ``max_sockets``: idle customer sockets one process held at the last step of the ramp without a
  failed handshake or hello, a dropped socket or an unanswered ping; ``ramp_stopped`` says why
  the ramp ended. ``rss_mib_per_1000_sockets``: the server's resident memory growth per 1,000 of
  those sockets, from the ramp's first step on (the first sockets also warm the server up);
  ``rss_mib_per_1000_chatting``: the same for the sockets of the steady run (agents and customers
  with a conversation open), all servers together, after the first 10 conversations.
* ``dropped_sockets``: sockets of the steady and burst runs the server closed (under overload,
  uvicorn's keepalive ping times out); the messages meant for them count as lost.
* ``cpu_cores``: cores used during the steady run by the servers, PostgreSQL, Redis, the load
  generator and the whole machine (``nproc`` cores in all).

Only 127.0.0.1 is contacted. The database is left in place after the run; the next run drops it.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this folder would come first on the path, and bench/queue.py would stand in
# for the standard library's queue module. The repository root takes its place.
if sys.path and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    sys.path[0] = str(Path(__file__).resolve().parents[1])

import argparse
import asyncio
import contextlib
import json
import math
import os
import random
import signal
import subprocess
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from websockets.exceptions import ConnectionClosed

from bench.common import (
    HOST,
    background_load,
    check_bench_arguments,
    cpu_seconds,
    free_ports,
    machine_busy_seconds,
    percentile,
    recreate_database,
    rss_mib,
    service_cpu_seconds,
)

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
SHOP = "https://shop.bench.example"
CHAT_SECRET = "paydesk-bench-chat-identity-secret"
SECRET_KEY = "paydesk-bench-chat-secret-key-not-for-production"
NO_HISTORY = 10**9  # the `after` of a client that wants no earlier messages
CONNECT_CONCURRENCY = 50
CONNECT_ATTEMPTS = 3
DRAIN_CAP_S = 300  # the longest wait for a backlog after a run
WARM_UP = 10  # conversations connected before the memory baseline
TARGETS = {"conversations": 500, "p99_ms": 100, "max_sockets": 2000}


# Load generator (a process of its own: --drive PLAN) -------------------------------------------
@dataclass
class Tally:
    """Everything the load generator's sockets saw, by client id."""

    sent: dict[str, float] = field(default_factory=dict)
    acked: dict[str, float] = field(default_factory=dict)
    delivered: dict[str, float] = field(default_factory=dict)
    refused: set[str] = field(default_factory=set)
    doubled: list[str] = field(default_factory=list)
    events: Counter = field(default_factory=Counter)
    problems: Counter = field(default_factory=Counter)
    examples: list[str] = field(default_factory=list)

    def problem(self, kind: str, detail: object) -> None:
        self.problems[kind] += 1
        if len(self.examples) < 10:
            self.examples.append(f"{kind}: {detail}"[:300])


@dataclass
class Side:
    conversation: int
    role: str  # "customer" or "agent"
    socket: Any = None
    closing: bool = False
    sent: int = 0


def _monotonic() -> float:
    return time.perf_counter()


async def _open_side(plan: dict, entry: dict, role: str, tally: Tally) -> Side:
    """A connected socket that joined its conversation; raises after CONNECT_ATTEMPTS."""
    from websockets.asyncio.client import connect

    server = entry[f"{role}_server"]
    relay = plan["mode"] == "relay"
    url = plan["ws_urls"][server]
    headers: dict[str, str] = {}
    if relay:
        path, origin = "/", SHOP
    elif role == "customer":
        path, origin = "/ws/chat/", SHOP
    else:
        path, origin = "/ws/chat/agent/", plan["http_urls"][server]
        headers["Cookie"] = entry["cookie"]
    for attempt in range(CONNECT_ATTEMPTS):
        socket = None
        try:
            socket = await connect(
                url + path,
                origin=origin,
                additional_headers=headers,
                compression=None,
                open_timeout=30,
                ping_interval=None,
                close_timeout=5,
            )
            if relay:
                await socket.send(
                    json.dumps({"type": "hello", "conversation": entry["id"], "sender": role})
                )
                await _expect(socket, "welcome", tally)
            elif role == "customer":
                hello = {"type": "hello", "token": entry["token"], "conversation": entry["id"]}
                await socket.send(json.dumps({**hello, "after": NO_HISTORY}))
                await _expect(socket, "welcome", tally)
            else:
                await _expect(socket, "hello", tally)
                await socket.send(
                    json.dumps({"type": "open", "conversation": entry["id"], "after": NO_HISTORY})
                )
                await _expect(socket, "conversation", tally)
            return Side(entry["id"], role, socket)
        except Exception as error:
            tally.problem(f"{role} handshake", repr(error))
            if socket is not None:
                with contextlib.suppress(Exception):
                    await socket.close()
            if attempt + 1 == CONNECT_ATTEMPTS:
                raise
            await asyncio.sleep(1)
    raise AssertionError("unreachable")


async def _expect(socket: Any, kind: str, tally: Tally, timeout: float = 30) -> dict:
    deadline = _monotonic() + timeout
    while True:
        event = json.loads(await asyncio.wait_for(socket.recv(), deadline - _monotonic()))
        tally.events[event.get("type")] += 1
        if event.get("type") == kind:
            return event


async def _listen(side: Side, tally: Tally) -> None:
    seen: set[str] = set()
    try:
        async for raw in side.socket:
            now = _monotonic()
            event = json.loads(raw)
            kind = event.get("type")
            tally.events[kind] += 1
            if kind == "message":
                message = event["message"]
                client_id = message.get("client_id")
                if not client_id:
                    continue  # a system message
                if client_id in seen:
                    tally.doubled.append(client_id)
                    continue
                seen.add(client_id)
                if message.get("sender") != side.role and client_id in tally.sent:
                    tally.delivered[client_id] = now
            elif kind == "ack":
                tally.acked.setdefault(event["client_id"], now)
            elif kind == "nack":
                tally.refused.add(event["client_id"])
                tally.problem("nack", event.get("error"))
            elif kind == "error":
                tally.problem("error", event.get("message"))
    except ConnectionClosed as closed:
        if not side.closing:
            tally.problem("socket dropped", f"{side.role} {side.conversation}: {closed}")


async def _report(tally: Tally, start: float) -> None:
    """Every 10 s, how far the run is: to see a run fall behind while it happens."""
    while True:
        await asyncio.sleep(10)
        print(
            f"[load] {_monotonic() - start:.0f} s: sent {len(tally.sent)}, acked "
            f"{len(tally.acked)}, delivered {len(tally.delivered)}, problems "
            f"{dict(tally.problems) or 0}",
            flush=True,
        )


def _message(plan: dict, side: Side, client_id: str, n: int) -> str:
    content = {
        "type": "message",
        "client_id": client_id,
        "body": f"Message {n} from the {side.role} of conversation {side.conversation}",
    }
    if side.role == "agent" and plan["mode"] != "relay":
        content["conversation"] = side.conversation
    return json.dumps(content)


async def _talk(plan: dict, side: Side, tally: Tally, rng: random.Random, until: float) -> None:
    """Messages at exponentially distributed intervals (a Poisson process) until `until`."""
    while True:
        wait = rng.expovariate(1 / plan["interval"])
        if _monotonic() + wait >= until:
            await asyncio.sleep(max(0.0, until - _monotonic()))
            return
        await asyncio.sleep(wait)
        side.sent += 1
        client_id = f"s{plan['tag']}{side.role[0]}{side.conversation}-{side.sent}"
        tally.sent[client_id] = _monotonic()
        try:
            await side.socket.send(_message(plan, side, client_id, side.sent))
        except ConnectionClosed:
            return  # counted by its listener


async def _burst(plan: dict, side: Side, tally: Tally) -> None:
    for n in range(1, plan["burst"] + 1):
        client_id = f"b{plan['tag']}{side.role[0]}{side.conversation}-{n}"
        tally.sent[client_id] = _monotonic()
        try:
            await side.socket.send(_message(plan, side, client_id, n))
        except ConnectionClosed:
            return


async def _drain(tally: Tally, ids: list[str], quiet_s: float) -> float:
    """Wait until every message of `ids` was delivered or refused, or until nothing more arrived
    (no ack, no delivery) for `quiet_s` seconds: a backlog still draining is late, not lost.
    Returns the time of the last delivery."""
    last_change, last_seen = _monotonic(), -1
    deadline = _monotonic() + DRAIN_CAP_S
    while _monotonic() < deadline:
        done = sum(1 for i in ids if i in tally.delivered or i in tally.refused)
        if done == len(ids):
            break
        seen = done + sum(1 for i in ids if i in tally.acked)
        if seen != last_seen:
            last_change, last_seen = _monotonic(), seen
        elif _monotonic() - last_change >= quiet_s:
            break
        await asyncio.sleep(0.1)
    times = [tally.delivered[i] for i in ids if i in tally.delivered]
    return max(times) if times else _monotonic()


def _run_figures(tally: Tally, ids: list[str], start: float, end: float) -> dict[str, Any]:
    """The figures of one run: its messages `ids`, sent from `start` to `end` (throughput counts
    what was delivered by `end`)."""
    seconds = end - start
    latency = [(tally.delivered[i] - tally.sent[i]) * 1000 for i in ids if i in tally.delivered]
    in_time = sum(1 for i in ids if tally.delivered.get(i, math.inf) <= end)
    ack = [(tally.acked[i] - tally.sent[i]) * 1000 for i in ids if i in tally.acked]
    wanted = set(ids)
    return {
        "sent": len(ids),
        "delivered": len(latency),
        "lost": sum(1 for i in ids if i in tally.acked and i not in tally.delivered),
        "unacked": sum(1 for i in ids if i not in tally.acked and i not in tally.refused),
        "refused": sum(1 for i in ids if i in tally.refused),
        "doubled": sum(1 for i in tally.doubled if i in wanted),
        "seconds": round(seconds, 2),
        "messages_per_s": round(in_time / seconds, 1) if seconds > 0 else None,
        "p50_ms": _ms(percentile(latency, 50)),
        "p95_ms": _ms(percentile(latency, 95)),
        "p99_ms": _ms(percentile(latency, 99)),
        "max_ms": _ms(max(latency, default=math.nan)),
        "ack_p50_ms": _ms(percentile(ack, 50)),
        "ack_p99_ms": _ms(percentile(ack, 99)),
    }


def _ms(value: float) -> float | None:
    return None if math.isnan(value) else round(value, 1)


def _cpu_snapshot(server_pids: list[int]) -> dict[str, float]:
    own = os.times()
    return {
        "servers": sum(cpu_seconds(pid) for pid in server_pids),
        "postgresql": service_cpu_seconds("postgres"),
        "redis": service_cpu_seconds("redis-server"),
        "load generator": own.user + own.system,
        "machine": machine_busy_seconds(),
    }


def _cores(before: dict[str, float], after: dict[str, float], seconds: float) -> dict:
    """Cores used by each part over an interval; 'other' is the rest of the machine (the kernel,
    other programs)."""
    used = {name: (after[name] - before[name]) / seconds for name in before}
    used["other"] = used["machine"] - sum(v for name, v in used.items() if name != "machine")
    return {name: round(value, 2) for name, value in used.items()}


def _rss(pids: list[int]) -> float:
    return round(sum(rss_mib(pid) for pid in pids), 1)


async def drive_pairs(plan: dict) -> dict[str, Any]:
    tally = Tally()
    pids = plan["server_pids"]
    rss_before = _rss(pids)
    limit = asyncio.Semaphore(CONNECT_CONCURRENCY)

    async def pair(entry: dict) -> tuple[Side, Side] | None:
        async with limit:
            try:
                agent = await _open_side(plan, entry, "agent", tally)
            except Exception:
                return None
            try:
                customer = await _open_side(plan, entry, "customer", tally)
            except Exception:
                agent.closing = True
                await agent.socket.close()
                return None
            return customer, agent

    # A few conversations first: the memory a server takes on its first sockets (imports,
    # database and Redis connections) is not what each further socket costs.
    started = _monotonic()
    entries = plan["conversations"]
    warm = [p for p in await asyncio.gather(*(pair(e) for e in entries[:WARM_UP])) if p]
    await asyncio.sleep(1)
    rss_warm = _rss(pids)
    opened = await asyncio.gather(*(pair(entry) for entry in entries[WARM_UP:]))
    pairs = warm + [p for p in opened if p is not None]
    sides = [side for p in pairs for side in p]
    connect_s = _monotonic() - started
    if not pairs:
        raise SystemExit(f"no conversation could connect: {tally.examples[:3]}")
    print(f"[load] {len(pairs)} conversations connected in {connect_s:.1f} s", flush=True)
    await asyncio.sleep(1)
    rss_connected = _rss(pids)
    listeners = [asyncio.create_task(_listen(side, tally)) for side in sides]

    # Steady run.
    rng = random.Random(plan["seed"])
    cpu_before = _cpu_snapshot(pids)
    start = _monotonic()
    until = start + plan["duration"]
    reporter = asyncio.create_task(_report(tally, start))
    await asyncio.gather(
        *(_talk(plan, side, tally, random.Random(rng.random()), until) for side in sides)
    )
    reporter.cancel()
    end = _monotonic()
    cpu = _cores(cpu_before, _cpu_snapshot(pids), end - start)
    steady_ids = [i for i in tally.sent if i.startswith("s")]
    await _drain(tally, steady_ids, plan["drain"])
    steady = _run_figures(tally, steady_ids, start, end)
    steady["cpu_cores"] = cpu
    print(f"[load] steady: {json.dumps(steady)}", flush=True)
    rss_steady = _rss(pids)

    # Burst run.
    burst: dict[str, Any] | None = None
    if plan["burst"] and plan["burst_conversations"]:
        chosen = pairs[: plan["burst_conversations"]]
        await asyncio.sleep(1)
        start = _monotonic()
        await asyncio.gather(*(_burst(plan, side, tally) for p in chosen for side in p))
        burst_ids = [i for i in tally.sent if i.startswith("b")]
        last = await _drain(tally, burst_ids, plan["drain"])
        burst = _run_figures(tally, burst_ids, start, last)
        burst["conversations"] = len(chosen)
        print(f"[load] burst: {json.dumps(burst)}", flush=True)

    for side in sides:
        side.closing = True
    await asyncio.gather(*(side.socket.close() for side in sides), return_exceptions=True)
    await asyncio.gather(*listeners, return_exceptions=True)
    return {
        "conversations": len(pairs),
        "sockets": len(sides),
        "connect_s": round(connect_s, 1),
        "rss_mib": {
            "before": rss_before,
            "warm": rss_warm,
            "warm_sockets": 2 * len(warm),
            "connected": rss_connected,
            "after_steady": rss_steady,
        },
        "steady": steady,
        "burst": burst,
        "events": dict(tally.events),
        "problems": dict(tally.problems),
        "problem_examples": tally.examples,
    }


async def drive_ramp(plan: dict) -> dict[str, Any]:
    """Idle customers on one server, a step at a time, until an error or the target."""
    from websockets.asyncio.client import connect

    pid, url = plan["server_pids"][0], plan["ws_urls"][0] + "/ws/chat/"
    limit = asyncio.Semaphore(CONNECT_CONCURRENCY)
    tally = Tally()

    async def idle_customer(token: str) -> Any:
        async with limit:
            socket = await connect(
                url, origin=SHOP, compression=None, open_timeout=30, ping_interval=None
            )
            try:
                await socket.send(json.dumps({"type": "hello", "token": token}))
                await _expect(socket, "welcome", tally)
            except BaseException:
                await socket.close()
                raise
            return socket

    async def ping(socket: Any) -> float:
        started = _monotonic()
        await socket.send('{"type": "ping"}')
        await _expect(socket, "pong", tally, timeout=5)
        return (_monotonic() - started) * 1000

    rss_before = rss_mib(pid)
    sockets: list[Any] = []
    steps: list[dict[str, Any]] = []
    stopped = f"reached --max-sockets {plan['max_sockets']}"
    rng = random.Random(plan["seed"])
    try:
        while len(sockets) < plan["max_sockets"]:
            tokens = plan["tokens"][len(sockets) : len(sockets) + plan["ramp_step"]]
            started = _monotonic()
            results = await asyncio.gather(
                *(idle_customer(token) for token in tokens), return_exceptions=True
            )
            step_s = _monotonic() - started
            sockets += [r for r in results if not isinstance(r, BaseException)]
            failed = [r for r in results if isinstance(r, BaseException)]
            dropped = sum(1 for socket in sockets if socket.close_code is not None)
            probes = rng.sample(sockets, min(20, len(sockets)))
            pings = await asyncio.gather(*(ping(s) for s in probes), return_exceptions=True)
            unanswered = [p for p in pings if isinstance(p, BaseException)]
            answered = [p for p in pings if not isinstance(p, BaseException)]
            await asyncio.sleep(0.5)
            step = {
                "sockets": len(sockets) - dropped,
                "rss_mib": round(rss_mib(pid), 1),
                "failed": len(failed),
                "dropped": dropped,
                "unanswered_pings": len(unanswered),
                "ping_p99_ms": _ms(percentile(answered, 99)),
                "step_s": round(step_s, 1),
            }
            steps.append(step)
            print(f"[load] ramp: {json.dumps(step)}", flush=True)
            if failed or dropped or unanswered:
                first = (failed or unanswered)[0] if (failed or unanswered) else "dropped"
                stopped = (
                    f"errors at {len(sockets)} sockets: {len(failed)} failed, {dropped} dropped, "
                    f"{len(unanswered)} pings unanswered (first: {first!r})"
                )[:400]
                break
    finally:
        await asyncio.gather(*(s.close() for s in sockets), return_exceptions=True)
    clean = [s for s in steps if not (s["failed"] or s["dropped"] or s["unanswered_pings"])]
    held = clean[-1] if clean else None
    per_1000 = None  # from the first step on: the first sockets also warm the server up
    if held and held["sockets"] > steps[0]["sockets"]:
        grown = held["rss_mib"] - steps[0]["rss_mib"]
        per_1000 = round(grown / (held["sockets"] - steps[0]["sockets"]) * 1000, 1)
    return {
        "max_sockets": held["sockets"] if held else 0,
        "stopped": stopped,
        "rss_mib_before": round(rss_before, 1),
        "rss_mib_per_1000_sockets": per_1000,
        "ping_p99_ms_at_max": held["ping_p99_ms"] if held else None,
        "steps": steps,
        "problem_examples": tally.examples,
    }


def drive(plan_path: Path, out_path: Path) -> int:
    _raise_file_limit()
    plan = json.loads(plan_path.read_text())
    # In every client id: a message of an earlier run on the same conversations is not "sent
    # again" (Paydesk would answer it with the stored one and broadcast nothing).
    plan["tag"] = f"{random.getrandbits(24):06x}"
    work = drive_ramp(plan) if plan["mode"] == "ramp" else drive_pairs(plan)
    try:
        import uvloop

        result = uvloop.run(work)
    except ImportError:
        result = asyncio.run(work)
    out_path.write_text(json.dumps(result))
    return 0


# Set-up (Django in this process) ---------------------------------------------------------------
def prepare(args: argparse.Namespace, env: dict[str, str]) -> dict[str, Any]:
    """Agents with sessions and accepted conversations; tokens for the ramp's customers."""
    os.environ.update({k: v for k, v in env.items() if k != "REDIS_URL"})
    os.environ["DJANGO_SETTINGS_MODULE"] = "helpdesk.settings"
    os.environ.pop("REDIS_URL", None)  # in-memory layer: nobody listens to the set-up
    from datetime import timedelta

    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import (
        BACKEND_SESSION_KEY,
        HASH_SESSION_KEY,
        SESSION_KEY,
        get_user_model,
    )
    from django.contrib.auth.hashers import make_password
    from django.contrib.sessions.backends.db import SessionStore
    from django.contrib.sessions.models import Session
    from django.db import connection, transaction
    from django.utils import timezone
    from django.utils.crypto import get_random_string

    from chat import services
    from chat.identity import ChatIdentity, identity_token_make
    from chat.models import Conversation
    from tickets.models import Team, Ticket

    started = time.monotonic()
    count = args.conversations
    user_model = get_user_model()
    password = make_password(None)
    teams = Team.objects.bulk_create(
        Team(name=f"Bench team {n + 1}") for n in range(math.ceil(count / args.team_size))
    )
    agents = user_model.objects.bulk_create(
        user_model(
            username=f"bench-agent-{n}",
            email=f"agent{n}@paydesk.bench.example",
            first_name="Agent",
            last_name=str(n),
            password=password,
        )
        for n in range(count)
    )
    Team.members.through.objects.bulk_create(
        Team.members.through(team_id=teams[n // args.team_size].pk, user_id=agent.pk)
        for n, agent in enumerate(agents)
    )
    store = SessionStore()
    expires = timezone.now() + timedelta(days=1)
    sessions = []
    cookies = []
    for agent in agents:
        key = get_random_string(32, "abcdefghijklmnopqrstuvwxyz0123456789")
        data = {
            SESSION_KEY: str(agent.pk),
            BACKEND_SESSION_KEY: settings.AUTHENTICATION_BACKENDS[0],
            HASH_SESSION_KEY: agent.get_session_auth_hash(),
        }
        sessions.append(
            Session(session_key=key, session_data=store.encode(data), expire_date=expires)
        )
        cookies.append(f"{settings.SESSION_COOKIE_NAME}={key}")
    Session.objects.bulk_create(sessions)

    conversations = []
    for n, agent in enumerate(agents):
        team = teams[n // args.team_size]
        email = f"customer{n}@shop.bench.example"
        identity = ChatIdentity(email=email, name=f"Customer {n}", verified=True)
        with transaction.atomic():
            conversation, _ = services.conversation_start(identity=identity, language="en")
            Ticket.objects.filter(pk=conversation.ticket_id).update(team=team)
            Conversation.objects.filter(pk=conversation.pk).update(team=team)
            conversation.refresh_from_db()
            services.customer_message_receive(
                conversation=conversation, body="Hello, my card payment failed", client_id="start"
            )
            services.conversation_accept(conversation=conversation, agent=agent)
        conversations.append(
            {
                "id": conversation.pk,
                "token": identity_token_make(email=email, name=f"Customer {n}", ttl_s=6 * 3600),
                "cookie": cookies[n],
            }
        )
        if (n + 1) % 100 == 0:
            print(f"[bench] {n + 1} conversations made", flush=True)
    ramp_tokens = [
        identity_token_make(email=f"idle{n}@shop.bench.example", ttl_s=6 * 3600)
        for n in range(args.max_sockets)
    ]
    connection.close()
    return {
        "conversations": conversations,
        "ramp_tokens": ramp_tokens,
        "setup_s": round(time.monotonic() - started, 1),
    }


# Servers ---------------------------------------------------------------------------------------
class Servers:
    """The uvicorn processes of one part of the run; each stopped by its own id."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.started: list[subprocess.Popen] = []
        self.ports: list[int] = []

    def start(self, app: str, count: int, env: dict[str, str], base_port: int, name: str) -> None:
        self.ports = free_ports(base_port, count)
        for port in self.ports:
            command = [PYTHON, "-m", "uvicorn", app, "--host", HOST, "--port", str(port),
                       "--ws-per-message-deflate", "false", "--no-access-log",
                       "--log-level", "warning", "--lifespan", "off"]  # fmt: skip
            log = (self.log_dir / f"{name}-{port}.log").open("wb")
            self.started.append(
                subprocess.Popen(
                    command,
                    cwd=ROOT,
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                    preexec_fn=_raise_file_limit,
                )
            )
        for port, proc in zip(self.ports, self.started, strict=True):
            _wait_ready(f"http://{HOST}:{port}/healthz", proc)

    @property
    def pids(self) -> list[int]:
        return [proc.pid for proc in self.started]

    def stop(self) -> None:
        for proc in self.started:
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + 20
        for proc in self.started:
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=5)
        self.started = []


def _raise_file_limit() -> None:
    import resource

    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def _wait_ready(url: str, proc: subprocess.Popen, timeout: float = 60) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited with {proc.returncode}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=1, trust_env=False).status_code == 200:
                return
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {timeout} s")


def run_load(plan: dict[str, Any], work_dir: Path, name: str) -> dict[str, Any]:
    plan_path, out_path = work_dir / f"{name}-plan.json", work_dir / f"{name}-result.json"
    plan_path.write_text(json.dumps(plan))
    subprocess.run(
        [PYTHON, __file__, "--drive", str(plan_path), "--out", str(out_path)],
        cwd=ROOT,
        check=True,
        timeout=plan.get("duration", 0) + 2 * DRAIN_CAP_S + 900,
    )
    return json.loads(out_path.read_text())


def pair_plan(
    args: argparse.Namespace, servers: Servers, conversations: list[dict], mode: str, duration: int
) -> dict[str, Any]:
    count = len(servers.ports)
    return {
        "mode": mode,
        "ws_urls": [f"ws://{HOST}:{port}" for port in servers.ports],
        "http_urls": [f"http://{HOST}:{port}" for port in servers.ports],
        "server_pids": servers.pids,
        "conversations": [
            {**entry, "customer_server": n % count, "agent_server": (n + 1) % count}
            for n, entry in enumerate(conversations)
        ],
        "duration": duration,
        "interval": args.interval,
        "burst": args.burst,
        "burst_conversations": args.burst_conversations,
        "drain": args.drain,
        "seed": args.seed,
    }


def log_problems(log_dir: Path) -> dict[str, int]:
    problems: Counter = Counter()
    for path in log_dir.glob("*.log"):
        for line in path.read_text(errors="replace").splitlines():
            if "Traceback" in line or " ERROR " in line or "CRITICAL" in line:
                problems[path.stem] += 1
    return dict(problems)


# Main ------------------------------------------------------------------------------------------
def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    add = parser.add_argument
    add("--conversations", type=int, default=500, help="customer + agent pairs")
    add("--duration", type=int, default=120, help="seconds of the steady run")
    add("--interval", type=float, default=10.0, help="mean seconds between a side's messages")
    add("--burst", type=int, default=20, help="messages each side sends at once (0: no burst)")
    add("--burst-conversations", type=int, default=10, help="conversations in the burst")
    add("--layer", choices=["pubsub", "core", "memory"], default="pubsub", help="channel layer")
    add("--servers", type=int, default=2, help="uvicorn processes (1 with --layer memory)")
    add("--team-size", type=int, default=10, help="agents per team (who hear its inbox)")
    add("--floor-duration", type=int, help="seconds of the floor's steady run (default: ≤ 60)")
    add("--no-floor", action="store_true", help="skip the bare relay")
    add("--max-sockets", type=int, default=2500, help="where the socket ramp stops")
    add("--ramp-step", type=int, default=250, help="sockets opened per ramp step")
    add("--no-ramp", action="store_true", help="skip the socket ramp")
    add("--drain", type=float, default=30.0, help="seconds without progress that end a drain")
    add("--quick", action="store_true", help="a smoke run: 20 conversations, 15 s, small ramp")
    add("--db-name", default="paydesk_bench_chat", help="PostgreSQL database of the bench")
    add("--redis-db", type=int, default=7, help="Redis database number of the servers")
    add("--base-port", type=int, default=8301, help="first port to try for the servers")
    add("--seed", type=int, default=1, help="random seed of the message times")
    add("--json-out", type=Path, help="also write the JSON result to this file")
    add("--drive", type=Path, help=argparse.SUPPRESS)  # the load generator's own process
    add("--out", type=Path, help=argparse.SUPPRESS)
    if parser.parse_known_args(argv)[0].quick:  # smaller defaults; explicit options still win
        parser.set_defaults(
            conversations=20, duration=15, burst_conversations=10, burst=5, max_sockets=300,
            ramp_step=100, drain=5.0,
        )  # fmt: skip
    args = parser.parse_args(argv)
    if args.layer == "memory":
        args.servers = 1
    if args.floor_duration is None:
        args.floor_duration = min(args.duration, 60)
    args.burst_conversations = min(args.burst_conversations, args.conversations)
    check_bench_arguments(parser, args)
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.drive:
        return drive(args.drive, args.out)
    import redis

    db_url = f"postgres://postgres@127.0.0.1:5432/{args.db_name}"
    redis_url = f"redis://127.0.0.1:6379/{args.redis_db}"
    log_dir = Path(tempfile.mkdtemp(prefix="paydesk-bench-chat-"))
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("CELERY_", "DJANGO_"))},
        "DJANGO_SETTINGS_MODULE": "bench.chat_settings",
        "BENCH_LAYER": args.layer,
        "DATABASE_URL": db_url,
        "REDIS_URL": redis_url,
        "DEBUG": "0",
        "SECRET_KEY": SECRET_KEY,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "CHAT_IDENTITY_SECRET": CHAT_SECRET,
        "CHAT_ALLOWED_ORIGINS": SHOP,
        # The burst sends 20 messages a side on top of the steady ones: not refused as a flood.
        "CHAT_MESSAGES_PER_MINUTE": "1000",
        "LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
    }
    print(f"[bench] layer {args.layer}, {args.servers} servers, logs in {log_dir}", flush=True)
    background_cores = background_load()

    recreate_database(args.db_name)
    subprocess.run(
        [PYTHON, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True
    )
    redis.Redis.from_url(redis_url).flushdb()
    setup = prepare(args, env)
    print(f"[bench] set up {args.conversations} conversations in {setup['setup_s']} s", flush=True)

    servers = Servers(log_dir)
    paydesk = floor = ramp = None
    try:
        servers.start("helpdesk.asgi:application", args.servers, env, args.base_port, "paydesk")
        print(f"[bench] Paydesk on ports {servers.ports}", flush=True)
        plan = pair_plan(args, servers, setup["conversations"], "paydesk", args.duration)
        paydesk = run_load(plan, log_dir, "paydesk")
        servers.stop()

        if not args.no_floor:
            redis.Redis.from_url(redis_url).flushdb()
            servers.start(
                "bench.relay_asgi:application", args.servers, env, args.base_port, "relay"
            )
            print(f"[bench] bare relay on ports {servers.ports}", flush=True)
            plan = pair_plan(args, servers, setup["conversations"], "relay", args.floor_duration)
            floor = run_load(plan, log_dir, "floor")
            servers.stop()

        if not args.no_ramp:
            redis.Redis.from_url(redis_url).flushdb()
            servers.start("helpdesk.asgi:application", 1, env, args.base_port, "ramp")
            print(f"[bench] socket ramp on port {servers.ports[0]}", flush=True)
            plan = {
                "mode": "ramp",
                "ws_urls": [f"ws://{HOST}:{servers.ports[0]}"],
                "server_pids": servers.pids,
                "tokens": setup["ramp_tokens"],
                "max_sockets": args.max_sockets,
                "ramp_step": args.ramp_step,
                "seed": args.seed,
            }
            ramp = run_load(plan, log_dir, "ramp")
    finally:
        servers.stop()

    summary = summarize(args, setup, paydesk, floor, ramp, background_cores, log_dir)
    print_table(summary, paydesk, floor, ramp)
    line = json.dumps(summary, ensure_ascii=False)
    if args.json_out:
        args.json_out.write_text(line + "\n")
    print(line)
    return 0 if all(summary["targets_met"].values()) else 1


def summarize(
    args: argparse.Namespace,
    setup: dict,
    paydesk: dict,
    floor: dict | None,
    ramp: dict | None,
    background_cores: float,
    log_dir: Path,
) -> dict[str, Any]:
    steady, burst = paydesk["steady"], paydesk["burst"] or {}
    floor_steady = floor["steady"] if floor else {}

    def ratio(key: str) -> float | None:
        if not floor_steady.get(key) or steady.get(key) is None:
            return None
        return round(steady[key] / floor_steady[key], 1)

    rss = paydesk["rss_mib"]
    chatting = None
    if paydesk["sockets"] > rss["warm_sockets"]:
        grown = rss["connected"] - rss["warm"]
        chatting = round(grown / (paydesk["sockets"] - rss["warm_sockets"]) * 1000, 1)
    lost = steady["lost"] + burst.get("lost", 0)
    doubled = steady["doubled"] + burst.get("doubled", 0)
    max_sockets = ramp["max_sockets"] if ramp else None
    summary = {
        "bench": "chat",
        "layer": args.layer,
        "servers": args.servers,
        "conversations": paydesk["conversations"],
        "duration_s": args.duration,
        "interval_s": args.interval,
        "p50_ms": steady["p50_ms"],
        "p95_ms": steady["p95_ms"],
        "p99_ms": steady["p99_ms"],
        "max_ms": steady["max_ms"],
        "ack_p50_ms": steady["ack_p50_ms"],
        "ack_p99_ms": steady["ack_p99_ms"],
        "messages_per_s": steady["messages_per_s"],
        "lost": lost,
        "doubled": doubled,
        "unacked": steady["unacked"] + burst.get("unacked", 0),
        "refused": steady["refused"] + burst.get("refused", 0),
        "ratio_to_floor": ratio("p99_ms"),
        "ratio_to_floor_p50": ratio("p50_ms"),
        "dropped_sockets": paydesk["problems"].get("socket dropped", 0),
        "max_sockets": max_sockets,
        "ramp_stopped": ramp["stopped"] if ramp else None,
        "rss_mib_per_1000_sockets": ramp["rss_mib_per_1000_sockets"] if ramp else None,
        "rss_mib_per_1000_chatting": chatting,
        "steady": steady,
        "burst": paydesk["burst"],
        "floor": {"steady": floor_steady, "burst": floor["burst"]} if floor else None,
        "handshake_problems": {
            k: v for k, v in paydesk["problems"].items() if k.endswith("handshake")
        },
        "problems": paydesk["problems"],
        "problem_examples": paydesk["problem_examples"],
        "ramp_steps": ramp["steps"] if ramp else None,
        "cpu_cores": steady["cpu_cores"],
        "machine_cores": os.cpu_count(),
        "background_cores": background_cores,
        "setup_s": setup["setup_s"],
        "log_problems": log_problems(log_dir),
    }
    summary["targets_met"] = {
        "conversations": summary["conversations"] >= TARGETS["conversations"],
        "p99_ms": steady["p99_ms"] is not None and steady["p99_ms"] < TARGETS["p99_ms"],
        "lost_doubled": lost == 0 and doubled == 0,
        "max_sockets": max_sockets is not None and max_sockets >= TARGETS["max_sockets"],
    }
    return summary


def print_table(summary: dict, paydesk: dict, floor: dict | None, ramp: dict | None) -> None:
    print()
    print(
        f"Chat: {summary['conversations']} conversations on {summary['servers']} uvicorn "
        f"processes, {summary['layer']} channel layer, "
        f"{2 * summary['conversations'] / summary['interval_s']:.0f} messages/s offered"
    )
    print(
        f"  {'run':<16} {'sent':>7} {'deliv.':>7} {'msg/s':>7} {'p50':>7} {'p95':>7} "
        f"{'p99':>7} {'max':>7} {'ack p99':>8} {'lost':>5} {'doubled':>7}"
    )
    runs = [("paydesk steady", paydesk["steady"]), ("paydesk burst", paydesk["burst"])]
    if floor:
        runs += [("floor steady", floor["steady"]), ("floor burst", floor["burst"])]
    for name, run in runs:
        if not run:
            continue
        print(
            f"  {name:<16} {run['sent']:>7} {run['delivered']:>7} {run['messages_per_s']!s:>7} "
            f"{run['p50_ms']!s:>7} {run['p95_ms']!s:>7} {run['p99_ms']!s:>7} "
            f"{run['max_ms']!s:>7} {run['ack_p99_ms']!s:>8} {run['lost']:>5} {run['doubled']:>7}"
        )
    print(
        f"  ratio to the floor: p99 x{summary['ratio_to_floor']}, "
        f"p50 x{summary['ratio_to_floor_p50']}"
    )
    print(f"  CPU cores during the steady run: {summary['cpu_cores']}")
    print(
        f"  memory: {summary['rss_mib_per_1000_chatting']} MiB per 1,000 chatting sockets, "
        f"{summary['rss_mib_per_1000_sockets']} MiB per 1,000 idle customers"
    )
    if ramp:
        print(f"  most sockets one process held: {ramp['max_sockets']} ({ramp['stopped']})")
    if summary["problems"]:
        print(f"  problems: {summary['problems']}")
    print(f"  targets met: {summary['targets_met']}")


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    sys.exit(main())
