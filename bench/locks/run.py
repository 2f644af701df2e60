"""Lock service under load: N concurrent clients acquiring and releasing M lock names for D seconds.

Every client has its own connection, all clients belong to one project (one clientID), and each loops: pick
a random name, acquire it (polling while it is busy), hold it `--hold` seconds, release it. One shared
in-process table records the holder of every name: a grant while the table says someone else holds that name
is a mutual-exclusion violation (a holder leaves the table before it sends its release, so a correct service
can never trip it). Reported per target: acquire+release cycles per second, acquire latency (first attempt
to grant, waiting included) p50/p99/max, the share of acquisitions that had to wait, violations and errors.

Two client models (`--model`):
* `asyncio` (default): one event loop, one aiohttp session (HTTP) or redis.asyncio connection (Redis) per
  client, speaking the wire protocol directly: werf's HTTP API, or the WATCH/MULTI transactions of
  `locks.redis` applying the rules of `locks.lease`. This loads the service; the load generator is cheap
  (httpx.AsyncClient was measured at ~2.5 ms of client CPU per cycle against ~0.3 ms for aiohttp, so it
  would have benchmarked itself).
* `threads`: one thread per client running shipyard's own HttpLocker / RedisLocker (a renewal thread per
  held lock included): what builders see, but on 2 cores the client process is the bottleneck.

Targets (all on 127.0.0.1, started and stopped here; bounded by `--duration`):
* `http`: `shipyard synchronization` with in-memory leases, HttpLocker clients;
* `http-redis`: two `shipyard synchronization --redis` replicas sharing one redis-server, half of the clients
  on each (the load-balanced deployment);
* `redis`: RedisLocker clients on redis-server directly (no lock server).
Polling while busy starts at `--first-poll` and doubles up to `--poll` for every target (werf's fixed 2 s
would measure the poll period, not the service). Leases keep werf's 10 s TTL and 3 s renewal.

    /tmp/venv-probe/bin/python bench/locks/run.py                    # 200 clients, 50 names, 30 s per target
    /tmp/venv-probe/bin/python bench/locks/run.py --duration 5 --targets http   # smoke run
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import platform
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import aiohttp
import redis.asyncio
from redis.exceptions import WatchError

from shipyard.locks import lease
from shipyard.locks.base import Locker
from shipyard.locks.http import HttpLocker
from shipyard.locks.lease import LeaseTiming
from shipyard.locks.redis import RedisLocker

LISTENING = re.compile(r"listening on (http://\S+)")
SERVICE_PIDS: list[int] = []  # lock servers and redis-servers running now, for their CPU time


@dataclass
class Tally:
    """What the clients saw; every field is changed under `guard`."""

    guard: threading.Lock = field(default_factory=threading.Lock)
    holders: dict[str, int] = field(default_factory=dict)
    cycles: int = 0
    requests: int = 0  # acquire attempts + releases (asyncio model only)
    violations: int = 0
    waited: int = 0
    errors: list[str] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)


def client(index: int, locker: Locker, names: list[str], hold: float, start: threading.Barrier,
           deadline: list[float], tally: Tally) -> None:
    rng = random.Random(index)
    locker.release(locker.acquire(f"warm-up-{index}"))  # connect before the clock starts
    start.wait()
    while time.monotonic() < deadline[0]:
        name = rng.choice(names)
        began = time.perf_counter()
        try:
            handle = locker.acquire(name, timeout=30)
        except Exception as error:  # a timeout or a failing service: counted, the run goes on
            with tally.guard:
                tally.errors.append(f"acquire: {error}")
            continue
        latency = time.perf_counter() - began
        with tally.guard:
            if tally.holders.get(name) is not None:
                tally.violations += 1
            tally.holders[name] = index
        if hold:
            time.sleep(hold)
        with tally.guard:
            if tally.holders.get(name) == index:
                del tally.holders[name]
        try:
            locker.release(handle)
        except Exception as error:
            with tally.guard:
                tally.errors.append(f"release: {error}")
            continue
        with tally.guard:
            if time.monotonic() <= deadline[0]:
                tally.cycles += 1
                tally.latencies.append(latency)
                tally.waited += handle.waited_seconds > 0


def run_threads(make: Callable[[int], Locker], args: argparse.Namespace) -> dict[str, float]:
    names = [f"bench.{uuid.uuid4().hex[:12]}-{index}" for index in range(args.names)]
    lockers = [make(index) for index in range(args.clients)]
    tally, start = Tally(), threading.Barrier(args.clients + 1)
    deadline = [float("inf")]
    threads = [threading.Thread(target=client, args=(index, locker, names, args.hold, start, deadline, tally),
                                daemon=True) for index, locker in enumerate(lockers)]
    for thread in threads:
        thread.start()
    deadline[0] = time.monotonic() + args.duration
    start.wait()
    began, cpu_before = time.monotonic(), cpu_clock()
    for thread in threads:
        thread.join(timeout=args.duration + 60)
    elapsed = min(time.monotonic(), deadline[0]) - began
    cpu_after = cpu_clock()
    for locker in lockers:
        close = getattr(locker, "close", None)
        if close is not None:
            close()
    return summary(tally, elapsed, (cpu_after[0] - cpu_before[0], cpu_after[1] - cpu_before[1]))


def cpu_clock() -> tuple[float, float]:
    """CPU seconds used so far by this process and by the services."""
    ticks = os.sysconf("SC_CLK_TCK")
    services = 0.0
    for pid in SERVICE_PIDS:
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
            services += (int(fields[11]) + int(fields[12])) / ticks
    return time.process_time(), services


def summary(tally: Tally, elapsed: float, cpu: tuple[float, float]) -> dict[str, float]:
    latencies = sorted(tally.latencies) or [float("nan")]

    def quantile(share: float) -> float:
        return latencies[min(len(latencies) - 1, int(share * len(latencies)))]

    if tally.errors:
        print(f"  {len(tally.errors)} errors, first: {tally.errors[0]}", file=sys.stderr)
    return {"cycles": tally.cycles, "per_second": tally.cycles / elapsed, "p50": quantile(0.50),
            "p99": quantile(0.99), "max": latencies[-1], "waited": tally.waited / max(tally.cycles, 1),
            "requests": tally.requests / elapsed, "violations": tally.violations, "errors": len(tally.errors),
            "client_cpu": cpu[0] / elapsed, "service_cpu": cpu[1] / elapsed}


# --- the asyncio model ------------------------------------------------------------------------------------


class AsyncLeases(Protocol):
    async def acquire(self, name: str) -> str | None:
        """The lease id, or None while the lock is busy."""
        ...

    async def release(self, name: str, lease_id: str) -> None: ...

    async def close(self) -> None: ...


class GrantEverything:
    """A broken lock service that grants every request: the violation check must catch it."""

    async def acquire(self, name: str) -> str | None:
        await asyncio.sleep(0)
        return str(uuid.uuid4())

    async def release(self, name: str, lease_id: str) -> None:
        await asyncio.sleep(0)

    async def close(self) -> None:
        return None


class HttpApi:
    """werf's lock API on one aiohttp session (one keep-alive connection per client)."""

    def __init__(self, url: str, client_id: str) -> None:
        self._session = aiohttp.ClientSession(f"{url}/", connector=aiohttp.TCPConnector(limit=1))
        self._base = f"{client_id}/locker/"

    async def acquire(self, name: str) -> str | None:
        answer = await self._post("acquire", {"lockName": name, "opts": {"shared": False}})
        if answer["err"] == lease.SHOULD_WAIT:
            return None
        if answer["err"]:
            raise RuntimeError(answer["err"])
        return str(answer["lockHandle"]["uuid"])

    async def release(self, name: str, lease_id: str) -> None:
        answer = await self._post("release", {"lockHandle": {"uuid": lease_id, "lockName": name}})
        if answer["err"]:
            raise RuntimeError(answer["err"])

    async def _post(self, operation: str, body: dict[str, Any]) -> dict[str, Any]:
        async with self._session.post(self._base + operation, json=body) as response:
            response.raise_for_status()
            answer: dict[str, Any] = await response.json()
            return answer

    async def close(self) -> None:
        await self._session.close()


