"""argon2id hashing: OWASP's parameters at least, rehash when raised, a dummy for unknown names."""

from __future__ import annotations

import asyncio
import time

import pytest
from pydantic import ValidationError

from kenkogo_master.admin.passwords import Passwords, generate_password
from kenkogo_master.settings import AdminSettings


async def test_hashes_are_argon2id_with_the_configured_parameters() -> None:
    passwords = Passwords(AdminSettings())
    hashed = await passwords.hash("correct horse")
    assert hashed.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert await passwords.verify(hashed, "correct horse")
    assert not await passwords.verify(hashed, "correct horsE")
    assert not await passwords.verify("not a hash", "correct horse")
    assert not passwords.needs_rehash(hashed)
    stronger = Passwords(AdminSettings(hash_time_cost=3))
    assert stronger.needs_rehash(hashed)
    assert await stronger.verify(hashed, "correct horse")  # old hashes still verify


async def test_an_unknown_name_costs_as_much_as_a_wrong_password() -> None:
    passwords = Passwords(AdminSettings())
    hashed = await passwords.hash("correct horse")
    await passwords.prepare()

    async def took(hashed: str | None) -> float:
        started = time.perf_counter()
        assert not await passwords.verify(hashed, "wrong")
        return time.perf_counter() - started

    wrong = min([await took(hashed) for _ in range(3)])
    unknown = min([await took(None) for _ in range(3)])
    assert 0.5 < unknown / wrong < 2, (unknown, wrong)


async def test_hashing_leaves_the_event_loop_free() -> None:
    passwords = Passwords(AdminSettings())
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.001)

    ticker = asyncio.create_task(tick())
    await asyncio.gather(*(passwords.hash(f"password {i}") for i in range(4)))
    ticker.cancel()
    assert ticks >= 10  # four hashes take 100 ms or more; the loop ran on meanwhile


def test_parameters_below_owasp_minimum_are_refused() -> None:
    for weak in ({"hash_memory_kib": 19_455}, {"hash_time_cost": 1}, {"hash_parallelism": 0}):
        with pytest.raises(ValidationError):
            AdminSettings.model_validate(weak)


def test_generated_passwords_are_long_and_different() -> None:
    made = {generate_password() for _ in range(100)}
    assert len(made) == 100 and min(len(password) for password in made) >= 24
