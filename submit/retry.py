"""When a request may be sent again, and how long to wait first.

Retried: 429, 5xx and network failures, with exponential backoff and full jitter, honouring
``Retry-After`` when the reply carries one (API ref section 6c: undocumented, but EvoLink's own
client honours it). Never retried: any other 4xx, which says the request itself is wrong.

A POST is only ever sent again with the same ``Idempotency-Key``: the service (and the local
fake) returns the task it already created for that key instead of creating and billing another.
"""

from __future__ import annotations

import email.utils
import random
import time
from dataclasses import dataclass
from typing import Callable

import httpx

# Failures where the request certainly did not reach the service: always safe to send again.
NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
# Failures where it may have arrived and been acted on: safe only with an idempotency key.
_MAYBE_SENT = (httpx.ReadTimeout, httpx.WriteTimeout, httpx.ReadError, httpx.WriteError,
               httpx.RemoteProtocolError)


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 5  # sends in all, the first included
    base_delay: float = 1.0  # seconds; doubles each retry
    max_delay: float = 60.0
    # A Retry-After above this is not waited for: the error is reported instead.
    max_retry_after: float = 300.0

    def delay(self, attempt: int, retry_after: float | None, rng: random.Random) -> float:
        """Seconds to wait before send number ``attempt + 1`` (``attempt`` counts from 1)."""
        if retry_after is not None:
            # A small jitter on top keeps many clients told the same time from arriving together.
            return retry_after + rng.uniform(0, min(1.0, self.base_delay))
        ceiling = min(self.max_delay, self.base_delay * 2 ** (attempt - 1))
        return rng.uniform(0, ceiling)  # "full jitter"


def retry_after_seconds(response: httpx.Response) -> float | None:
    """``Retry-After`` in seconds, whether given as a number or as an HTTP date."""
    value = response.headers.get("retry-after")
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def is_retryable_status(status: int) -> bool:
    return status == 429 or status >= 500


def send_with_retries(
    send: Callable[[], httpx.Response],
    policy: RetryPolicy,
    *,
    idempotent: bool,
    sleep: Callable[[float], None] = time.sleep,
    rng: random.Random | None = None,
    on_retry: Callable[[int, str, float], None] | None = None,
    retryable: Callable[[object], bool] | None = None,
) -> httpx.Response:
    """Call ``send`` until it gives a final answer. Returns the last response (which may be an
    error status the caller turns into an exception); raises the last network error.

    ``idempotent`` says whether sending again is safe after a request may have arrived (GET, or
    a POST carrying an Idempotency-Key). ``on_retry(attempt, why, delay)`` is told of each retry.
    ``retryable(response)`` decides which answers are sent again (a host's own rules; default:
    429 and 5xx).
    """
    rng = rng or random.Random()
    attempt = 0
    while True:
        attempt += 1
        try:
            response = send()
        except NOT_SENT as exc:
            error, why, retry_after = exc, f"connection failed ({type(exc).__name__})", None
        except _MAYBE_SENT as exc:
            if not idempotent:
                raise
            error, why, retry_after = exc, f"no answer ({type(exc).__name__})", None
        else:
            if not (retryable(response) if retryable else is_retryable_status(response.status_code)):
                return response
            error, why = None, f"HTTP {response.status_code}"
            retry_after = retry_after_seconds(response)
            if retry_after is not None and retry_after > policy.max_retry_after:
                return response
        if attempt >= policy.attempts:
            if error is not None:
                raise error
            return response
        delay = policy.delay(attempt, retry_after, rng)
        if on_retry:
            on_retry(attempt, why, delay)
        sleep(delay)
