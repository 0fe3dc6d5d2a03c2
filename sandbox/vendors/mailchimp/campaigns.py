"""Mailchimp campaigns on the wire: create and edit (A/B variates included), content, the send checklist,
the actions (test, schedule, unschedule, send, cancel-send) and reports."""

from __future__ import annotations

import hashlib
import re
from datetime import datetime, timezone
from typing import Any

from ...email_world import (
    ABSpec,
    Campaign,
    CampaignStateError,
    EmailAccount,
    EmailRejected,
    Stats,
    check_address,
)
from .common import (
    NOT_READY,
    SUBJECT_MAX,
    VARIANT_LETTERS,
    WINNER_CRITERIA,
    WIRE_STATUS,
    Ctx,
    Result,
    _campaign,
    _object,
    _page,
    _rejected,
    _state,
    _time,
    _web_id,
)
from .errors import MailchimpError, invalid, not_found

# -- campaigns -----------------------------------------------------------------


def _combination_id(c: Campaign, index: int) -> str:
    return hashlib.md5(f"{c.id}:{index}".encode()).hexdigest()[:10]


def _variate_json(account: EmailAccount, c: Campaign, stats: Stats | None) -> dict[str, Any]:
    ab = c.ab
    assert ab is not None
    planned = len(account.recipients(c)) * ab.test_size // 100 // len(ab.subjects)
    return {
        "winning_combination_id": _combination_id(c, ab.winner) if ab.winner is not None else "",
        "winning_campaign_id": "",
        "winner_criteria": ab.criteria,
        "wait_time": round(ab.wait_hours * 60),
        "test_size": ab.test_size,
        "subject_lines": list(ab.subjects),
        "send_times": [],
        "from_names": [],
        "reply_to_addresses": [],
        "contents": [],
        "combinations": [
            {
                "id": _combination_id(c, i),
                "subject_line": i,
                "send_time": 0,
                "from_name": 0,
                "reply_to": 0,
                "content_description": 0,
                "recipients": stats.variants[i].sent if stats else planned,
            }
            for i in range(len(ab.subjects))
        ],
    }


def _campaign_json(ctx: Ctx, c: Campaign) -> dict[str, Any]:
    aud = ctx.account.audience(c.audience_id)
    stats = ctx.account.stats(c.id) if c.sent_at is not None else None
    seg = aud.segments.get(c.segment_id) if c.segment_id else None
    recipients: dict[str, Any] = {
        "list_id": aud.id,
        "list_is_active": True,
        "list_name": aud.name,
        "segment_text": f"Segment: {seg.name}" if seg else "",
        "recipient_count": stats.emails_sent if stats else len(ctx.account.recipients(c)),
    }
    if seg is not None:
        recipients["segment_opts"] = {"saved_segment_id": int(seg.id), "match": "all"}
    out: dict[str, Any] = {
        "id": c.id,
        "web_id": _web_id(c.id),
        "parent_campaign_id": "",
        "type": "variate" if c.ab else "regular",
        "create_time": _time(c.created),
        "archive_url": f"http://eepurl.com/{c.id[:6]}",
        "long_archive_url": f"https://us21.campaign-archive.com/?u=0&id={c.id}",
        "status": WIRE_STATUS[c.status],
        "emails_sent": stats.emails_sent if stats else 0,
        "send_time": _time(c.sent_at if c.status in ("sending", "sent", "canceled") else c.scheduled_for),
        "content_type": "html",
        "needs_block_refresh": False,
        "resendable": False,
        "recipients": recipients,
        "settings": {
            "subject_line": "" if c.ab else (c.subject or ""),
            "preview_text": c.preview_text or "",
            "title": c.name,
            "from_name": c.from_name or "",
            "reply_to": c.reply_to or "",
            "use_conversation": False,
            "to_name": "",
            "folder_id": "",
            "authenticate": True,
            "auto_footer": False,
            "inline_css": False,
            "auto_tweet": False,
            "fb_comments": True,
            "timewarp": False,
            "template_id": 0,
            "drag_and_drop": False,
        },
        "tracking": {
            "opens": True,
            "html_clicks": True,
            "text_clicks": False,
            "goal_tracking": False,
            "ecomm360": False,
            "google_analytics": "",
            "clicktale": "",
        },
        "delivery_status": {"enabled": False},
        "_links": [],
    }
    if c.ab is not None:
        out["variate_settings"] = _variate_json(ctx.account, c, stats)
    if stats is not None:
        out["report_summary"] = {
            "opens": stats.opens_total,
            "unique_opens": stats.unique_opens,
            "open_rate": _rate(stats.unique_opens, stats.delivered),
            "clicks": stats.clicks_total,
            "subscriber_clicks": stats.unique_clicks,
            "click_rate": _rate(stats.unique_clicks, stats.delivered),
            "ecommerce": {"total_orders": 0, "total_spent": 0, "total_revenue": 0},
        }
    return out


