"""The one retry policy and status map every vendor adapter uses (adapters/retry.py)."""

from __future__ import annotations

import random

from adapters.errors import (
    AuthError,
    Conflict,
    InvalidRequest,
    NotFound,
    RateLimited,
    UpstreamUnavailable,
)
from adapters.retry import RetryPolicy, error_class, may_send_again, retry_after_seconds
from adapters.timing import Deadline


def test_backoff_grows_with_jitter_and_never_below_half(clock):
    policy = RetryPolicy(max_attempts=6, backoff_base=0.5, rng=random.Random(1))
    for attempt in range(1, 6):
        cap = 0.5 * 2 ** (attempt - 1)
        assert cap / 2 <= policy.backoff(attempt) <= cap


def test_a_wait_is_granted_only_within_the_attempts_and_the_deadline(clock):
    policy = RetryPolicy(max_attempts=3, backoff_base=0.5)
    deadline = Deadline(clock.now + 10, clock)
    assert policy.wait(1, deadline, retry_after=7) == 7  # as told, never sooner
    assert policy.wait(1, deadline, retry_after=10) is None  # would outlast the call: fail at once
    assert policy.wait(3, deadline) is None  # out of attempts
    wait = policy.wait(2, deadline)
    assert wait is not None and 0 < wait <= 1


def test_only_a_write_that_may_have_been_applied_is_held_back():
    assert may_send_again(refused=True, write=True, idempotent=False)
    assert may_send_again(never_sent=True, write=True, idempotent=False)
    assert may_send_again(write=False, idempotent=True, sent_before=True)
    assert not may_send_again(write=True, idempotent=False)
    assert may_send_again(write=True, idempotent=True)
    assert not may_send_again(write=True, idempotent=True, sent_before=True)  # once more at most


def test_one_status_map():
    assert [error_class(s) for s in (401, 404, 409, 429, 503, 418)] == [
        AuthError,
        NotFound,
        Conflict,
        RateLimited,
        UpstreamUnavailable,
        InvalidRequest,
    ]
    assert retry_after_seconds({"retry-after": "12"}) == 12 and retry_after_seconds(None) is None
    assert retry_after_seconds({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}, now=1445412470) == 10
