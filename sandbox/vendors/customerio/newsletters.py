"""The App API's newsletters: sender identities and the workspace, newsletters with their contents
(A/B test groups are extra contents), test groups, sending and scheduling."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timezone
from email.utils import parseaddr
from typing import Any

from ...email_world import ABSpec, Audience, Campaign, CampaignStateError
from .common import (
    SENDER_ID,
    TEST_GROUPS_MAX,
    CioError,
    Ctx,
    Result,
    body_object,
    detail_error,
    find_segment,
    meta_error,
    page_of,
    ts,
)

# -- senders and the workspace ----------------------------------------------------------------


def sender_identities(aud: Audience) -> list[dict[str, Any]]:
    out = [{"id": SENDER_ID, "name": aud.from_name, "email": aud.from_email}]
    if aud.reply_to != aud.from_email:
        out.append({"id": SENDER_ID + 1, "name": aud.from_name, "email": aud.reply_to})
    for s in out:
        s.update(
            deduplicate_id=f"{s['id']}:{ts(aud.created)}",
            address=f"{s['name']} <{s['email']}>",
            template_type="email",
            auto_generated=False,
            hidden=False,
        )
    return out


def sender_identity(aud: Audience, sender_id: Any) -> dict[str, Any]:
    found = next((s for s in sender_identities(aud) if s["id"] == sender_id), None)
    if found is None:
        raise detail_error(422, f"Invalid sender identity: {sender_id}.")
    return found


def list_senders(ctx: Ctx) -> Result:
    window, token = page_of(ctx, sender_identities(ctx.aud), 50, 1000)
    return Result({"sender_identities": window, "next": token})


def list_workspaces(ctx: Ctx) -> Result:
    sent = sum(len(c.deliveries) for c in ctx.account.campaigns.values())
    return Result(
        {
            "workspaces": [
                {
                    "id": 1,
                    "name": ctx.account.name,
                    "messages_sent": sent,
                    "billable_messages_sent": sent,
                    "people": len(ctx.aud.people),
                    "object_types": 0,
                    "objects": 0,
                }
            ]
        }
    )


# -- newsletters ------------------------------------------------------------------------------


def _subjects(c: Campaign) -> list[str]:
    return list(c.ab.subjects) if c.ab is not None else [c.subject or ""]


def _content_ids(c: Campaign) -> list[int]:
    return [int(c.id) * 10 + i + 1 for i in range(len(_subjects(c)))]


def _newsletter_json(c: Campaign) -> dict[str, Any]:
    return {
        "id": int(c.id),
        "deduplicate_id": f"{c.id}:{ts(c.updated)}",
        "type": "email",
        "content_ids": _content_ids(c),
        "name": c.name,
        "sent_at": ts(c.sent_at),
        "created": ts(c.created),
        "updated": ts(c.updated),
        "tags": [],
        "recipient_segment_ids": [int(c.segment_id)] if c.segment_id is not None else [],
    }


def _content_json(ctx: Ctx, c: Campaign, index: int) -> dict[str, Any]:
    cid = _content_ids(c)[index]
    reply = next((s for s in sender_identities(ctx.aud) if s["email"] == c.reply_to), None)
    return {
        "id": cid,
        "newsletter_id": int(c.id),
        "deduplicate_id": f"{cid}:{ts(c.updated)}",
        "name": f"Variant {chr(65 + index)}" if c.ab is not None else "",
        "layout": "",
        "body": c.html or "",
        "body_amp": "",
        "language": "",
        "type": "email",
        "from": f"{c.from_name} <{ctx.aud.from_email}>" if c.from_name else "",
        "from_id": SENDER_ID,
        "reply_to": c.reply_to or "",
        "reply_to_id": reply["id"] if reply else None,
        "preprocessor": "premailer",
        "recipient": "{{customer.email}}",
        "subject": _subjects(c)[index],
        "cc": "",
        "bcc": "",
        "fake_bcc": False,
        "preheader_text": c.preview_text or "",
        "headers": "[]",
    }


def find_newsletter(ctx: Ctx, newsletter_id: str) -> Campaign:
    c = ctx.account.campaigns.get(newsletter_id) if newsletter_id.isdigit() else None
    if c is None or c.audience_id != ctx.aud.id:
        raise detail_error(404, f"Newsletter {newsletter_id} not found.")
    return c


def find_variant(ctx: Ctx, newsletter_id: str, content_id: str) -> tuple[Campaign, int]:
    c = find_newsletter(ctx, newsletter_id)
    ids = _content_ids(c)
    if not content_id.isdigit() or int(content_id) not in ids:
        raise detail_error(404, f"Content {content_id} not found in newsletter {newsletter_id}.")
    return c, ids.index(int(content_id))


def _state_error(err: CampaignStateError) -> CioError:
    return detail_error(400, str(err).replace("campaign", "newsletter"))


def _problems(ctx: Ctx, c: Campaign) -> list[str]:
    messages = {
        "subject": "The newsletter has no subject: subject is required",
        "content": "The newsletter has no content: body is required",
        "from_name": "The newsletter has no sender: from is required",
        "recipients": "No recipients have been configured: the newsletter's recipients match nobody",
    }
    return [messages.get(f, m) for f, m in ctx.account.problems(c)]


def _rate_limits(body: dict[str, Any]) -> None:
    rate, period = body.get("rate_limit_email_rate"), body.get("rate_limit_time_period")
    if (rate is None) != (period is None):
        raise detail_error(422, "Incomplete rate limit: set both rate_limit_email_rate and rate_limit_time_period.")
    if rate is not None and (not isinstance(rate, int) or rate < 1 or period not in (60, 3600, 86400)):
        raise detail_error(422, "rate_limit_email_rate must be >= 1 and rate_limit_time_period 60, 3600 or 86400.")


def _recipients(ctx: Ctx, recipients: Any) -> str | None:
    """The segment a recipient filter names, or None for everyone with an email address."""
    if not isinstance(recipients, dict) or not recipients:
        raise detail_error(400, "No recipients have been configured.")
    if set(recipients) == {"segment"}:
        condition = recipients["segment"]
        return find_segment(
            ctx,
            condition.get("id") if isinstance(condition, dict) else None,
            error=lambda _status, message: detail_error(422, message),
        ).id
    if recipients == {"attribute": {"field": "email", "operator": "exists"}}:
        return None
    raise detail_error(
        422,
        "recipients: this workspace accepts one segment condition, or "
        '{"attribute": {"field": "email", "operator": "exists"}} for everyone.',
    )


def _when(ctx: Ctx, value: Any) -> datetime:
    if isinstance(value, bool) or not isinstance(value, int):
        raise detail_error(422, "scheduled_at must be a Unix timestamp.")
    when = datetime.fromtimestamp(value, timezone.utc)
    if when <= ctx.world.now():
        raise detail_error(422, "scheduled_at must be in the future.")
    return when


def _send(ctx: Ctx, c: Campaign) -> None:
    _ready(ctx, c)
    try:
        ctx.account.send(c.id)
    except CampaignStateError as err:
        raise _state_error(err) from None


def _ready(ctx: Ctx, c: Campaign) -> None:
    """Customer.io's refusals before a send or a schedule: already sent, or not ready."""
    if c.status not in ("draft", "scheduled"):
        raise detail_error(400, f"The newsletter has already been sent (it is {c.status}).")
    problems = _problems(ctx, c)
    if problems:
        raise detail_error(400, *problems)


