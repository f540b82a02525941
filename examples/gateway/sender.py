"""Batch upserts to an NGSI-LD broker, with retries as a gateway on a flaky link needs them.

POST /ngsi-ld/v1/entityOperations/upsert?options=update with Content-Type
application/ld+json (each entity carries its @context). The answer decides what happens:

- 201 (some entities created: the body lists them) or 204 (all updated): delivered.
- 207: the BatchOperationResult says which entities failed; each failure is reported with
  its ProblemDetails. An entity failing with a 5xx status is kept to be sent again later,
  one failing with a 4xx is dropped (sending it again would fail again).
- 4xx: the broker refuses the request. It is reported (ProblemDetails type, title, detail)
  and never retried: the same payload would be refused again.
- 5xx, a connection error or a timeout: retried with exponential backoff and jitter, at most
  max_retries times (a 503's Retry-After is honoured); then the sender gives up on this
  batch and the gateway keeps its entities to send with the next cycle.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import aiohttp
import orjson

from .entities import Entity

__all__ = ["UPSERT_PATH", "BatchSender", "Outcome", "RetryPolicy", "Stats"]

UPSERT_PATH: Final = "/ngsi-ld/v1/entityOperations/upsert"
log = logging.getLogger("kaido.gateway.sender")


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential backoff with jitter: before retry n (from 1) wait between half and all
    of min(max_delay, base_delay * 2**(n-1)) seconds ("equal jitter")."""

    max_retries: int = 5
    base_delay: float = 0.5
    max_delay: float = 30.0

    def delay(self, retry: int, rng: random.Random, retry_after: float | None = None) -> float:
        ceiling = min(self.max_delay, self.base_delay * 2.0 ** (retry - 1))
        delay = ceiling / 2 + rng.uniform(0, ceiling / 2)
        if retry_after is not None:
            delay = max(delay, min(retry_after, self.max_delay))
        return delay


@dataclass(slots=True)
class Stats:
    """Counters over a gateway's run."""

    requests: int = 0  # HTTP requests made, retries included
    batches: int = 0  # batches the broker answered with 201, 204 or 207
    delivered: int = 0  # entity updates the broker accepted
    created: int = 0  # of which created the entity
    retries: int = 0
    rejected: int = 0  # entity updates refused with a 4xx (whole request or in a 207)
    gave_up: int = 0  # batches abandoned after max_retries (their entities are kept)
    undelivered: int = 0  # entities still pending when the gateway stopped


@dataclass(slots=True)
class Outcome:
    """What became of one batch: ids delivered, refused for good, or to send again."""

    delivered: list[str] = field(default_factory=list)
    created: list[str] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    retry_later: list[str] = field(default_factory=list)