def _rate(part: int, whole: int) -> float:
    return part / whole if whole else 0


def _campaign_fields(ctx: Ctx, body: dict[str, Any], current: Campaign | None) -> dict[str, Any]:
    """The world's campaign fields from a create or update body; validation errors name Mailchimp's fields."""
    errors: list[tuple[str, str]] = []
    fields: dict[str, Any] = {}
    recipients, settings = body.get("recipients"), body.get("settings")
    for name, value in (
        ("recipients", recipients),
        ("settings", settings),
        ("variate_settings", body.get("variate_settings")),
    ):
        if value is not None and not isinstance(value, dict):
            errors.append((name, "Schema describes object"))
    if errors:
        raise invalid(errors)
    recipients, settings = recipients or {}, settings or {}
    if "list_id" in recipients:
        if recipients["list_id"] not in ctx.account.audiences:
            errors.append(("recipients.list_id", "The list_id does not match any list of this account."))
        fields["audience_id"] = recipients["list_id"]
    elif current is None:
        errors.append(("recipients.list_id", "Choose the list (audience) the campaign goes to."))
    opts = recipients.get("segment_opts")
    if isinstance(opts, dict) and "saved_segment_id" in opts:
        segment_id = opts["saved_segment_id"]
        audience_id = fields.get("audience_id") or (current.audience_id if current else None)
        aud = ctx.account.audiences.get(audience_id or "")
        if segment_id in (None, 0, ""):
            fields["segment_id"] = None
        elif aud is None or str(segment_id) not in aud.segments:
            errors.append(("recipients.segment_opts.saved_segment_id", "The segment does not exist in this list."))
        else:
            fields["segment_id"] = str(segment_id)
    for wire, ours, limit in (
        ("subject_line", "subject", SUBJECT_MAX),
        ("preview_text", "preview_text", 150),
        ("title", "name", 190),
        ("from_name", "from_name", 100),
        ("reply_to", "reply_to", 254),
    ):
        if wire in settings:
            value = settings[wire]
            if value is not None and (not isinstance(value, str) or len(value) > limit):
                errors.append((f"settings.{wire}", f"Expected a string of at most {limit} characters."))
            elif value or ours != "name":  # a campaign keeps a title
                fields[ours] = value or None
    if fields.get("reply_to"):
        try:
            fields["reply_to"] = check_address(fields["reply_to"])
        except EmailRejected:
            errors.append(("settings.reply_to", "This value should be a valid email address."))
    kind = body.get("type", current and ("variate" if current.ab else "regular"))
    if current is None and kind not in ("regular", "variate"):
        errors.append(("type", "Data presented is not one of the accepted values: regular, variate."))
    if kind == "variate" and (current is None or "variate_settings" in body):
        fields["ab"] = _ab_spec(body.get("variate_settings") or {}, errors)
    if errors:
        raise invalid(errors)
    return fields


