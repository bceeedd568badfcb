"""A small circuit breaker for the OCR engine.

closed ──(K consecutive failures)──► open ──(reset_after seconds)──► half_open
half_open: one trial call at a time; success → closed, failure → open again.
The clock is injectable so tests need no sleeping. Listeners (`add_listener`) hear every
change of state seen by a call (open → half_open is time-based: it is heard on the next call).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum

log = logging.getLogger(__name__)


class BreakerState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"

    @property
    def number(self) -> int:
        """0 closed, 1 open, 2 half-open (the ``ji_circuit_state`` gauge value)."""
        return _NUMBERS[self]


_NUMBERS = {BreakerState.CLOSED: 0, BreakerState.OPEN: 1, BreakerState.HALF_OPEN: 2}

#: called with (previous, current) after a call changed the state; may run in a worker thread
Listener = Callable[[BreakerState, BreakerState], None]


class CircuitBreaker:
    def __init__(
        self,
        failure_threshold: int = 5,
        reset_after: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if failure_threshold < 1:
            raise ValueError("failure_threshold must be >= 1")
        self.failure_threshold = failure_threshold
        self.reset_after = reset_after
        self._clock = clock
        self._lock = threading.Lock()
        self._failures = 0
        self._opened_at: float | None = None
        self._trial_running = False
        self._listeners: list[Listener] = []
        self._last_seen = BreakerState.CLOSED

    def add_listener(self, listener: Listener) -> None:
        self._listeners.append(listener)

    @contextmanager
    def _changing(self) -> Iterator[None]:
        """Hold the lock for a call, then tell the listeners (outside the lock) what changed."""
        with self._lock:
            yield
            current = self._state_locked()
            previous, self._last_seen = self._last_seen, current
        if current is previous:
            return
        for listener in self._listeners:
            try:
                listener(previous, current)
            except Exception:
                log.exception("circuit breaker listener failed")

    @property
    def state(self) -> BreakerState:
        with self._lock:
            return self._state_locked()

    @property
    def state_number(self) -> int:
        return self.state.number

    @property
    def consecutive_failures(self) -> int:
        return self._failures

    def _state_locked(self) -> BreakerState:
        if self._opened_at is None:
            return BreakerState.CLOSED
        if self._clock() - self._opened_at >= self.reset_after:
            return BreakerState.HALF_OPEN
        return BreakerState.OPEN

    def allow(self) -> bool:
        """May a call go through now? In half-open state only one trial at a time."""
        with self._changing():
            state = self._state_locked()
            if state is BreakerState.CLOSED:
                return True
            if state is BreakerState.HALF_OPEN and not self._trial_running:
                self._trial_running = True
                return True
            return False

    def allow_peek(self) -> bool:
        """Would a call be allowed now? Does not take the half-open trial slot."""
        with self._lock:
            state = self._state_locked()
            return state is BreakerState.CLOSED or (
                state is BreakerState.HALF_OPEN and not self._trial_running
            )

    def retry_after(self) -> float:
        """Seconds until a trial call will be allowed (0 when allowed now)."""
        with self._lock:
            if self._opened_at is None:
                return 0.0
            return max(0.0, self.reset_after - (self._clock() - self._opened_at))

    def record_success(self) -> None:
        with self._changing():
            self._failures = 0
            self._opened_at = None
            self._trial_running = False

    def record_failure(self) -> None:
        with self._changing():
            self._failures += 1
            was_trial = self._trial_running
            self._trial_running = False
            if was_trial or self._failures >= self.failure_threshold:
                self._opened_at = self._clock()

    def release_trial(self) -> None:
        """A trial call ended with neither success nor engine failure (e.g. a bad image)."""
        with self._changing():
            self._trial_running = False