class _Retryable(Exception):
    """A failure worth another try (5xx, connection error, timeout)."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


def _describe(status: int, reason: str | None, body: bytes) -> str:
    """'400 Bad Request: BadRequestData: detail' from a ProblemDetails body if there is one."""
    text = f"{status} {reason or ''}".strip()
    try:
        problem = orjson.loads(body) if body else None
    except orjson.JSONDecodeError:
        problem = None
    if isinstance(problem, dict):
        kind = str(problem.get("type", "")).rsplit("/", 1)[-1]
        detail = problem.get("detail") or problem.get("title") or ""
        return f"{text}: {kind}: {detail}" if kind else f"{text}: {detail}"
    snippet = body[:200].decode("utf-8", "replace").strip()
    return f"{text}: {snippet}" if snippet else text


def _retry_after(headers: Any) -> float | None:
    value = headers.get("Retry-After")
    try:
        return max(float(value), 0.0) if value is not None else None
    except ValueError:
        return None  # an HTTP date: rare from a broker, the backoff delay applies


class BatchSender:
    """Sends batches to one broker (and tenant) over one aiohttp session."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        url: str,
        *,
        tenant: str | None = None,
        policy: RetryPolicy | None = None,
        rng: random.Random | None = None,
        stop: asyncio.Event | None = None,
        stats: Stats | None = None,
    ) -> None:
        self.session = session
        self.endpoint = url.rstrip("/") + UPSERT_PATH
        self.headers = {
            "Content-Type": "application/ld+json",
            "Accept": "application/json",
            "User-Agent": "kaido-example-gateway/1.0",
        }
        if tenant:
            self.headers["NGSILD-Tenant"] = tenant
        self.policy = policy or RetryPolicy()
        self.rng = rng or random.Random()
        self.stop = stop or asyncio.Event()
        self.stats = stats or Stats()

    async def send(self, entities: Sequence[Entity]) -> Outcome:
        """Upsert entities (update mode) in one request, retrying as the policy says."""
        ids = [str(e["id"]) for e in entities]
        body = orjson.dumps(list(entities))
        retry = 0
        while True:
            try:
                return await self._attempt(ids, body)
            except _Retryable as failure:
                if retry >= self.policy.max_retries or self.stop.is_set():
                    self.stats.gave_up += 1
                    log.error(
                        "upsert of %d entities failed after %d attempts (%s); "
                        "keeping them for the next cycle",
                        len(ids),
                        retry + 1,
                        failure,
                    )
                    return Outcome(retry_later=ids)
                retry += 1
                self.stats.retries += 1
                delay = self.policy.delay(retry, self.rng, failure.retry_after)
                log.warning(
                    "upsert of %d entities: %s; retry %d/%d in %.2f s",
                    len(ids),
                    failure,
                    retry,
                    self.policy.max_retries,
                    delay,
                )
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.stop.wait(), delay)

    async def _attempt(self, ids: list[str], body: bytes) -> Outcome:
        self.stats.requests += 1
        started = time.perf_counter()
        try:
            async with self.session.post(
                self.endpoint, params={"options": "update"}, data=body, headers=self.headers
            ) as response:
                payload = await response.read()
                status, reason, headers = response.status, response.reason, response.headers
        except (aiohttp.ClientError, TimeoutError) as error:
            raise _Retryable(f"{type(error).__name__}: {error}".rstrip(": ")) from None
        elapsed = (time.perf_counter() - started) * 1000
        if status >= 500:
            raise _Retryable(_describe(status, reason, payload), _retry_after(headers))
        if status >= 400:
            self.stats.rejected += len(ids)
            log.error(
                "upsert of %d entities rejected, not retried: %s",
                len(ids),
                _describe(status, reason, payload),
            )
            return Outcome(rejected=ids)
        self.stats.batches += 1
        outcome = self._outcome(ids, status, payload)
        self.stats.delivered += len(outcome.delivered)
        self.stats.created += len(outcome.created)
        log.debug("upsert answered %d in %.1f ms", status, elapsed)
        return outcome

    def _outcome(self, ids: list[str], status: int, payload: bytes) -> Outcome:
        try:
            data = orjson.loads(payload) if payload else None
        except orjson.JSONDecodeError:
            data = None
        if status != 207:
            created = [str(i) for i in data] if status == 201 and isinstance(data, list) else []
            return Outcome(delivered=ids, created=created)
        # 207: a BatchOperationResult {"success": [...], "errors": [{entityId, error}]}
        result = data if isinstance(data, dict) else {}
        errors = result.get("errors") or []
        failed: dict[str, dict[str, Any]] = {}
        for item in errors:
            if isinstance(item, dict):
                problem = item.get("error")
                failed[str(item.get("entityId", ""))] = problem if isinstance(problem, dict) else {}
        outcome = Outcome()
        for entity_id in ids:
            problem = failed.get(entity_id)
            if problem is None:
                outcome.delivered.append(entity_id)
            elif int(problem.get("status") or 400) >= 500:
                outcome.retry_later.append(entity_id)
            else:
                outcome.rejected.append(entity_id)
        self.stats.rejected += len(outcome.rejected)
        for entity_id, problem in list(failed.items())[:5]:
            kind = str(problem.get("type", "")).rsplit("/", 1)[-1]
            log.error("entity %s refused: %s: %s", entity_id, kind, problem.get("detail", ""))
        if len(failed) > 5:
            log.error("... and %d more entities refused", len(failed) - 5)
        return outcome
