"""What the benchmarks share: the local services, free ports, CPU accounting, percentiles.

Imported as `bench.common`: each script puts the repository root first on its path.
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
import time
from pathlib import Path

import psycopg
from psycopg import sql

HOST = "127.0.0.1"
PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
CLK_TCK = os.sysconf("SC_CLK_TCK")


def free_ports(start: int, count: int) -> list[int]:
    ports: list[int] = []
    port = start
    while len(ports) < count and port < start + 1000:
        with socket.socket() as sock:
            try:
                sock.bind((HOST, port))
                ports.append(port)
            except OSError:
                pass
        port += 1
    if len(ports) < count:
        raise SystemExit(f"no {count} free ports from {start}")
    return ports


def recreate_database(name: str) -> None:
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def _proc_tree(pid: int) -> list[int]:
    pids = [pid]
    with contextlib.suppress(OSError):
        for task in Path(f"/proc/{pid}/task").iterdir():
            for child in (task / "children").read_text().split():
                pids.extend(_proc_tree(int(child)))
    return pids


def cpu_seconds(pid: int, *, descendants: bool = True) -> float:
    """CPU time (user + system) of a process and its live descendants (or of the process
    alone)."""
    total = 0
    for each in _proc_tree(pid) if descendants else [pid]:
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{each}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
    return total / CLK_TCK


def machine_busy_seconds() -> float:
    """CPU seconds the whole machine has spent busy since boot (all cores)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]
    return (sum(fields[:8]) - idle) / CLK_TCK


def percentile(values: list[float], pct: float) -> float:
    """The nearest-rank percentile; NaN without values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(pct / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


def rss_mib(pid: int) -> float:
    """Resident memory of one process (VmRSS) in MiB; NaN once it is gone."""
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _stat(pid: int) -> tuple[str, int, list[int]]:
    """(command, parent pid, [utime, stime, cutime, cstime]) of a process."""
    text = Path(f"/proc/{pid}/stat").read_text()
    comm = text[text.index("(") + 1 : text.rindex(")")]
    fields = text.rsplit(")", 1)[1].split()
    return comm, int(fields[1]), [int(x) for x in fields[11:15]]


def service_cpu_seconds(command: str) -> float:
    """CPU time of a service by command name (postgres, redis-server), finished children
    included: a PostgreSQL backend that exits is counted in its postmaster's cutime/cstime."""
    procs = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, ValueError):
                procs[int(entry.name)] = _stat(int(entry.name))
    total = 0
    for comm, ppid, times in procs.values():
        if comm != command:
            continue
        parent_is_same = ppid in procs and procs[ppid][0] == command
        total += sum(times[:2]) + (0 if parent_is_same else sum(times[2:]))
    return total / CLK_TCK


# The channel layers bench/chat.py compares: Paydesk's production layer (pubsub) and two others.
# The prefix keeps the bench's channels and groups apart from anything else on the same Redis
# (pub/sub channels are shared by every database number).
CHANNEL_LAYERS = {
    "pubsub": "channels_redis.pubsub.RedisPubSubChannelLayer",
    "core": "channels_redis.core.RedisChannelLayer",
    "memory": "channels.layers.InMemoryChannelLayer",
}
BENCH_LAYER_PREFIX = "paydesk-bench-chat"


def channel_layer_settings(layer: str, redis_url: str) -> dict:
    """CHANNEL_LAYERS for `layer`, with each layer's own defaults otherwise."""
    if layer == "memory":
        return {"default": {"BACKEND": CHANNEL_LAYERS[layer]}}
    config = {"hosts": [redis_url], "prefix": BENCH_LAYER_PREFIX}
    return {"default": {"BACKEND": CHANNEL_LAYERS[layer], "CONFIG": config}}


def check_bench_arguments(parser, args) -> None:
    """What every benchmark checks of its arguments: it drops and recreates `--db-name`, flushes
    `--redis-db`, and passes `--env KEY=VALUE` on to its servers."""
    if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", args.db_name) or args.db_name in (
        "postgres",
        "paydesk",
    ):
        parser.error("--db-name must be a plain lower-case identifier of the bench's own")
    if getattr(args, "redis_db", None) == 0:
        parser.error("--redis-db 0 is the default database of other tools; use one of its own")
    if any("=" not in item for item in getattr(args, "env", [])):
        parser.error("--env takes KEY=VALUE")


def background_load(seconds: float = 2.0) -> float:
    """The cores other programs keep busy before a run starts (warned of past 0.2): a run on a
    busy machine measures the machine, not Paydesk."""
    busy = machine_busy_seconds()
    time.sleep(seconds)
    cores = round((machine_busy_seconds() - busy) / seconds, 2)
    if cores > 0.2:
        print(f"[bench] warning: the machine is already busy ({cores} cores)")
    return cores
