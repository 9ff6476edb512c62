"""argon2id password hashing, off the event loop so that a login never stalls message flow."""

from __future__ import annotations

import asyncio
import secrets

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from kenkogo_master.settings import AdminSettings

# Each hash holds hash_memory_kib for its run: at most this many run at once, so a flood of
# logins costs bounded memory and leaves the default executor's threads to everything else.
CONCURRENT_HASHES = 2


class Passwords:
    """Hash and verify passwords with argon2id in worker threads."""

    def __init__(self, settings: AdminSettings) -> None:
        self._hasher = PasswordHasher(
            time_cost=settings.hash_time_cost,
            memory_cost=settings.hash_memory_kib,
            parallelism=settings.hash_parallelism,
            type=Type.ID,
        )
        self._slots = asyncio.Semaphore(CONCURRENT_HASHES)
        self._dummy: str | None = None

    async def prepare(self) -> None:
        """Make the dummy hash now, so that the first unknown name is not the slow one."""
        if self._dummy is None:
            self._dummy = await self.hash(secrets.token_urlsafe(16))

    async def hash(self, password: str) -> str:
        """Return the argon2id hash of `password`."""
        async with self._slots:
            return await asyncio.to_thread(self._hasher.hash, password)

    async def verify(self, hashed: str | None, password: str) -> bool:
        """Tell whether `password` matches `hashed`; None checks against a dummy hash.

        The dummy takes as long as a real check, so that an unknown name answers no faster
        than a wrong password.
        """
        if hashed is None:
            await self.prepare()
            assert self._dummy is not None
            hashed = self._dummy  # made from a random secret nobody knows: never a match
        async with self._slots:
            return await asyncio.to_thread(self._check, hashed, password)

    def _check(self, hashed: str, password: str) -> bool:
        try:
            return self._hasher.verify(hashed, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, hashed: str) -> bool:
        """Tell whether `hashed` was made with weaker parameters than the configured ones."""
        return self._hasher.check_needs_rehash(hashed)


def generate_password() -> str:
    """Return a random password for a new account (about 144 bits)."""
    return secrets.token_urlsafe(18)
