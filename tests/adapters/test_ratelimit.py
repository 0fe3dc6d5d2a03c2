"""Budgets refuse instead of hanging, and keep to their rate."""

from __future__ import annotations

import asyncio
import time

import pytest

from adapters.errors import RateLimited
from adapters.ratelimit import Budget, Rate, TokenBucket, WindowBudget
from adapters.timing import deadline_after


def test_rates_parse_from_mcp_json_strings():
    assert Rate.parse("60/min").per_second == 1
    assert Rate.parse("100/s").per_second == 100
    assert str(Rate.parse("2000/day")) == "2000/day"
    for bad in ("fast", "0/min", "10/fortnight", "-1/s"):
        with pytest.raises(ValueError):
            Rate.parse(bad)


async def test_a_spent_budget_refuses_at_once_when_the_wait_would_pass_the_deadline():
    budget = Budget("publish", Rate(1, 60.0))
    await budget.spend()
    started = time.monotonic()
    with deadline_after(5), pytest.raises(RateLimited) as caught:
        await budget.spend()
    assert time.monotonic() - started < 0.5
    assert caught.value.retry_after is not None and 55 <= caught.value.retry_after <= 60
    assert "publish" in str(caught.value)


async def test_a_budget_waits_when_the_wait_fits_the_deadline():
    budget = Budget("fast", Rate(50, 1.0))  # one slot every 20 ms
    with deadline_after(5):
        await asyncio.gather(*(budget.spend() for _ in range(6)))
    assert budget.expected_wait() > 0  # the bucket is full right after the burst


async def test_a_window_budget_lets_a_burst_through_then_waits_for_the_oldest_to_expire(clock):
    budget = WindowBudget("webflow", Rate(3, 60.0), clock=clock)
    for _ in range(3):
        await budget.spend()
    assert clock.sleeps == []
    clock.now += 20
    await budget.spend()
    assert clock.sleeps == [40.0]


async def test_a_window_budget_refuses_past_the_deadline(clock):
    budget = WindowBudget("webflow", Rate(1, 60.0), clock=clock)
    await budget.spend()
    with deadline_after(10, clock), pytest.raises(RateLimited) as caught:
        await budget.spend()
    assert caught.value.retry_after == 60


async def test_a_token_bucket_serves_waiters_in_the_order_they_came(clock):
    bucket = TokenBucket(2, 10.0, clock)  # 2 at once, then one every 100 ms
    served: list[int] = []

    async def take(i: int) -> None:
        await bucket.acquire()
        served.append(i)

    await take(0)
    await take(1)
    assert bucket.expected_wait() == pytest.approx(0.1)
    await asyncio.gather(*(take(i) for i in range(2, 7)))
    assert served == list(range(7))
    assert clock.now == pytest.approx(1000.5)  # five more tokens at 10/s, no earlier


async def test_the_expected_wait_counts_the_callers_already_queued():
    bucket = TokenBucket(1, 10.0)
    await bucket.acquire()
    waiters = [asyncio.create_task(bucket.acquire()) for _ in range(3)]
    await asyncio.sleep(0)
    assert bucket.waiting == 3
    assert 0.35 < bucket.expected_wait() <= 0.4  # three ahead, then this one
    waiters[0].cancel()  # a caller that gives up leaves the queue and does not hold up the others
    await asyncio.gather(*waiters, return_exceptions=True)
    assert bucket.waiting == 0 and all(w.done() for w in waiters)


async def test_a_budget_refuses_with_the_wait_of_the_whole_queue(clock):
    budget = Budget("publish", Rate(1, 10.0), clock=clock)  # one every 10 s
    await budget.spend()
    with deadline_after(15, clock):
        await budget.spend()  # waited its 10 s
        with pytest.raises(RateLimited) as caught:
            await budget.spend()  # another 10 s would end past the deadline (5 s left)
    assert caught.value.retry_after == 10
