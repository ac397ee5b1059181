"""CloudWatch PutMetricData: batching to the API's limits, bounded retries, and a bounded buffer.

Pure parts (`to_metric_data`, `plan`) decide what each call carries: at most 1,000 datums and 1 MB per
call, so a run costs ceil(datums / 1,000) calls in the common case. The I/O part (`CloudWatchPublisher`)
sends the batches with its own retry loop (exponential backoff with full jitter on throttling, 5xx,
timeouts and refused connections; botocore's retries are off for this client so the whole publish stays
bounded in time), and keeps what it could not send in a bounded in-memory buffer for the next publish
(the EC2 agent). What overflows the buffer is dropped, counted, logged, and reported as `MetricsDropped`.

boto3 is imported only when the first call is made.
"""

from __future__ import annotations

import random
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from vpc_verify.logs import get_logger
from vpc_verify.publish.config import DEFAULT_BUFFER_CAP, DEFAULT_NAMESPACE
from vpc_verify.publish.metrics import Datum, dropped_datum

MAX_DATUMS_PER_CALL = 1000
MAX_BYTES_PER_CALL = 1_000_000
_CALL_OVERHEAD_BYTES = 4096  # headers, Action/Version/Namespace and signing, with room to spare
CONNECT_TIMEOUT_S = 2.0
READ_TIMEOUT_S = 5.0

_THROTTLING = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottled",
        "RequestLimitExceeded",
        "TooManyRequestsException",
        "SlowDown",
        "RequestThrottledException",
        "LimitExceededException",
    }
)
_REJECTED = frozenset(
    {
        "InvalidParameterValue",
        "InvalidParameterCombination",
        "MissingParameter",
        "InvalidParameterValueException",
        "MissingRequiredParameter",
    }
)
_CONNECTION_ERRORS = frozenset(
    {
        "EndpointConnectionError",
        "ConnectTimeoutError",
        "ReadTimeoutError",
        "ConnectionClosedError",
        "ProxyConnectionError",
        "ConnectionError",
        "HTTPClientError",
        "ResponseStreamingError",
        "IncompleteReadError",
        "TimeoutError",
        "ConnectionRefusedError",
        "ConnectionResetError",
    }
)


@dataclass(frozen=True, slots=True)
class Failure:
    """How one PutMetricData attempt failed."""

    kind: str  # throttled | server | connection | rejected | other
    detail: str

    @property
    def retryable(self) -> bool:
        """Worth another attempt after a backoff."""
        return self.kind in ("throttled", "server", "connection")


def classify(exc: BaseException) -> Failure:
    """Sort an exception from a PutMetricData call into a Failure (by name: botocore is imported lazily)."""
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        code = str((response.get("Error") or {}).get("Code") or "")
        status = int((response.get("ResponseMetadata") or {}).get("HTTPStatusCode") or 0)
        detail = f"{code or 'HTTP ' + str(status)}: {(response.get('Error') or {}).get('Message') or exc}"
        if code in _THROTTLING or status == 429:
            return Failure("throttled", detail)
        if status >= 500 or code in ("InternalFailure", "InternalServiceError", "ServiceUnavailable", "InternalError"):
            return Failure("server", detail)
        if code in _REJECTED:
            return Failure("rejected", detail)
        return Failure("other", detail)
    names = {cls.__name__ for cls in type(exc).__mro__}
    if names & _CONNECTION_ERRORS:
        return Failure("connection", f"{type(exc).__name__}: {exc}")
    if "ParamValidationError" in names:
        return Failure("rejected", f"{type(exc).__name__}: {exc}")
    return Failure("other", f"{type(exc).__name__}: {exc}")


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Attempts per call, and exponential backoff with full jitter between them."""

    attempts: int = 4
    base_s: float = 0.25
    cap_s: float = 4.0

    def delay(self, attempt: int, rng: random.Random) -> float:
        """Seconds to wait after failed attempt number `attempt` (0-based)."""
        return rng.uniform(0.0, min(self.cap_s, self.base_s * (2**attempt)))


@dataclass(frozen=True, slots=True)
class PublishResult:
    """What one publish did. `failed` datums were not sent now; of them `buffered` wait for the next
    publish and `dropped` are gone (buffer full, or rejected by the API)."""

    sent: int = 0
    calls: int = 0
    attempts: int = 0
    failed: int = 0
    dropped: int = 0
    buffered: int = 0
    error: str | None = None
    unsent: tuple[Datum, ...] = ()

    @property
    def ok(self) -> bool:
        """Everything handed to this publish (and the backlog) was sent."""
        return self.failed == 0

    def to_dict(self) -> dict[str, Any]:
        """JSON form, for logs and the Lambda's result."""
        return {
            "sent": self.sent,
            "calls": self.calls,
            "attempts": self.attempts,
            "failed": self.failed,
            "dropped": self.dropped,
            "buffered": self.buffered,
            "error": self.error,
        }


