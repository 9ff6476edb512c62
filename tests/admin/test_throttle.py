"""Failed-login throttling on a clock the test moves: free attempts, growing delays, lockout."""

from __future__ import annotations

from kenkogo_master.admin.throttle import MAX_KEYS, LoginThrottle, Verdict
from kenkogo_master.settings import AdminSettings

SETTINGS = AdminSettings(
    login_free_attempts=2,
    login_max_attempts=5,
    login_delay=1.0,
    login_max_delay=3.0,
    lockout=60.0,
    login_window=100.0,
)


class Clock:
    """A monotonic clock that moves only when told."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_free_attempts_then_doubling_delays_up_to_the_cap_then_a_lockout() -> None:
    clock = Clock()
    throttle = LoginThrottle(SETTINGS, clock)
    verdicts = [throttle.begin("admin", "10.0.0.1") for _ in range(7)]
    assert verdicts == [
        Verdict(),
        Verdict(),
        Verdict(delay=1.0),
        Verdict(delay=2.0),
        Verdict(delay=3.0),  # 4.0, capped
        Verdict(retry_after=60),
        Verdict(retry_after=60),
    ]
    clock.now += 59.5
    assert throttle.begin("admin", "10.0.0.1") == Verdict(retry_after=1)
    clock.now += 0.5
    assert throttle.begin("admin", "10.0.0.1") == Verdict()  # the lockout is over: afresh


def test_the_account_and_the_address_are_counted_apart() -> None:
    throttle = LoginThrottle(SETTINGS, Clock())
    for index in range(6):  # one address tries six names: the address is locked out
        throttle.begin(f"user{index}", "10.0.0.1")
    assert throttle.begin("admin", "10.0.0.1").refused
    assert not throttle.begin("admin", "10.0.0.2").refused  # the account is not
    for index in range(5):  # five addresses try one name: the account is locked out
        throttle.begin("carol", f"10.0.1.{index}")
    assert throttle.begin("carol", "10.0.2.1").refused


def test_success_forgives_the_account_and_one_failure_of_the_address() -> None:
    throttle = LoginThrottle(SETTINGS, Clock())
    for _ in range(4):
        throttle.begin("admin", "10.0.0.1")
    throttle.succeeded("admin", "10.0.0.1")
    # The account starts afresh; the address keeps three failures, so the next is its fourth.
    assert throttle.begin("admin", "10.0.0.1") == Verdict(delay=2.0)
    assert throttle.begin("admin", "10.0.0.2") == Verdict()  # from elsewhere: the first


def test_failures_older_than_the_window_are_forgotten() -> None:
    clock = Clock()
    throttle = LoginThrottle(SETTINGS, clock)
    for _ in range(4):
        throttle.begin("admin", "10.0.0.1")
    clock.now += 101
    assert throttle.begin("admin", "10.0.0.1") == Verdict()


def test_memory_is_bounded_however_many_names_are_tried() -> None:
    throttle = LoginThrottle(SETTINGS, Clock())
    for index in range(MAX_KEYS + 100):
        throttle.begin(f"name{index}", "10.0.0.1")
    assert len(throttle._records) <= MAX_KEYS
