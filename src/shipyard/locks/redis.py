"""Locks kept directly in Redis (`--synchronization=redis://[:password@]HOST:PORT[/db]`, also rediss://).

Each lock is one key, `<prefix><lock name>`, holding a lease record (see `locks.lease`: an id that is the
owner's token, an expiry, shared holders). Every change is a WATCH/GET/TIME … MULTI/SET|DEL/EXEC transaction
applying the lease rules, retried when another client changed the key in between, so acquire, renew and
release are atomic and renew/release succeed only for the owner. Expiry is judged on Redis's clock (TIME),
so builders' clocks do not matter, and the key itself expires a second after its lease, so crashed holders
leave nothing behind. Timing is werf's (TTL 10 s, renewal every 3 s); waiters poll from 50 ms backing off to
1 s, because Redis answers polls cheaply.

Connection errors and timeouts are retried `retries` times with jittered backoff, then fail with an error
naming the server (never its password).
"""

from __future__ import annotations

import copy
import math
import time
import urllib.parse
from collections.abc import Callable
from typing import Any

import redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError, WatchError
from redis.exceptions import TimeoutError as RedisTimeoutError

from shipyard.errors import ShipyardError
from shipyard.locks import lease

DEFAULT_TIMING = lease.LeaseTiming(lease.TTL_SECONDS, lease.RENEW_SECONDS, poll=1.0, first_poll=0.05)
DEFAULT_PREFIX = "shipyard:locks:"
_KEY_GRACE_MS = 1000

Rule = lease.Rule


def project_prefix(project: str) -> str:
    """The key prefix of one project's locks."""
    return f"shipyard:{project}:locks:"


def describe_url(url: str) -> str:
    """`redis host:port/db` for messages, without credentials."""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or "localhost"
    db = parts.path.strip("/") or "0"
    return f"{parts.scheme}://{host}:{parts.port or 6379}/{db}"


class RedisLocker(lease.LeasedLocker):
    """A Locker (see locks.base) on a Redis server. Thread-safe; the constructor does no I/O."""

    def __init__(self, url: str, *, prefix: str = DEFAULT_PREFIX, timing: lease.LeaseTiming = DEFAULT_TIMING,
                 socket_timeout: float = 5.0, retries: int = 4, retry_delay: float = 0.2,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.leases = RedisLeases(url, prefix=prefix, ttl=timing.ttl, socket_timeout=socket_timeout,
                                  retries=retries, retry_delay=retry_delay, sleep=sleep)
        super().__init__(self.leases, timing, sleep=sleep)

    def close(self) -> None:
        self.leases.close()


class RedisLeases(lease.RuleLeases):
    """The LeaseBackend on Redis; usable on its own (tests, tools)."""

    def __init__(self, url: str, *, prefix: str = DEFAULT_PREFIX, ttl: float = lease.TTL_SECONDS,
                 socket_timeout: float = 5.0, retries: int = 4, retry_delay: float = 0.2,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        if urllib.parse.urlsplit(url).scheme not in ("redis", "rediss"):
            raise ShipyardError(f"invalid Redis address {describe_url(url)!r}",
                                hint="use redis://[:PASSWORD@]HOST:PORT[/DB] or rediss://…")
        self._where = f"redis {describe_url(url)}"
        self._redis = redis.Redis.from_url(url, socket_timeout=socket_timeout,
                                           socket_connect_timeout=socket_timeout)
        self._prefix, self._ttl = prefix, ttl
        self._retries, self._retry_delay, self._sleep = retries, retry_delay, sleep

    @property
    def where(self) -> str:
        return self._where

    def close(self) -> None:
        self._redis.close()

    def key(self, name: str) -> str:
        return self._prefix + name

    def with_prefix(self, prefix: str) -> RedisLeases:
        """The same server and connection pool, keys under `prefix` (the lock server: one per clientID)."""
        other = copy.copy(self)
        other._prefix = prefix
        return other

    def check(self) -> None:
        """One PING; ShipyardError naming the server (never its password) when it does not answer."""
        try:
            self._redis.ping()
        except RedisError as error:
            raise ShipyardError(f"{self.where} does not answer: {error}",
                                hint="check that redis-server runs there, the password and the database",
                                ) from None

    def record(self, name: str) -> lease.Lease | None:
        """The stored lease of `name` (for inspection)."""
        raw = self._with_retries(lambda _retried: self._redis.get(self.key(name)), f"reading lock {name!r}")
        return lease.Lease.from_json(raw) if raw else None


    def _change(self, name: str, rule: Rule, doing: str, *, released: bool = False) -> lease.Lease | None:
        key = self.key(name)

        def attempt(retried: bool) -> lease.Lease | None:
            try:
                return self._transaction(key, rule)
            except lease.LeaseRefusedError as refused:
                # An earlier attempt whose answer was lost may have released it already.
                if released and retried and refused.reason == lease.NO_LEASE:
                    return None
                raise

        changed: lease.Lease | None = self._with_retries(attempt, doing)
        return changed

    def _transaction(self, key: str, rule: Rule) -> lease.Lease | None:
        """Apply `rule` to the record at `key` atomically (optimistic: retried while others change it)."""
        with self._redis.pipeline() as pipe:
            while True:
                try:
                    pipe.watch(key)  # type: ignore[no-untyped-call]
                    raw: Any = pipe.get(key)
                    seconds, micros = pipe.time()
                    changed = rule(lease.Lease.from_json(raw) if raw else None, seconds + micros / 1e6)
                    pipe.multi()
                    if changed is None:
                        pipe.delete(key)
                    else:
                        key_expiry = math.ceil(changed.expire_at * 1000) + _KEY_GRACE_MS
                        pipe.set(key, changed.to_json(), pxat=key_expiry)
                    pipe.execute()
                    return changed
                except WatchError:
                    continue

    def _with_retries(self, call: Callable[[bool], Any], doing: str) -> Any:
        failure = ""
        for attempt in range(self._retries + 1):
            if attempt:
                self._sleep(lease.retry_pause(attempt, self._retry_delay))
            try:
                return call(attempt > 0)
            except (RedisConnectionError, RedisTimeoutError) as error:
                failure = str(error) or type(error).__name__
            except RedisError as error:
                raise ShipyardError(f"{self.where}: {doing} failed: {error}",
                                    hint="check the password, the database and the server's log") from error
            except ValueError as error:  # a key under our prefix that is not a lease record
                raise ShipyardError(f"{self.where}: {doing}: {error}",
                                    hint="another program writes under the same key prefix") from error
        raise ShipyardError(
            f"{self.where} is unreachable: {doing} failed {self._retries + 1} times, last: {failure}",
            hint="check that redis-server runs there and the address in --synchronization",
        )
