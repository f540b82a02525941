"""The notifier's settings, read from the environment (the README lists them).

They live here rather than in broker.settings so that the notifier can be tuned (and
tested with short intervals) without touching the broker's own settings.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

__all__ = ["NotifySettings"]


def _number(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SystemExit(f"{name} must be a number, got {raw!r}") from None
    if value <= 0:
        raise SystemExit(f"{name} must be above 0, got {raw!r}")
    return value


@dataclass(frozen=True, slots=True)
class NotifySettings:
    #: Attempts per notification before it is given up ("dead" in the outbox).
    max_attempts: int = 10
    #: Wait before the first retry, in seconds; it doubles with each attempt.
    backoff_base: float = 1.0
    #: Longest wait between two attempts, in seconds.
    backoff_max: float = 300.0
    #: Timeout of one delivery, in seconds (an endpoint's own "timeout" wins).
    timeout: float = 10.0
    #: Deliveries in flight at once per broker process.
    concurrency: int = 64
    #: Deliveries in flight at once per endpoint (scheme, host and port).
    per_endpoint: int = 8
    #: How long a claimed notification is reserved for its worker, in seconds.
    lease: float = 60.0
    #: How often the outbox is polled for work left by other processes, in seconds.
    poll: float = 1.0
    #: Longest wait between two polls of a tenant whose polls find nothing, in seconds
    #: (the wait doubles from ``poll`` with each empty poll; activity resets it).
    idle_poll: float = 8.0
    #: How often subscription changes made through other processes are read, in seconds.
    subscription_poll: float = 1.0
    #: How often every tenant's subscriptions are read, changed or not, in seconds (a poll
    #: reads only the tenants whose subscriptions were written: see notify.registry).
    subscription_sweep: float = 30.0
    #: Most entities in one periodic (timeInterval) notification.
    periodic_limit: int = 1000
    #: Most notifications a process holds in memory to send itself; beyond, new ones wait
    #: in the outbox for a claim (a slow receiver must not fill the memory).
    memory_queue: int = 10_000

    @classmethod
    def from_env(cls) -> NotifySettings:
        return cls(
            max_attempts=int(_number("NOTIFY_MAX_ATTEMPTS", 10)),
            backoff_base=_number("NOTIFY_BACKOFF_BASE", 1.0),
            backoff_max=_number("NOTIFY_BACKOFF_MAX", 300.0),
            timeout=_number("NOTIFY_TIMEOUT", 10.0),
            concurrency=int(_number("NOTIFY_CONCURRENCY", 64)),
            per_endpoint=int(_number("NOTIFY_PER_ENDPOINT", 8)),
            lease=_number("NOTIFY_LEASE", 60.0),
            poll=_number("NOTIFY_POLL", 1.0),
            idle_poll=_number("NOTIFY_IDLE_POLL", 8.0),
            subscription_poll=_number("SUBSCRIPTION_POLL", 1.0),
            subscription_sweep=_number("SUBSCRIPTION_SWEEP", 30.0),
            periodic_limit=int(_number("NOTIFY_PERIODIC_LIMIT", 1000)),
            memory_queue=int(_number("NOTIFY_MEMORY_QUEUE", 10_000)),
        )

    def backoff(self, attempts: int) -> float:
        """Seconds to wait after the given number of failed attempts."""
        return float(min(self.backoff_max, self.backoff_base * 2 ** max(0, attempts - 1)))