class RedisTransactions:
    """locks.redis.RedisLeases's transactions (WATCH, GET, TIME, MULTI, SET|DEL, EXEC) on redis.asyncio."""

    def __init__(self, url: str, prefix: str) -> None:
        self._redis = redis.asyncio.Redis.from_url(url, max_connections=1)
        self._prefix = prefix

    async def acquire(self, name: str) -> str | None:
        new_id = str(uuid.uuid4())
        try:
            granted = await self._change(name, lambda current, now: lease.acquire(
                current, name, shared=False, now=now, ttl=lease.TTL_SECONDS, new_id=new_id))
        except lease.LeaseRefusedError:
            return None
        assert granted is not None
        return granted.id

    async def release(self, name: str, lease_id: str) -> None:
        await self._change(name, lambda current, _now: lease.release(current, lease_id))

    async def _change(self, name: str, rule: Callable[[lease.Lease | None, float], lease.Lease | None],
                      ) -> lease.Lease | None:
        key = self._prefix + name
        async with self._redis.pipeline() as pipe:
            while True:
                try:
                    await pipe.watch(key)
                    raw = await pipe.get(key)
                    seconds, micros = await pipe.time()
                    changed = rule(lease.Lease.from_json(raw) if raw else None, seconds + micros / 1e6)
                    pipe.multi()  # type: ignore[no-untyped-call]
                    if changed is None:
                        pipe.delete(key)
                    else:
                        pipe.set(key, changed.to_json(), pxat=int(changed.expire_at * 1000) + 1000)
                    await pipe.execute()
                    return changed
                except WatchError:
                    continue

    async def close(self) -> None:
        await self._redis.aclose()


