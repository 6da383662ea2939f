"""Failed sign-ins per address, on a clock the test moves."""

from __future__ import annotations

from realtime.throttle import FailureLimit


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_an_address_waits_once_it_failed_too_often_and_only_that_address() -> None:
    clock = Clock()
    limit = FailureLimit(3, window=300, clock=clock)
    for _ in range(3):
        assert limit.retry_after("10.0.0.1") == 0
        limit.failed("10.0.0.1")
        clock.now += 10
    assert limit.retry_after("10.0.0.1") == 300 - 30
    assert limit.retry_after("10.0.0.2") == 0
    clock.now += 300 - 30  # the first failure ages out: one more try
    assert limit.retry_after("10.0.0.1") == 0


def test_memory_is_bounded() -> None:
    limit = FailureLimit(1, clock=Clock(), max_clients=100)
    for i in range(1000):
        limit.failed(f"10.0.{i // 256}.{i % 256}")
    assert limit.retry_after("10.0.3.231") > 0  # the most recent are kept
    assert limit.retry_after("10.0.0.0") == 0