def _ab_spec(vs: dict[str, Any], errors: list[tuple[str, str]]) -> ABSpec | None:
    subjects, criteria = vs.get("subject_lines"), vs.get("winner_criteria")
    wait, size = vs.get("wait_time", 60), vs.get("test_size", 50)
    if criteria not in WINNER_CRITERIA:
        errors.append(
            (
                "variate_settings.winner_criteria",
                "Data presented is not one of the accepted values: " + ", ".join(WINNER_CRITERIA) + ".",
            )
        )
    if (
        not isinstance(subjects, list)
        or not 2 <= len(subjects) <= len(VARIANT_LETTERS)
        or not all(isinstance(s, str) and 0 < len(s) <= SUBJECT_MAX for s in subjects)
    ):
        errors.append(("variate_settings.subject_lines", f"Give 2 to {len(VARIANT_LETTERS)} subject lines."))
    if not isinstance(wait, int) or wait <= 0 or wait % 60:
        errors.append(
            (
                "variate_settings.wait_time",
                "The wait time must be greater than 0 and in whole hours, specified in minutes.",
            )
        )
    if not isinstance(size, int) or not 10 <= size <= 100:
        errors.append(("variate_settings.test_size", "The test size must be between 10 and 100 percent."))
    if errors:
        return None
    assert isinstance(subjects, list) and isinstance(criteria, str)  # otherwise they are among the errors
    return ABSpec(list(subjects), size, criteria, wait / 60)


def list_campaigns(ctx: Ctx) -> Result:
    campaigns = list(ctx.account.campaigns.values())
    status, kind, list_id = ctx.query.get("status"), ctx.query.get("type"), ctx.query.get("list_id")
    campaigns = [
        c
        for c in campaigns
        if (status is None or WIRE_STATUS[c.status] == status)
        and (kind is None or kind == ("variate" if c.ab else "regular"))
        and (list_id is None or c.audience_id == list_id)
    ]
    sort = ctx.query.get("sort_field")
    if sort in ("create_time", "send_time"):
        far = datetime.min.replace(tzinfo=timezone.utc)
        campaigns.sort(
            key=lambda c: c.created if sort == "create_time" else c.sent_at or far,
            reverse=ctx.query.get("sort_dir", "").upper() == "DESC",
        )
    window, total = _page(ctx, campaigns)
    return Result({"campaigns": [_campaign_json(ctx, c) for c in window], "total_items": total, "_links": []})


def create_campaign(ctx: Ctx) -> Result:
    fields = _campaign_fields(ctx, _object(ctx), None)
    audience_id = fields.pop("audience_id")
    c = ctx.account.create_campaign(audience_id, name=fields.pop("name", None) or "Untitled", **fields)
    return Result(_campaign_json(ctx, c))


def get_campaign(ctx: Ctx, campaign_id: str) -> Result:
    return Result(_campaign_json(ctx, _campaign(ctx, campaign_id)))


def update_campaign(ctx: Ctx, campaign_id: str) -> Result:
    c = _campaign(ctx, campaign_id)
    body = _object(ctx)
    if not isinstance(body.get("settings"), dict):
        raise invalid([("settings", "Required fields were not provided: settings")])
    fields = _campaign_fields(ctx, body, c)
    if "audience_id" in fields and fields["audience_id"] != c.audience_id and "segment_id" not in fields:
        fields["segment_id"] = None  # a segment belongs to its list
    try:
        ctx.account.update_campaign(c.id, **fields)
    except CampaignStateError as err:
        raise _state(err) from None
    return Result(_campaign_json(ctx, c))


def delete_campaign(ctx: Ctx, campaign_id: str) -> Result:
    try:
        ctx.account.delete_campaign(_campaign(ctx, campaign_id).id)
    except CampaignStateError as err:
        raise _state(err) from None
    return Result(None, 204)


def _content_json(c: Campaign) -> dict[str, Any]:
    html = c.html or ""
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()
    return {"plain_text": text, "html": html, "archive_html": html, "_links": []}


def get_content(ctx: Ctx, campaign_id: str) -> Result:
    return Result(_content_json(_campaign(ctx, campaign_id)))


def set_content(ctx: Ctx, campaign_id: str) -> Result:
    c = _campaign(ctx, campaign_id)
    html = _object(ctx).get("html")
    if not isinstance(html, str):
        raise invalid([("html", "Schema describes string, NULL found instead")])
    try:
        ctx.account.update_campaign(c.id, html=html)
    except CampaignStateError as err:
        raise _state(err) from None
    return Result(_content_json(c))


