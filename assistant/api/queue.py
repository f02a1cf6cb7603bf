"""The bounded queue in front of the engine: at most `slots` answers generated at once, at most `max_waiting`
waiting; one more is refused at once (429, with a Retry-After estimated from recent answer times), and one
that waited `timeout` seconds without a turn gets a 503 with Retry-After. Nothing queues without bound."""

from __future__ import annotations

import math
import threading
import time


class QueueFull(RuntimeError):
    """No room in the queue (429) or no turn within the timeout (503); `retry_after` in whole seconds."""

    def __init__(self, message: str, retry_after: int, status: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.status = status


class EngineQueue:
    def __init__(self, slots: int = 1, max_waiting: int = 8, timeout: float = 300.0) -> None:
        self.slots = slots
        self.max_waiting = max_waiting
        self.timeout = timeout
        self._turns = threading.Semaphore(slots)
        self._lock = threading.Lock()
        self.waiting = 0
        self.active = 0
        self.served = 0
        self.rejected = 0
        self._mean_seconds = 5.0  # until measured: a short answer of the embedded engine on a small CPU

    def retry_after(self) -> int:
        """Seconds until a place is likely free: the queue ahead, served `slots` at a time."""
        ahead = self.waiting + self.active
        return max(1, math.ceil(self._mean_seconds * max(1, ahead) / self.slots))

    def enter(self) -> Ticket:
        """A place in the queue (not yet a turn); QueueFull(429) when the queue is full."""
        with self._lock:
            if self.active + self.waiting >= self.slots + self.max_waiting:
                self.rejected += 1
                raise QueueFull(f"the engine is busy ({self.active} answering, {self.waiting} waiting); "
                                "try again later", self.retry_after(), 429)
            self.waiting += 1
        return Ticket(self)

    def _finished(self, seconds: float) -> None:
        with self._lock:
            self.active -= 1
            self.served += 1
            self._mean_seconds = 0.7 * self._mean_seconds + 0.3 * seconds
        self._turns.release()

    def stats(self) -> dict[str, int | float]:
        with self._lock:
            return {"slots": self.slots, "max_waiting": self.max_waiting, "active": self.active,
                    "waiting": self.waiting, "served": self.served, "rejected": self.rejected,
                    "mean_answer_seconds": round(self._mean_seconds, 3)}


class Ticket:
    """A place in the queue: `wait()` for the turn (blocking), `release()` when the answer is done (always)."""

    def __init__(self, queue: EngineQueue) -> None:
        self.queue = queue
        self.started: float | None = None
        self.released = False

    def wait(self) -> None:
        queue = self.queue
        got = queue._turns.acquire(timeout=queue.timeout)
        with queue._lock:
            queue.waiting -= 1
            if got:
                queue.active += 1
            else:
                queue.rejected += 1
        if not got:
            self.released = True
            raise QueueFull(f"no turn at the engine within {queue.timeout:.0f} s; try again later",
                            queue.retry_after(), 503)
        self.started = time.monotonic()

    def release(self) -> None:
        if self.released:
            return
        self.released = True
        if self.started is None:  # never got its turn
            with self.queue._lock:
                self.queue.waiting -= 1
            return
        self.queue._finished(time.monotonic() - self.started)
