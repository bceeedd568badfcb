from __future__ import annotations

from just_ingredients.vision.breaker import BreakerState, CircuitBreaker


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_opens_after_k_failures_half_opens_and_closes() -> None:
    clock = Clock()
    b = CircuitBreaker(failure_threshold=3, reset_after=10, clock=clock)
    assert b.state is BreakerState.CLOSED
    assert b.state_number == 0
    for _ in range(2):
        assert b.allow()
        b.record_failure()
    assert b.state is BreakerState.CLOSED
    b.record_failure()
    assert b.state is BreakerState.OPEN
    assert b.state_number == 1
    assert not b.allow()
    assert b.retry_after() == 10
    clock.now += 10
    assert b.state is BreakerState.HALF_OPEN
    assert b.state_number == 2
    assert b.allow()  # the one trial
    assert not b.allow()  # no second trial while the first runs
    b.record_success()
    assert b.state is BreakerState.CLOSED
    assert b.allow()


def test_failed_trial_reopens() -> None:
    clock = Clock()
    b = CircuitBreaker(failure_threshold=1, reset_after=5, clock=clock)
    b.record_failure()
    clock.now += 5
    assert b.allow()
    b.record_failure()
    assert b.state is BreakerState.OPEN
    clock.now += 4.9
    assert not b.allow()
    clock.now += 0.1
    assert b.allow()


def test_success_resets_the_count() -> None:
    b = CircuitBreaker(failure_threshold=2)
    b.record_failure()
    b.record_success()
    b.record_failure()
    assert b.state is BreakerState.CLOSED


def test_released_trial_can_be_retried() -> None:
    clock = Clock()
    b = CircuitBreaker(failure_threshold=1, reset_after=1, clock=clock)
    b.record_failure()
    clock.now += 1
    assert b.allow()
    b.release_trial()
    assert b.allow_peek()
    assert b.allow()


def test_listeners_hear_each_change_once_and_a_failing_listener_changes_nothing() -> None:
    clock = Clock()
    breaker = CircuitBreaker(failure_threshold=2, reset_after=10, clock=clock)
    heard: list[tuple[str, str]] = []

    def broken(_previous: BreakerState, _current: BreakerState) -> None:
        raise RuntimeError("listener bug")

    breaker.add_listener(broken)
    breaker.add_listener(lambda p, c: heard.append((p.value, c.value)))
    breaker.record_failure()
    assert heard == []  # one failure below the threshold: no change
    breaker.record_failure()
    breaker.record_failure()
    assert heard == [("closed", "open")]
    clock.now += 10
    assert breaker.allow()  # the trial call: half-open is heard on this call
    breaker.record_success()
    assert heard == [("closed", "open"), ("open", "half_open"), ("half_open", "closed")]
    assert breaker.state is BreakerState.CLOSED