def _schedule(ctx: Ctx, c: Campaign, when: datetime) -> None:
    _ready(ctx, c)
    try:
        ctx.account.schedule(c.id, when)
    except CampaignStateError as err:
        raise _state_error(err) from None
    except ValueError:
        raise detail_error(422, "scheduled_at must be in the future.") from None


def list_newsletters(ctx: Ctx) -> Result:
    sort = ctx.query.get("sort") or "desc"
    if sort not in ("asc", "desc"):
        raise meta_error(400, "sort must be asc or desc.")
    mine = [c for c in ctx.account.campaigns.values() if c.audience_id == ctx.aud.id]
    mine.sort(key=lambda c: (c.created, int(c.id)), reverse=sort == "desc")
    window, token = page_of(ctx, mine, 50, 1000)
    return Result({"newsletters": [_newsletter_json(c) for c in window], "next": token})


def create_newsletter(ctx: Ctx) -> Result:
    body = body_object(ctx, lambda m: detail_error(400, m))
    name = body.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > 190:
        raise detail_error(422, "name is required and must be 190 characters or less.")
    if body.get("type") != "email":
        raise detail_error(422, "Invalid channel type: this workspace sends email newsletters (type: email).")
    segment_id = _recipients(ctx, body.get("recipients"))
    # Required means present: an empty subject or body makes a draft that cannot be sent yet.
    missing = [f"{key} is required" for key in ("subject", "body") if not isinstance(body.get(key), str)]
    if missing:
        raise detail_error(422, *missing)
    if "from" in body and "from_id" in body:
        raise detail_error(422, "Set from or from_id, not both.")
    from_name = None
    if "from_id" in body:
        from_name = sender_identity(ctx.aud, body["from_id"])["name"]
    elif "from" in body:
        display, address = parseaddr(str(body["from"]))
        if address.lower() not in {s["email"] for s in sender_identities(ctx.aud)}:
            raise detail_error(422, f'from must be a verified sender like "Name <{ctx.aud.from_email}>".')
        from_name = display or None
    if body.get("send_now") and body.get("scheduled_at"):
        raise detail_error(422, "You cannot set both send_now and scheduled_at.")
    when = _when(ctx, body["scheduled_at"]) if body.get("scheduled_at") else None
    _rate_limits(body)
    preheader = body.get("preheader_text")
    c = ctx.account.create_campaign(
        ctx.aud.id,
        name=name.strip(),
        segment_id=segment_id,
        subject=body["subject"],
        preview_text=preheader if isinstance(preheader, str) else None,
        from_name=from_name,
        html=body["body"],
    )
    try:
        if body.get("send_now"):
            _send(ctx, c)
        elif when is not None:
            _schedule(ctx, c, when)
    except CioError:
        ctx.account.delete_campaign(c.id)  # the vendor refuses the whole request
        raise
    return Result({"newsletter": _newsletter_json(c)})