_CHECKS = (
    ("subject", 1, "Subject Line"),
    ("content", 2, "Content"),
    ("from_name", 3, "From Name"),
    ("recipients", 4, "Recipients"),
)


def _checklist(ctx: Ctx, c: Campaign) -> list[dict[str, Any]]:
    problems = dict(ctx.account.problems(c))
    passed = {
        "subject": " / ".join(c.ab.subjects) if c.ab else c.subject,
        "content": "The campaign has HTML content.",
        "from_name": f"{c.from_name} <{c.reply_to}>",
        "recipients": f"{len(ctx.account.recipients(c))} subscribed recipients.",
    }
    items = [
        {
            "type": "error" if key in problems else "success",
            "id": number,
            "heading": heading,
            "details": problems.pop(key, None) or passed[key],
        }
        for key, number, heading in _CHECKS
    ]
    items += [
        {"type": "error", "id": 99, "heading": key.replace("_", " ").title(), "details": message}
        for key, message in problems.items()
    ]
    return items


def send_checklist(ctx: Ctx, campaign_id: str) -> Result:
    items = _checklist(ctx, _campaign(ctx, campaign_id))
    return Result({"is_ready": not any(i["type"] == "error" for i in items), "items": items, "_links": []})


def _require_ready(ctx: Ctx, c: Campaign) -> None:
    if c.status in ("draft", "scheduled"):
        failing = [(i["heading"], i["details"]) for i in _checklist(ctx, c) if i["type"] == "error"]
        if failing:
            raise MailchimpError(400, "Bad Request", NOT_READY, failing)


def _schedule_time(body: dict[str, Any], now: datetime) -> datetime:
    raw = body.get("schedule_time")
    try:
        when = datetime.fromisoformat(str(raw).replace("Z", "+00:00"))
    except ValueError:
        raise invalid([("schedule_time", "Expected an ISO 8601 date and time.")]) from None
    when = when if when.tzinfo else when.replace(tzinfo=timezone.utc)
    if when.minute % 15 or when.second or when.microsecond:
        raise MailchimpError(
            400,
            "Bad Request",
            "This campaign cannot be scheduled: campaigns may only be scheduled "
            "to send on the quarter-hour (:00, :15, :30, :45).",
        )
    if when <= now:
        raise MailchimpError(400, "Bad Request", "This campaign cannot be scheduled: the schedule time is in the past.")
    return when


def campaign_action(ctx: Ctx, campaign_id: str, action: str) -> Result:
    c = _campaign(ctx, campaign_id)
    account = ctx.account
    try:
        if action == "test":
            body = _object(ctx)
            emails = body.get("test_emails")
            errors = []
            if not isinstance(emails, list) or not emails or not all(isinstance(e, str) for e in emails):
                errors.append(("test_emails", "Schema describes array, NULL found instead"))
            if body.get("send_type") not in ("html", "plaintext"):
                errors.append(("send_type", "Data presented is not one of the accepted values: html, plaintext."))
            if errors:
                raise invalid(errors)
            assert isinstance(emails, list)  # otherwise test_emails is among the errors
            account.send_test(c.id, emails)
        elif action == "schedule":
            when = _schedule_time(_object(ctx), ctx.now)
            if c.status not in ("draft", "scheduled"):
                raise CampaignStateError(f"This campaign cannot be scheduled: its status is {WIRE_STATUS[c.status]}.")
            _require_ready(ctx, c)
            account.schedule(c.id, when)
        elif action == "unschedule":
            account.unschedule(c.id)
        elif action == "send":
            _require_ready(ctx, c)
            account.send(c.id)
        else:
            account.cancel(c.id)
    except EmailRejected as err:
        raise _rejected(err) from None
    except CampaignStateError as err:
        raise _state(err) from None
    return Result(None, 204)


# -- reports -------------------------------------------------------------------


def _sent(ctx: Ctx, campaign_id: str) -> Campaign:
    c = _campaign(ctx, campaign_id)
    if c.sent_at is None:
        raise not_found()  # reports exist once a campaign has gone out
    return c