# ------------------------------------------------------------------------------------------ pure: batching


def to_metric_data(d: Datum) -> dict[str, Any]:
    """One MetricData entry of PutMetricData."""
    return {
        "MetricName": d.name,
        "Dimensions": [{"Name": k, "Value": v} for k, v in d.dimensions],
        "Timestamp": d.timestamp,
        "Value": d.value,
        "Unit": d.unit,
    }


def entry_bytes(d: Datum) -> int:
    """A pessimistic size of one datum on the wire (query protocol, the most verbose one, 4-digit index)."""
    prefix = len("MetricData.member.1000.") + 2  # '=' and '&'
    fields = [
        ("MetricName", d.name),
        ("Value", repr(d.value)),
        ("Unit", d.unit),
        ("Timestamp", "2000-01-01T00:00:00.000000Z"),
    ]
    for i, (k, v) in enumerate(d.dimensions, start=1):
        fields.append((f"Dimensions.member.{i}.Name", k))
        fields.append((f"Dimensions.member.{i}.Value", v))
    from urllib.parse import quote  # imported when publishing, not on the way to the first probe

    return sum(prefix + len(k) + len(quote(v, safe="")) for k, v in fields)


def plan(
    datums: Sequence[Datum], *, max_datums: int = MAX_DATUMS_PER_CALL, max_bytes: int = MAX_BYTES_PER_CALL
) -> list[list[Datum]]:
    """Split `datums` into PutMetricData calls within the count and size limits, keeping their order."""
    budget = max_bytes - _CALL_OVERHEAD_BYTES
    calls: list[list[Datum]] = []
    current: list[Datum] = []
    size = 0
    for d in datums:
        n = entry_bytes(d)
        if current and (len(current) >= max_datums or size + n > budget):
            calls.append(current)
            current, size = [], 0
        current.append(d)
        size += n
    if current:
        calls.append(current)
    return calls


# ------------------------------------------------------------------------------------------ I/O: sending


class Buffer:
    """A bounded FIFO of datums waiting to be published; the oldest go first when it overflows."""

    def __init__(self, cap: int) -> None:
        self.cap = max(0, cap)
        self._items: deque[Datum] = deque()

    def __len__(self) -> int:
        return len(self._items)

    def add(self, datums: Iterable[Datum]) -> int:
        """Keep `datums`; return how many (oldest first) had to be dropped to stay within the cap."""
        self._items.extend(datums)
        dropped = 0
        while len(self._items) > self.cap:
            self._items.popleft()
            dropped += 1
        return dropped

    def drain(self) -> list[Datum]:
        """Take everything out."""
        items = list(self._items)
        self._items.clear()
        return items


def make_client(
    region: str | None = None,
    *,
    connect_timeout_s: float = CONNECT_TIMEOUT_S,
    read_timeout_s: float = READ_TIMEOUT_S,
    endpoint_url: str | None = None,
) -> Any:
    """A CloudWatch client with botocore's retries off (our loop retries) and short timeouts."""
    import boto3
    from botocore.config import Config

    config = Config(
        retries={"mode": "standard", "total_max_attempts": 1},
        connect_timeout=connect_timeout_s,
        read_timeout=read_timeout_s,
        user_agent_extra="vpc-verify",
    )
    return boto3.session.Session().client("cloudwatch", region_name=region, config=config, endpoint_url=endpoint_url)


