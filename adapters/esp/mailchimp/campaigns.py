"""Mailchimp campaigns: settings, content, the send checklist, test sends, scheduling, sending and reports.

A send, schedule or cancel is reported done only when the campaign reads back so (`..outcome`). A
campaign is scheduled on the quarter-hour only; reports give rates as fractions.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone
from typing import Any

from pydantic import ValidationError

from ...cursors import number_cursor
from ...errors import AdapterError, InvalidRequest, OutcomeUnknown
from ...json_values import JsonObject, is_object
from ..base import (
    ABTest,
    Campaign,
    CampaignFields,
    CampaignPage,
    CampaignStatus,
    LinkClicks,
    ReadinessIssue,
    Report,
    VariantReport,
)
from ..outcome import CANCEL, SEND, confirmed, schedule_at
from .problems import FIND_HINTS
from .transport import MailchimpTransport
from .wire import PAGE_MAX, VENDOR, checked_email, items, next_cursor, page_size, timestamp

OUR_STATUS: dict[str, CampaignStatus] = {
    "save": "draft",
    "paused": "paused",
    "schedule": "scheduled",
    "sending": "sending",
    "sent": "sent",
    "canceled": "canceled",
    "canceling": "canceled",
    "archived": "sent",
}
WIRE_STATUS = {ours: wire for wire, ours in OUR_STATUS.items() if wire not in ("canceling", "archived")}
# Send-checklist headings in the ESP tools' words (subject, content, from_name, reply_to, recipients).
CHECKLIST_FIELDS = {
    "subject line": "subject",
    "subject": "subject",
    "content": "content",
    "from name": "from_name",
    "from email": "reply_to",
    "reply-to address": "reply_to",
    "recipients": "recipients",
    "list": "recipients",
    "audience": "recipients",
    "preview text": "preview_text",
}
# Our names for the campaign actions, and the SDK's methods for them.
ACTION_METHODS = {"send": "send", "schedule": "schedule", "unschedule": "unschedule", "cancel-send": "cancel_send"}


class CampaignCalls(MailchimpTransport):
    """The ESP methods on campaigns and their reports."""

    async def list_campaigns(self, status: CampaignStatus | None, cursor: str | None, limit: int) -> CampaignPage:
        offset, count = number_cursor(cursor), page_size(limit)
        query: dict[str, str] = {"status": WIRE_STATUS[status]} if status else {}
        body = await self._call(
            lambda c, t: c.campaigns.list(
                count=count, offset=offset, sort_field="create_time", sort_dir="DESC", _request_timeout=t, **query
            )
        )
        raws = items(body, "campaigns")
        # Only a draft may lack content, and only its content call tells.
        contents = await asyncio.gather(
            *(self.content(raw["id"]) if raw.get("status") == "save" else _none() for raw in raws)
        )
        return CampaignPage(
            items=[_campaign(raw, html) for raw, html in zip(raws, contents, strict=True)],
            next_cursor=next_cursor(offset, len(raws), body),
        )

    async def get_campaign(self, campaign_id: str) -> Campaign:
        raw, html = await asyncio.gather(self._campaign_raw(campaign_id), self.content(campaign_id))
        return _campaign(raw, html)

    async def create_campaign(self, fields: CampaignFields, ab_test: ABTest | None) -> Campaign:
        given = fields.given()
        if not given.get("audience_id"):
            raise InvalidRequest(
                "A Mailchimp campaign needs an audience.", hint=f"Pass audience_id. {FIND_HINTS['audience']}"
            )
        body: JsonObject = {
            "type": "variate" if ab_test else "regular",
            "recipients": _recipients(given),
            "settings": _settings(given),
        }
        if not body["settings"].get("title"):  # the title finds the campaign in Mailchimp's lists
            body["settings"]["title"] = (
                given.get("subject") or (ab_test.subject_lines[0] if ab_test else "") or "Untitled campaign"
            )
        if ab_test is not None:
            body["variate_settings"] = {
                "winner_criteria": ab_test.winner_criteria,
                "wait_time": ab_test.wait_hours * 60,
                "test_size": ab_test.test_size,
                "subject_lines": list(ab_test.subject_lines),
            }
        raw = await self._call(
            lambda c, t: c.campaigns.create(body, _request_timeout=t),
            idempotent=False,
            what=f"creating campaign {body['settings']['title']!r}",
        )
        html = given.get("html")
        if html is not None:
            try:
                await self._set_html(raw["id"], html)
            except AdapterError as exc:
                exc.message = f"Campaign {raw['id']} was created, but its content was not saved: {exc.message}"
                exc.hint = "Call update_campaign with the html for that campaign; do not create it again."
                raise
        return _campaign(raw, html)

    async def update_campaign(self, campaign_id: str, fields: CampaignFields) -> Campaign:
        given = fields.given()
        body: JsonObject = {"settings": _settings(given)}  # Mailchimp requires settings on every update
        if "audience_id" in given or "segment_id" in given:
            if not given.get("audience_id"):
                recipients: JsonObject = (await self._campaign_raw(campaign_id)).get("recipients") or {}
                given["audience_id"] = recipients.get("list_id")
            body["recipients"] = _recipients(given, clear_segment="segment_id" in given)
        if body["settings"] or "recipients" in body:
            await self._call(
                lambda c, t: c.campaigns.update(campaign_id, body, _request_timeout=t),
                missing=("campaign", campaign_id),
            )
        if given.get("html") is not None:
            await self._set_html(campaign_id, given["html"])
        return await self.get_campaign(campaign_id)

    async def content(self, campaign_id: str) -> str:
        body = await self._call(
            lambda c, t: c.campaigns.get_content(campaign_id, _request_timeout=t), missing=("campaign", campaign_id)
        )
        return str(body.get("html") or "")

    async def readiness(self, campaign_id: str) -> list[ReadinessIssue]:
        body = await self._call(
            lambda c, t: c.campaigns.get_send_checklist(campaign_id, _request_timeout=t),
            missing=("campaign", campaign_id),
        )
        return [
            ReadinessIssue(field=_checklist_field(item), problem=str(item.get("details") or item.get("heading")))
            for item in items(body, "items")
            if item.get("type") == "error"
        ]

    async def send_test(self, campaign_id: str, emails: list[str]) -> None:
        body = {"test_emails": [checked_email(e) for e in emails], "send_type": "html"}
        await self._call_without_body(
            lambda c, t: c.campaigns.send_test_email(campaign_id, body, _request_timeout=t),
            missing=("campaign", campaign_id),
            idempotent=False,
            what=f"sending a test of campaign {campaign_id}",
        )

    async def schedule(self, campaign_id: str, when: datetime) -> Campaign:
        """Schedule (or move) a campaign; a naive `when` is taken as UTC."""
        when = (when if when.tzinfo else when.replace(tzinfo=timezone.utc)).astimezone(timezone.utc)
        if when.minute % 15 or when.second or when.microsecond:
            earlier = when.replace(minute=when.minute - when.minute % 15, second=0, microsecond=0)
            later = earlier + timedelta(minutes=15)
            raise InvalidRequest(
                f"Mailchimp schedules campaigns on the quarter-hour only; {when:%H:%M:%S} UTC is not one.",
                hint=f"Use {earlier:%H:%M} or {later:%H:%M} UTC.",
                vendor=VENDOR,
            )
        current = await self.get_campaign(campaign_id)
        before = current.scheduled_for if current.status == "scheduled" else None
        if before == when:
            return current
        if before is not None:
            await self._action(campaign_id, "unschedule")  # Mailchimp moves a schedule by unscheduling first
        doubt = None
        try:
            await self._action(campaign_id, "schedule", {"schedule_time": when.isoformat()})
        except OutcomeUnknown as lost:
            doubt = _doubt(lost, "schedule")
        except AdapterError as exc:
            if before is not None:  # put the old schedule back rather than leave a draft behind
                try:
                    await self._action(campaign_id, "schedule", {"schedule_time": before.isoformat()})
                    exc.message += f" The campaign stays scheduled for {before.isoformat()}."
                except AdapterError:
                    exc.message += (
                        f" It was unscheduled from {before.isoformat()} to be moved and is now a draft; "
                        "schedule it again."
                    )
            raise
        try:
            return await confirmed(
                VENDOR, campaign_id, schedule_at(when), lambda: self.get_campaign(campaign_id), doubt
            )
        except AdapterError as exc:
            if before is not None:
                exc.message += f" It was unscheduled from {before.isoformat()} to be moved."
            raise

    async def send(self, campaign_id: str) -> Campaign:
        """Send now; sent only when the campaign reads back as sending or sent.

        A lost or garbled answer is never followed by a second send: a campaign that still reads as a draft
        is reported unsent (safe to send again), one that cannot be read as an unknown outcome.
        """
        doubt = None
        try:
            await self._action(campaign_id, "send")
        except OutcomeUnknown as lost:
            doubt = _doubt(lost, "send")
        return await confirmed(VENDOR, campaign_id, SEND, lambda: self.get_campaign(campaign_id), doubt)

    async def cancel(self, campaign_id: str) -> Campaign:
        current = await self.get_campaign(campaign_id)
        if current.status not in ("scheduled", "sending"):
            raise InvalidRequest(
                f"Campaign {campaign_id} is {current.status}; only a scheduled or sending campaign can be stopped.",
                hint="Check its status with get_campaign.",
                vendor=VENDOR,
            )
        doubt = None
        try:
            await self._action(campaign_id, "unschedule" if current.status == "scheduled" else "cancel-send")
        except OutcomeUnknown as lost:
            doubt = _doubt(lost, "cancel")
        return await confirmed(VENDOR, campaign_id, CANCEL, lambda: self.get_campaign(campaign_id), doubt)

    async def report(self, campaign_id: str) -> Report:
        missing = ("report", campaign_id)
        raw, links = await asyncio.gather(
            self._call(lambda c, t: c.reports.get_campaign_report(campaign_id, _request_timeout=t), missing=missing),
            self._call(
                lambda c, t: c.reports.get_campaign_click_details(campaign_id, count=PAGE_MAX, _request_timeout=t),
                missing=missing,
            ),
        )
        variants: list[VariantReport] = []
        if raw.get("ab_split"):
            variants = _variants(raw["ab_split"], await self._campaign_raw(campaign_id))
        opens: JsonObject = raw.get("opens") or {}
        clicks: JsonObject = raw.get("clicks") or {}
        bounces: JsonObject = raw.get("bounces") or {}
        sent = int(raw.get("emails_sent") or 0)
        hard, soft = int(bounces.get("hard_bounces") or 0), int(bounces.get("soft_bounces") or 0)
        unique_opens = int(opens.get("unique_opens") or 0)
        human = opens.get("proxy_excluded_unique_opens")
        human_rate = opens.get("proxy_excluded_open_rate")
        return Report(
            campaign_id=campaign_id,
            subject=str(raw.get("subject_line") or "") or (variants[0].subject if variants else None),
            sent_at=timestamp(raw.get("send_time")),
            emails_sent=sent,
            delivered=max(0, sent - hard - soft - int(bounces.get("syntax_errors") or 0)),
            hard_bounces=hard,
            soft_bounces=soft,
            unique_opens=unique_opens,
            open_rate=float(opens.get("open_rate") or 0),
            proxied_opens=unique_opens - int(human) if human is not None else None,
            human_open_rate=float(human_rate) if human_rate is not None else None,
            unique_clicks=int(clicks.get("unique_subscriber_clicks") or 0),
            click_rate=float(clicks.get("click_rate") or 0),
            unsubscribes=int(raw.get("unsubscribed") or 0),
            links=[
                LinkClicks(
                    url=str(u.get("url")),
                    total_clicks=int(u.get("total_clicks") or 0),
                    unique_clicks=int(u.get("unique_clicks") or 0),
                )
                for u in items(links, "urls_clicked")
            ],
            variants=variants,
        )

    async def _campaign_raw(self, campaign_id: str) -> JsonObject:
        return await self._call(
            lambda c, t: c.campaigns.get(campaign_id, _request_timeout=t), missing=("campaign", campaign_id)
        )

    async def _set_html(self, campaign_id: str, html: str) -> None:
        await self._call(
            lambda c, t: c.campaigns.set_content(campaign_id, {"html": html}, _request_timeout=t),
            missing=("campaign", campaign_id),
        )

    async def _action(self, campaign_id: str, action: str, body: JsonObject | None = None) -> None:
        def call(c: Any, t: float) -> object:
            method = getattr(c.campaigns, ACTION_METHODS[action])
            return method(campaign_id, body, _request_timeout=t) if body else method(campaign_id, _request_timeout=t)

        await self._call_without_body(
            call,
            missing=("campaign", campaign_id),
            idempotent=False,
            what=f"the {action} of campaign {campaign_id}",
        )


async def _none() -> None:
    return None


def _doubt(lost: OutcomeUnknown, verb: str) -> str:
    return f"Mailchimp's answer to the {verb} was lost or garbled ({getattr(lost, 'cause', lost.message)})"


def _settings(given: dict[str, Any]) -> JsonObject:
    names = {
        "subject": "subject_line",
        "preview_text": "preview_text",
        "name": "title",
        "from_name": "from_name",
        "reply_to": "reply_to",
    }
    return {wire: given[ours] or "" for ours, wire in names.items() if ours in given}


def _recipients(given: dict[str, Any], clear_segment: bool = False) -> JsonObject:
    recipients: JsonObject = {"list_id": given["audience_id"]}
    if given.get("segment_id"):
        recipients["segment_opts"] = {
            "saved_segment_id": int(given["segment_id"]) if str(given["segment_id"]).isdigit() else given["segment_id"]
        }
    elif clear_segment:
        recipients["segment_opts"] = {"saved_segment_id": 0}
    return recipients


def _campaign(raw: JsonObject, html: str | None) -> Campaign:
    settings: JsonObject = raw.get("settings") or {}
    recipients: JsonObject = raw.get("recipients") or {}
    segment_opts: JsonObject = recipients.get("segment_opts") or {}
    status = OUR_STATUS.get(str(raw.get("status")), "draft")
    send_time = timestamp(raw.get("send_time"))
    segment = segment_opts.get("saved_segment_id")
    return Campaign(
        id=str(raw.get("id")),
        name=str(settings.get("title") or ""),
        status=status,
        audience_id=recipients.get("list_id") or None,
        segment_id=str(segment) if segment else None,
        subject=settings.get("subject_line") or None,
        preview_text=settings.get("preview_text") or None,
        from_name=settings.get("from_name") or None,
        reply_to=settings.get("reply_to") or None,
        has_content=bool(html and html.strip()) if html is not None else status != "draft",
        recipient_count=recipients.get("recipient_count"),
        scheduled_for=send_time if status == "scheduled" else None,
        sent_at=send_time if status in ("sending", "sent", "canceled") else None,
        ab_test=_ab_test(raw),
    )


def _ab_test(raw: JsonObject) -> ABTest | None:
    vs = raw.get("variate_settings")
    if raw.get("type") != "variate" or not is_object(vs):
        return None
    subject_lines: list[Any] = vs.get("subject_lines") or []
    combinations: list[Any] = vs.get("combinations") or []
    subjects = [str(s) for s in subject_lines]
    winner = next(
        (
            _subject_of(c, subjects)
            for c in combinations
            if is_object(c) and c.get("id") and c.get("id") == vs.get("winning_combination_id")
        ),
        None,
    )
    criteria = vs.get("winner_criteria")
    try:
        return ABTest(
            subject_lines=subjects,
            test_size=int(vs.get("test_size") or 50),
            winner_criteria=criteria if criteria in ("clicks", "opens") else "manual",
            wait_hours=max(1, round(int(vs.get("wait_time") or 60) / 60)),
            winner=winner,
        )
    except ValidationError:
        return None  # a test of something other than 2-5 subject lines (send times, senders, contents)


def _subject_of(combination: JsonObject, subjects: list[str]) -> str | None:
    index = combination.get("subject_line")
    return subjects[index] if isinstance(index, int) and 0 <= index < len(subjects) else None


def _variants(ab_split: JsonObject, campaign: JsonObject) -> list[VariantReport]:
    """Per subject line: the combinations give subject and recipients, ab_split (a, b, ...) the results."""
    vs: JsonObject = campaign.get("variate_settings") or {}
    subject_lines: list[Any] = vs.get("subject_lines") or []
    combinations: list[Any] = vs.get("combinations") or []
    subjects = [str(s) for s in subject_lines]
    out: list[VariantReport] = []
    for letter, combination in zip("abcdefgh", combinations, strict=False):  # ab_split letters its groups
        group = ab_split.get(letter)
        if not is_object(group) or not is_object(combination):
            continue
        sent = int(combination.get("recipients") or 0)
        delivered = sent - int(group.get("bounces") or 0)
        clicks = int(group.get("recipient_clicks") or 0)
        out.append(
            VariantReport(
                subject=_subject_of(combination, subjects) or letter.upper(),
                sent=sent,
                unique_opens=int(group.get("unique_opens") or 0),
                unique_clicks=clicks,
                click_rate=clicks / delivered if delivered > 0 else 0.0,
            )
        )
    return out


def _checklist_field(item: JsonObject) -> str:
    heading = str(item.get("heading") or "").strip()
    return CHECKLIST_FIELDS.get(heading.lower(), heading.lower().replace(" ", "_") or "campaign")
