"""The App API's newsletter metrics: series of counts per period (EST-aligned), for a newsletter, one
of its contents, or each of its links."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Callable

from ...email_world import Campaign, Stats
from .common import EST, PERIOD_STEPS, Ctx, Result, int_query, meta_error
from .newsletters import find_newsletter, find_variant


def _period_starts(ctx: Ctx) -> tuple[list[datetime], datetime]:
    """The start of each requested period, oldest first (EST-aligned), and now."""
    period = ctx.query.get("period") or "days"
    if period not in PERIOD_STEPS:
        raise meta_error(400, "period must be one of hours, days, weeks, months.")
    maximum = PERIOD_STEPS[period]
    steps = int_query(ctx, "steps", 0, 0, 10**6)
    n = (12 if period == "months" else maximum) if steps == 0 else min(max(steps, 2), maximum)
    now = ctx.world.now()
    local = now.astimezone(EST)
    if period == "hours":
        first = local.replace(minute=0, second=0, microsecond=0)
    elif period == "months":
        first = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    else:
        first = local.replace(hour=0, minute=0, second=0, microsecond=0)
        if period == "weeks":
            first -= timedelta(days=(first.weekday() + 1) % 7)  # weeks start on Sunday
    starts = [first]
    for _ in range(n - 1):
        prev = starts[-1]
        if period == "months":
            starts.append(prev.replace(year=prev.year - (prev.month == 1), month=prev.month - 1 or 12))
        else:
            starts.append(
                prev - {"hours": timedelta(hours=1), "days": timedelta(days=1), "weeks": timedelta(weeks=1)}[period]
            )
    return [s.astimezone(timezone.utc) for s in reversed(starts)], now


def _series(ctx: Ctx, c: Campaign, measure: Callable[[datetime], dict[str, int]]) -> dict[str, list[int]]:
    """Per-period counts: the cumulative measure at each period's end minus at its start."""
    starts, now = _period_starts(ctx)
    zero: dict[str, int] | None = None
    cumulative = []
    for t in starts + [now]:
        if c.sent_at is None or t < c.sent_at:
            zero = zero or {k: 0 for k in measure(now)}
            cumulative.append(zero)
        else:
            cumulative.append(measure(t))
    keys = cumulative[-1].keys()
    return {k: [cumulative[i + 1][k] - cumulative[i][k] for i in range(len(starts))] for k in keys}


def _email_metrics(s: Stats) -> dict[str, int]:
    counts = {
        "attempted": s.emails_sent,
        "created": s.emails_sent,
        "sent": s.emails_sent,
        "delivered": s.delivered,
        "bounced": s.hard_bounces + s.soft_bounces,
        "opened": s.unique_opens,
        "human_opened": s.unique_opens - s.proxied_unique_opens,
        "prefetch_opened": s.proxied_unique_opens,
        "clicked": s.unique_clicks,
        "human_clicked": s.unique_clicks,
        "prefetch_clicked": 0,
        "unsubscribed": s.unsubscribes,
    }
    return counts | dict.fromkeys(
        ("converted", "deferred", "drafted", "failed", "spammed", "suppressed", "undeliverable", "topic_unsubscribed"),
        0,
    )


def _metric_type(ctx: Ctx) -> None:
    kind = ctx.query.get("type")
    if kind not in (None, "", "email", "webhook", "twilio", "push", "in_app", "inbox"):
        raise meta_error(400, "type must be one of email, webhook, twilio, push, in_app, inbox.")


def newsletter_metrics(ctx: Ctx, newsletter_id: str) -> Result:
    c = find_newsletter(ctx, newsletter_id)
    _metric_type(ctx)
    series = _series(ctx, c, lambda t: _email_metrics(ctx.account.stats(c.id, t)))
    return Result({"metric": {"type": "email", "series": series}})


def variant_metrics(ctx: Ctx, newsletter_id: str, content_id: str) -> Result:
    c, index = find_variant(ctx, newsletter_id, content_id)
    _metric_type(ctx)

    def measure(t: datetime) -> dict[str, int]:
        v = ctx.account.stats(c.id, t).variants[index]
        mine = [d for d in c.deliveries if d.variant == index and d.at <= t]
        bounced = sum(1 for d in mine if d.bounce)
        return {
            "attempted": v.sent,
            "sent": v.sent,
            "delivered": v.sent - bounced,
            "bounced": bounced,
            "opened": v.unique_opens,
            "human_opened": v.unique_opens - v.proxied_unique_opens,
            "prefetch_opened": v.proxied_unique_opens,
            "clicked": v.unique_clicks,
            "human_clicked": v.unique_clicks,
            "prefetch_clicked": 0,
        }

    return Result({"metric": {"type": "email", "series": _series(ctx, c, measure)}})


def newsletter_links(ctx: Ctx, newsletter_id: str) -> Result:
    c = find_newsletter(ctx, newsletter_id)
    unique = (ctx.query.get("unique") or "false").lower() == "true"
    urls = c.links()

    def measure(t: datetime) -> dict[str, int]:
        links = ctx.account.stats(c.id, t).links
        return {url: links.get(url, (0, 0))[1 if unique else 0] for url in urls}

    series = _series(ctx, c, measure) if urls else {}
    return Result(
        {
            "links": [
                {
                    "link": {"id": i + 1, "href": url},
                    "metric": {
                        "series": {
                            "clicked": series[url],
                            "human_clicked": series[url],
                            "machine_clicked": [0] * len(series[url]),
                        }
                    },
                }
                for i, url in enumerate(urls)
            ]
        }
    )