def get_newsletter(ctx: Ctx, newsletter_id: str) -> Result:
    return Result({"newsletter": _newsletter_json(find_newsletter(ctx, newsletter_id))})


def delete_newsletter(ctx: Ctx, newsletter_id: str) -> Result:
    c = find_newsletter(ctx, newsletter_id)
    try:
        ctx.account.delete_campaign(c.id)
    except CampaignStateError as err:
        raise _state_error(err) from None
    return Result(None, 204)


def list_contents(ctx: Ctx, newsletter_id: str) -> Result:
    c = find_newsletter(ctx, newsletter_id)
    return Result({"contents": [_content_json(ctx, c, i) for i in range(len(_subjects(c)))]})


def get_content(ctx: Ctx, newsletter_id: str, content_id: str) -> Result:
    c, index = find_variant(ctx, newsletter_id, content_id)
    return Result({"content": _content_json(ctx, c, index)})


def update_content(ctx: Ctx, newsletter_id: str, content_id: str) -> Result:
    c, index = find_variant(ctx, newsletter_id, content_id)
    body = body_object(ctx, lambda m: detail_error(400, m))
    changes: dict[str, Any] = {}
    for key, target in (("body", "html"), ("preheader_text", "preview_text"), ("subject", "subject")):
        if key in body:
            if not isinstance(body[key], str):
                raise detail_error(400, f"{key} must be a string.")
            changes[target] = body[key]
    if "from_id" in body:
        changes["from_name"] = sender_identity(ctx.aud, body["from_id"])["name"]
    if "reply_to_id" in body:
        changes["reply_to"] = (
            None if body["reply_to_id"] is None else sender_identity(ctx.aud, body["reply_to_id"])["email"]
        )
    if "subject" in changes and c.ab is not None:
        subjects = _subjects(c)
        subjects[index] = changes["subject"]
        changes["ab"] = dataclasses.replace(c.ab, subjects=subjects)
        if index:
            del changes["subject"]  # the newsletter's own subject is its first group's
    if changes:
        try:
            ctx.account.update_campaign(c.id, **changes)
        except CampaignStateError as err:
            raise _state_error(err) from None
    return Result({"content": _content_json(ctx, c, index)})


def _test_group_json(c: Campaign, index: int) -> dict[str, Any]:
    winner = c.ab is not None and c.ab.winner == index
    return {
        "id": index,
        "name": chr(65 + index),
        "label": f"test {index + 1}",
        "winner": winner,
        "content_ids": [_content_ids(c)[index]],
    }


def list_test_groups(ctx: Ctx, newsletter_id: str) -> Result:
    c = find_newsletter(ctx, newsletter_id)
    groups = [_test_group_json(c, i) for i in range(len(_subjects(c)))] if c.ab is not None else []
    return Result({"test_groups": groups})


def create_test_group(ctx: Ctx, newsletter_id: str) -> Result:
    c = find_newsletter(ctx, newsletter_id)
    subjects = _subjects(c)
    if len(subjects) >= TEST_GROUPS_MAX:
        raise detail_error(400, f"A newsletter can have at most {TEST_GROUPS_MAX} test groups.")
    # A new group copies the default content; an even split of every recipient, winner left to the sender.
    first = subjects[0]
    ab = (
        dataclasses.replace(c.ab, subjects=subjects + [first])
        if c.ab is not None
        else ABSpec([first, first], test_size=100, criteria="manual")
    )
    try:
        ctx.account.update_campaign(c.id, ab=ab)
    except CampaignStateError as err:
        raise _state_error(err) from None
    return Result({"newsletter": _newsletter_json(c)})


def send_newsletter(ctx: Ctx, newsletter_id: str) -> Result:
    c = find_newsletter(ctx, newsletter_id)
    _rate_limits(body_object(ctx, lambda m: detail_error(400, m)))
    _send(ctx, c)
    return Result({"newsletter": _newsletter_json(c)})


def schedule_newsletter(ctx: Ctx, newsletter_id: str) -> Result:
    c = find_newsletter(ctx, newsletter_id)
    body = body_object(ctx, lambda m: detail_error(400, m))
    if "scheduled_at" not in body:
        raise detail_error(422, "scheduled_at is required.")
    _rate_limits(body)
    if body["scheduled_at"] == 0:
        if c.status != "scheduled":
            raise detail_error(400, f"The newsletter is not currently scheduled (it is {c.status}).")
        ctx.account.unschedule(c.id)
        return Result({"newsletter": _newsletter_json(c)})
    when = _when(ctx, body["scheduled_at"])
    if not isinstance(body.get("timezone"), str) or not body["timezone"]:
        raise detail_error(422, "timezone is required when scheduled_at is set.")
    _schedule(ctx, c, when)
    return Result({"newsletter": _newsletter_json(c)})
