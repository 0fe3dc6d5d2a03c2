"""Budgets refuse instead of hanging, and keep to their rate."""

from __future__ import annotations

import asyncio
import time

import pytest

from adapters.errors import RateLimited
from adapters.ratelimit import Budget, Rate, WindowBudget
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
    assert 55 <= caught.value.retry_after <= 60
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