async def async_client(index: int, leases: AsyncLeases, names: list[str], args: argparse.Namespace,
                       deadline: float, tally: Tally) -> None:
    rng = random.Random(index)
    while time.monotonic() < deadline:
        name, began, delay, waited = rng.choice(names), time.perf_counter(), args.first_poll, False
        try:
            tally.requests += 1
            while (lease_id := await leases.acquire(name)) is None:
                tally.requests += 1
                if time.perf_counter() - began > 30:
                    raise TimeoutError(f"{name} stayed busy for 30 s")
                waited = True
                await asyncio.sleep(delay)
                delay = min(delay * 2, args.poll)
        except Exception as error:
            tally.errors.append(f"acquire: {error!r}")
            continue
        latency = time.perf_counter() - began
        if tally.holders.get(name) is not None:
            tally.violations += 1
        tally.holders[name] = index
        await asyncio.sleep(args.hold)  # even 0 yields: other clients' grants can arrive meanwhile
        if tally.holders.get(name) == index:
            del tally.holders[name]
        try:
            tally.requests += 1
            await leases.release(name, lease_id)
        except Exception as error:
            tally.errors.append(f"release: {error!r}")
            continue
        if time.monotonic() <= deadline:
            tally.cycles += 1
            tally.latencies.append(latency)
            tally.waited += waited


def run_asyncio(make: Callable[[int], AsyncLeases], args: argparse.Namespace) -> dict[str, float]:
    async def main() -> dict[str, float]:
        names = [f"bench.{uuid.uuid4().hex[:12]}-{index}" for index in range(args.names)]
        clients = [make(index) for index in range(args.clients)]
        for index, leases in enumerate(clients):  # connect every client before the clock starts
            await leases.release(f"warm-up-{index}", str(await leases.acquire(f"warm-up-{index}")))
        tally = Tally()
        began, cpu_before = time.monotonic(), cpu_clock()
        deadline = began + args.duration
        await asyncio.gather(*(async_client(index, leases, names, args, deadline, tally)
                               for index, leases in enumerate(clients)))
        cpu_after = cpu_clock()
        for leases in clients:
            await leases.close()
        return summary(tally, args.duration, (cpu_after[0] - cpu_before[0], cpu_after[1] - cpu_before[1]))

    return asyncio.run(main())


# --- services ---------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def stop(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextlib.contextmanager
def lock_server(*extra: str) -> Iterator[str]:
    command = [sys.executable, "-m", "shipyard", "synchronization", "--host", "127.0.0.1", "--port", "0",
               *extra]
    process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True)
    assert process.stderr is not None
    line = process.stderr.readline()
    found = LISTENING.search(line)
    try:
        if not found:
            raise SystemExit(f"the lock server did not start: {line}{process.stderr.read()}")
        threading.Thread(target=process.stderr.read, daemon=True).start()  # keep the pipe drained
        SERVICE_PIDS.append(process.pid)
        yield found.group(1)
    finally:
        stop(process)
        SERVICE_PIDS.remove(process.pid) if process.pid in SERVICE_PIDS else None