class CloudWatchPublisher:
    """Sends datums with PutMetricData, retrying within bounds and buffering what it could not send.

    `buffer_cap` 0 (the Lambda) keeps nothing: the caller gets `unsent` back for its fallback (EMF).
    A publish never raises: every outcome is in the returned PublishResult.
    """

    def __init__(
        self,
        namespace: str = DEFAULT_NAMESPACE,
        *,
        region: str | None = None,
        client: Any = None,
        retry: RetryPolicy | None = None,
        buffer_cap: int = DEFAULT_BUFFER_CAP,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
    ) -> None:
        self.namespace = namespace
        self.region = region
        self._client = client
        self.retry = retry or RetryPolicy()
        self.buffer = Buffer(buffer_cap)
        self._sleep = sleep
        self._clock = clock
        self._rng = rng or random.Random()
        self.dropped_total = 0
        self._dropped_unreported = 0
        self._log = get_logger(publisher="cloudwatch")

    @property
    def client(self) -> Any:
        """The CloudWatch client, made on first use."""
        if self._client is None:
            self._client = make_client(self.region)
        return self._client

    def publish(
        self, datums: Sequence[Datum], *, budget_s: float | None = None, vpc_id: str | None = None
    ) -> PublishResult:
        """Send `datums` then the backlog; keep what fails (up to the cap); never raise.

        `budget_s` bounds the whole publish including backoff (the Lambda's remaining time).
        """
        deadline = None if budget_s is None else self._clock() + max(0.0, budget_s)
        fresh = list(datums)
        reported_drop = self._dropped_unreported
        if reported_drop:
            fresh.append(dropped_datum(reported_drop, vpc_id, fresh[0].timestamp if fresh else None))
        backlog = self.buffer.drain()
        pending = fresh + backlog  # fresh first: an alarm needs the newest data most
        sent = calls = attempts = 0
        rejected: list[Datum] = []
        unsent: list[Datum] = []
        error: str | None = None
        batches = plan(pending)
        for i, batch in enumerate(batches):
            outcome, n_attempts = self._send(batch, deadline)
            attempts += n_attempts
            if outcome is None:
                sent += len(batch)
                calls += 1
                continue
            error = outcome.detail
            if outcome.kind == "rejected":
                rejected.extend(batch)
                continue
            # The service is unreachable or refusing: keep the rest for later rather than hammer it.
            for rest in batches[i:]:
                unsent.extend(rest)
            break
        if reported_drop and not any(d.name == "MetricsDropped" for d in unsent + rejected):
            self._dropped_unreported -= reported_drop
        else:
            unsent = [d for d in unsent if d.name != "MetricsDropped"]  # re-counted, not re-sent
            rejected = [d for d in rejected if d.name != "MetricsDropped"]
        overflow = self.buffer.add(unsent)
        dropped = overflow + len(rejected)
        if dropped:
            self.dropped_total += dropped
            self._dropped_unreported += dropped
            self._log.warning(
                "metrics_dropped",
                dropped=dropped,
                dropped_total=self.dropped_total,
                buffer_cap=self.buffer.cap,
                reason=error,
            )
        result = PublishResult(
            sent=sent,
            calls=calls,
            attempts=attempts,
            failed=len(unsent) + len(rejected),
            dropped=dropped,
            buffered=len(self.buffer),
            error=error,
            unsent=tuple(unsent + rejected),
        )
        if result.ok:
            self._log.info("metrics_published", namespace=self.namespace, **result.to_dict())
        else:
            self._log.warning("metrics_publish_failed", namespace=self.namespace, **result.to_dict())
        return result

    def _send(self, batch: Sequence[Datum], deadline: float | None) -> tuple[Failure | None, int]:
        """One call with retries: None on success, else the last Failure; and the attempts made."""
        data = [to_metric_data(d) for d in batch]
        failure: Failure | None = None
        for attempt in range(max(1, self.retry.attempts)):
            try:
                self.client.put_metric_data(Namespace=self.namespace, MetricData=data)
                return None, attempt + 1
            except Exception as exc:
                failure = classify(exc)
            if not failure.retryable or attempt + 1 >= self.retry.attempts:
                return failure, attempt + 1
            pause = self.retry.delay(attempt, self._rng)
            if deadline is not None and self._clock() + pause >= deadline:
                return failure, attempt + 1
            self._log.debug("metrics_retry", attempt=attempt + 1, pause_s=round(pause, 3), reason=failure.detail)
            self._sleep(pause)
        assert failure is not None
        return failure, self.retry.attempts
