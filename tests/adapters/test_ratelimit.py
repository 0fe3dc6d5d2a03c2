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


def test_parsed_rates_burst_by_two_percent_of_their_count_and_never_more_than_a_second():
    bursts = {spec: Rate.parse(spec).burst for spec in ("1200/min", "120/min", "100/s", "60/min", "10/s", "2000/day")}
    assert bursts == {"1200/min": 20, "120/min": 2, "100/s": 2, "60/min": 1, "10/s": 1, "2000/day": 1}


async def test_a_budget_lets_its_burst_through_and_still_keeps_every_period_to_its_count(clock):
    budget = Budget("tool", Rate(20, 60.0, burst=5), clock=clock)
    granted: list[float] = []
    for _ in range(60):
        await budget.spend()
        granted.append(clock.now)
    assert granted[:5] == [1000.0] * 5  # the burst waits for nothing
    most = max(sum(1 for g in granted if t - 60 < g <= t) for t in granted)
    assert most == 20  # the refill after the burst is slowed so that no minute holds more
    assert granted[-1] - granted[0] == pytest.approx(55 * 60 / 16)  # the other 55 at the slowed refill, 16 a minute


async def test_a_window_counted_until_answered_holds_a_slot_while_the_request_is_in_flight(clock):
    budget = WindowBudget("Customer.io App API", Rate(2, 1.0), clock=clock, until_answered=True)
    await budget.spend()
    await budget.spend()
    assert budget.expected_wait() == 1.0  # both in flight: at least a second after an answer
    clock.now += 0.5
    budget.done()  # answered at 1000.5: it counts until 1001.5
    await budget.spend()
    assert clock.sleeps == [1.0] and clock.now == 1001.5
    budget.done()
    budget.done()
    budget.done()  # more answers than requests change nothing
    assert budget.expected_wait() == pytest.approx(1.0)  # the two answered at 1001.5 hold the window


async def test_a_window_not_counted_until_answered_ignores_answers(clock):
    budget = WindowBudget("webflow", Rate(1, 60.0), clock=clock)
    await budget.spend()
    clock.now += 30
    budget.done()
    assert budget.expected_wait() == 30.0  # counted from the spend alone