def _ab_split(c: Campaign, stats: Stats, now: datetime) -> dict[str, Any]:
    groups = {}
    for i, variant in enumerate(stats.variants):
        delivered = [d for d in c.deliveries if d.variant == i and not d.remainder and d.at <= now]
        opened = [t for d in delivered for t in (d.open_at, d.proxy_open_at) if t is not None and t <= now]
        groups[VARIANT_LETTERS[i]] = {
            "bounces": sum(1 for d in delivered if d.bounce),
            "abuse_reports": 0,
            "unsubs": sum(1 for d in delivered if d.unsubscribe_at and d.unsubscribe_at <= now),
            "recipient_clicks": variant.unique_clicks,
            "forwards": 0,
            "forwards_opens": 0,
            "opens": sum(d.opens for d in delivered if d.open_at and d.open_at <= now)
            + sum(1 for d in delivered if d.proxy_open_at and d.proxy_open_at <= now),
            "last_open": _time(max(opened, default=None)),
            "unique_opens": variant.unique_opens,
        }
    return groups


def report(ctx: Ctx, campaign_id: str) -> Result:
    c = _sent(ctx, campaign_id)
    s = ctx.account.stats(c.id)
    aud = ctx.account.audience(c.audience_id)
    human_unique = s.unique_opens - s.proxied_unique_opens
    list_open, list_click, _count = ctx.account.history(aud.id)
    out: dict[str, Any] = {
        "id": c.id,
        "campaign_title": c.name,
        "type": "variate" if c.ab else "regular",
        "list_id": aud.id,
        "list_is_active": True,
        "list_name": aud.name,
        "subject_line": "" if c.ab else (c.subject or ""),
        "preview_text": c.preview_text or "",
        "emails_sent": s.emails_sent,
        "abuse_reports": 0,
        "unsubscribed": s.unsubscribes,
        "send_time": _time(c.sent_at),
        "bounces": {"hard_bounces": s.hard_bounces, "soft_bounces": s.soft_bounces, "syntax_errors": 0},
        "forwards": {"forwards_count": 0, "forwards_opens": 0},
        "opens": {
            "opens_total": s.opens_total,
            "proxy_excluded_opens": s.opens_total - s.proxied_unique_opens,
            "unique_opens": s.unique_opens,
            "proxy_excluded_unique_opens": human_unique,
            "open_rate": _rate(s.unique_opens, s.delivered),
            "proxy_excluded_open_rate": _rate(human_unique, s.delivered),
            "last_open": _time(s.last_open),
        },
        "clicks": {
            "clicks_total": s.clicks_total,
            "unique_clicks": s.unique_clicks,
            "unique_subscriber_clicks": s.unique_clicks,
            "click_rate": _rate(s.unique_clicks, s.delivered),
            "last_click": _time(s.last_click),
        },
        "facebook_likes": {"recipient_likes": 0, "unique_likes": 0, "facebook_likes": 0},
        "list_stats": {"sub_rate": 0, "unsub_rate": 0, "open_rate": list_open * 100, "click_rate": list_click * 100},
        "timewarp": [],
        "timeseries": [],
        "ecommerce": {"total_orders": 0, "total_spent": 0, "total_revenue": 0, "currency_code": "USD"},
        "delivery_status": {"enabled": False},
        "_links": [],
    }
    if c.ab is not None:
        out["ab_split"] = _ab_split(c, s, ctx.now)
    return Result(out)


def click_details(ctx: Ctx, campaign_id: str) -> Result:
    c = _sent(ctx, campaign_id)
    s = ctx.account.stats(c.id)
    urls = []
    for url in c.links():
        total, unique = s.links.get(url, (0, 0))
        urls.append(
            {
                "id": hashlib.md5(url.encode()).hexdigest()[:10],
                "url": url,
                "total_clicks": total,
                "click_percentage": _rate(total, s.clicks_total),
                "unique_clicks": unique,
                "unique_click_percentage": _rate(unique, s.unique_clicks),
                "campaign_id": c.id,
                "_links": [],
            }
        )
    window, total = _page(ctx, urls)
    return Result({"urls_clicked": window, "campaign_id": c.id, "total_items": total, "_links": []})
