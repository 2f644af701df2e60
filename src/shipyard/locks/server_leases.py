"""Where the lock server keeps leases (see `locks.server`): in this process's memory, or in Redis.

* MemoryLeases: one LockStore (a dict of leases applying the rules of `locks.lease`) per clientID. Not
  thread-safe: the server's event loop serialises every call and none awaits inside, so each is atomic.
* RedisServerLeases: the leases of clientID C are the keys `shipyard:synchronization:C:<lock name>`, changed
  by the transactions of `locks.redis.RedisLeases` on a thread pool, so server replicas share them.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, Protocol

from shipyard.locks import lease

if TYPE_CHECKING:
    from shipyard.locks.redis import RedisLeases

REDIS_PREFIX = "shipyard:synchronization:"
REDIS_WORKERS = 32  # threads running Redis transactions: requests in flight to Redis at once


class LockStore:
    """The leases of one clientID. Not thread-safe: the event loop serialises every call."""

    def __init__(self, ttl: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._ttl = ttl
        self._clock = clock
        self._leases: dict[str, lease.Lease] = {}

    def __len__(self) -> int:
        return len(self._leases)

    def acquire(self, name: str, shared: bool) -> lease.Lease:
        granted = lease.acquire(self._leases.get(name), name, shared=shared, now=self._clock(), ttl=self._ttl,
                                new_id=str(uuid.uuid4()))
        self._leases[name] = granted
        return granted

    def renew(self, name: str, lease_id: str) -> None:
        self._leases[name] = lease.renew(self._leases.get(name), lease_id, now=self._clock(), ttl=self._ttl)

    def release(self, name: str, lease_id: str) -> None:
        remaining = lease.release(self._leases.get(name), lease_id)
        if remaining is None:
            del self._leases[name]
        else:
            self._leases[name] = remaining

    def sweep(self) -> None:
        now = self._clock()
        for name in [name for name, record in self._leases.items() if record.expired(now)]:
            del self._leases[name]


class ServerLeases(Protocol):
    """Where the server keeps leases. Refusals raise lease.LeaseRefusedError; an unusable store raises
    ShipyardError."""

    describe: str

    async def acquire(self, client_id: str, name: str, shared: bool) -> str:
        """The lease id."""
        ...

    async def renew(self, client_id: str, name: str, lease_id: str) -> None: ...

    async def release(self, client_id: str, name: str, lease_id: str) -> None: ...

    async def check(self) -> None:
        """Raise ShipyardError when the store cannot be used (for /health)."""
        ...


class MemoryLeases:
    """Every clientID's LockStore in this process. Atomic because the event loop serialises the calls."""

    describe = "in memory"

    def __init__(self, ttl: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self._clock = clock
        self._stores: dict[str, LockStore] = {}

    @property
    def client_ids(self) -> list[str]:
        return list(self._stores)

    def store(self, client_id: str) -> LockStore:
        """The store of `client_id`, made on first use (as werf's getOrCreateClientHandler)."""
        store = self._stores.get(client_id)
        if store is None:
            store = self._stores[client_id] = LockStore(self.ttl, self._clock)
        return store

    def sweep(self) -> None:
        for client_id in list(self._stores):
            store = self._stores[client_id]
            store.sweep()
            if not store:
                del self._stores[client_id]

    async def acquire(self, client_id: str, name: str, shared: bool) -> str:
        return self.store(client_id).acquire(name, shared).id

    async def renew(self, client_id: str, name: str, lease_id: str) -> None:
        self.store(client_id).renew(name, lease_id)

    async def release(self, client_id: str, name: str, lease_id: str) -> None:
        self.store(client_id).release(name, lease_id)

    async def check(self) -> None:
        return None


class RedisServerLeases:
    """Leases in Redis through `locks.redis.RedisLeases` (one key prefix per clientID), on a thread pool."""

    def __init__(self, url: str, ttl: float, *, workers: int = REDIS_WORKERS) -> None:
        from shipyard.locks.redis import RedisLeases

        self._leases = RedisLeases(url, prefix=REDIS_PREFIX, ttl=ttl, retries=2, retry_delay=0.1)
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="redis")
        self.describe = f"in {self._leases.where}"

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._leases.close()

    async def acquire(self, client_id: str, name: str, shared: bool) -> str:
        lease_id = await self._run(self._for(client_id).try_acquire, name, shared)
        if lease_id is None:
            raise lease.LeaseRefusedError(lease.SHOULD_WAIT)
        return str(lease_id)

    async def renew(self, client_id: str, name: str, lease_id: str) -> None:
        await self._owned(self._for(client_id).renew, name, lease_id)

    async def release(self, client_id: str, name: str, lease_id: str) -> None:
        await self._owned(self._for(client_id).release, name, lease_id)

    async def check(self) -> None:
        await self._run(self._leases.check)

    def _for(self, client_id: str) -> RedisLeases:
        return self._leases.with_prefix(f"{REDIS_PREFIX}{client_id}:")

    async def _owned(self, call: Callable[[str, str], None], name: str, lease_id: str) -> None:
        try:
            await self._run(call, name, lease_id)
        except lease.LeaseLostError as lost:  # the backend's "not yours / not there" → the API's err string
            raise lease.LeaseRefusedError(lost.reason) from None

    async def _run(self, call: Callable[..., Any], *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self._pool, call, *args)