@contextlib.contextmanager
def redis_server() -> Iterator[str]:
    if shutil.which("redis-server") is None:
        raise SystemExit("redis-server is missing (scripts/setup installs it)")
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="bench-locks-") as workdir:
        process = subprocess.Popen(["redis-server", "--bind", "127.0.0.1", "--port", str(port), "--save", "",
                                    "--appendonly", "no", "--dir", workdir], stdin=subprocess.DEVNULL,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True)
        try:
            for _ in range(500):
                with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(16).startswith(b"+PONG"):
                        break
                time.sleep(0.01)
            SERVICE_PIDS.append(process.pid)
            yield f"redis://127.0.0.1:{port}/0"
        finally:
            stop(process)
            SERVICE_PIDS.remove(process.pid) if process.pid in SERVICE_PIDS else None


def measure(target: str, args: argparse.Namespace) -> dict[str, float]:
    timing = LeaseTiming(ttl=10.0, renew=3.0, poll=args.poll, first_poll=args.first_poll)
    client_id = str(uuid.uuid4())
    threads = args.model == "threads"
    if target in ("http", "http-redis"):
        with contextlib.ExitStack() as stack:
            if target == "http":
                urls = [stack.enter_context(lock_server())]
            else:
                store = stack.enter_context(redis_server())
                urls = [stack.enter_context(lock_server("--redis", store)) for _ in range(2)]
            if threads:
                return run_threads(
                    lambda index: HttpLocker(urls[index % len(urls)], client_id, timing=timing), args)
            return run_asyncio(lambda index: HttpApi(urls[index % len(urls)], client_id), args)
    with redis_server() as url:
        prefix = f"shipyard:bench-{client_id[:8]}:locks:"
        if threads:
            return run_threads(lambda _index: RedisLocker(url, prefix=prefix, timing=timing), args)
        return run_asyncio(lambda _index: RedisTransactions(url, prefix), args)


LABELS = {"http": "HTTP server, in-memory leases", "http-redis": "HTTP server ×2 replicas, leases in Redis",
          "redis": "RedisLocker, Redis directly"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--names", type=int, default=50)
    parser.add_argument("--duration", type=float, default=30.0, help="seconds per target")
    parser.add_argument("--hold", type=float, default=0.001, help="seconds each lock is held")
    parser.add_argument("--first-poll", type=float, default=0.005)
    parser.add_argument("--poll", type=float, default=0.1)
    parser.add_argument("--targets", default="http,http-redis,redis")
    parser.add_argument("--model", choices=("asyncio", "threads"), default="asyncio")
    args = parser.parse_args()
    if not 0 < args.duration <= 600 or not 0 < args.clients <= 1000:
        parser.error("keep it bounded: 0 < --duration <= 600, 0 < --clients <= 1000")
    print(f"{args.model}: {args.clients} clients, {args.names} lock names, {args.duration:g} s per target, "
          f"hold {args.hold:g} s, poll {args.first_poll:g}→{args.poll:g} s; {platform.node()}, "
          f"{time.strftime('%Y-%m-%d %H:%M:%S %Z')}")
    check = argparse.Namespace(**(vars(args) | {"duration": 1.0}))
    caught = run_asyncio(lambda _index: GrantEverything(), check)["violations"]
    print(f"violation check: a service granting every request gave {caught:,.0f} violations in 1 s")
    if not caught:
        raise SystemExit("the violation check is blind")
    rows = []
    for target in args.targets.split(","):
        print(f"running {target} …", file=sys.stderr, flush=True)
        rows.append((target, measure(target, args)))
    print("\n| target | cycles/s | requests/s | acquire p50 | p99 | max | waited | violations | errors "
          "| CPU client / services |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for target, row in rows:
        requests = f"{row['requests']:,.0f}" if row["requests"] else "n/a"
        print(f"| {LABELS[target]} | {row['per_second']:,.0f} | {requests} | {row['p50'] * 1000:.1f} ms | "
              f"{row['p99'] * 1000:.0f} ms | {row['max'] * 1000:.0f} ms | {row['waited']:.0%} | "
              f"{row['violations']:.0f} | {row['errors']:.0f} | {row['client_cpu']:.0%} / "
              f"{row['service_cpu']:.0%} |")
    if any(row["violations"] for _, row in rows):
        raise SystemExit("mutual exclusion was violated")


if __name__ == "__main__":
    main()
