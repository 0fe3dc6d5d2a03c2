"""The one ESP tool set, served by every email server (mailchimp, customerio).

Reading, drafting and sending are separate tools with their own annotations: sending,
scheduling and canceling are destructive. Every write takes `dry_run`; a dry run of a send
shows exactly what would go out (subject, sender, content) and to whom (count and a sample of
addresses), and never calls the vendor's write endpoints. A campaign that is not ready (no
content, no recipients, ...) is refused before anything is sent, with the fix for each problem.
"""

import re
from datetime import datetime, timezone
from typing import Annotated, Any, Awaitable, Callable

from mcp.server.mcpserver import MCPServer
from mcp.types import ToolAnnotations
from pydantic import BaseModel, Field

from adapters.errors import InvalidRequest, OutcomeUnknown, Unsupported
from adapters.esp.base import (
    CAP_AB_SUBJECT,
    CAP_AB_WINNER,
    CAP_CANCEL,
    CAP_SCHEDULE,
    CAP_SEGMENTS,
    CAP_TAGS,
    CAP_TEST_SEND,
    ESP,
    ABTest,
    AccountInfo,
    Audience,
    AudiencePage,
    Campaign,
    CampaignFields,
    CampaignPage,
    CampaignStatus,
    Contact,
    ContactPage,
    ContactUpsert,
    Email,
    FromName,
    Html,
    PreviewText,
    ReadinessIssue,
    Report,
    Subject,
    SubscriptionStatus,
    WinnerCriteria,
)

from ._app import DRAFT, READ, SEND, Deps, ServerContext, adapter_of, confirm, new_server, resource, tool
from .esp_models import (
    CONTACTS_PER_CALL,
    HTML_PREVIEW,
    TEXT_PREVIEW,
    AudienceArg,
    CampaignAction,
    CampaignContent,
    CampaignId,
    CampaignName,
    ContentPreview,
    Cursor,
    DryRun,
    SegmentArg,
    SegmentResult,
    Segments,
    TestSend,
    UpsertPreview,
)

ESPContext = ServerContext[ESP]  # a tool's context here: `await adapter_of(ctx)` is the ESP


async def _audience(esp: ESP, audience_id: str | None) -> str:
    """The given audience, or the account's only one."""
    if audience_id is not None:
        return audience_id
    page = await esp.list_audiences(None, 2)
    if len(page.items) == 1:
        return page.items[0].id
    names = ", ".join(f"{a.name} ({a.id})" for a in page.items) or "none"
    raise InvalidRequest(
        f"Which audience? This {esp.vendor} account has several: {names}" + (" and more." if page.next_cursor else "."),
        hint="Pass audience_id.",
    )


async def _require(esp: ESP, capability: str, what: str) -> None:
    if capability not in await esp.capabilities():
        raise Unsupported(
            f"{esp.vendor} cannot {what} through this tool set.", hint="Call account_info for what this ESP supports."
        )


def _text(html: str | None) -> str:
    text = re.sub(r"(?is)<(script|style)\b.*?</\1>", " ", html or "")
    text = " ".join(re.sub(r"<[^>]+>", " ", text).split())
    return text[:TEXT_PREVIEW] + ("..." if len(text) > TEXT_PREVIEW else "")


def _content(c: Campaign, html: str | None = None) -> ContentPreview:
    subjects = c.ab_test.subject_lines if c.ab_test else [c.subject] if c.subject else []
    return ContentPreview(
        subjects=subjects,
        preview_text=c.preview_text,
        from_name=c.from_name,
        reply_to=c.reply_to,
        text=_text(html),
        links=list(dict.fromkeys(re.findall(r"""href=["'](https?://[^"']+)""", html or "")))[:20],
    )


async def _preview(
    esp: ESP,
    c: Campaign,
    html: str | None,
    action: str,
    send_at: datetime | None = None,
) -> CampaignAction:
    recipients = await esp.recipients(c.audience_id, c.segment_id) if c.audience_id else None
    issues = await esp.readiness(c.id)
    return CampaignAction(
        action=action,
        dry_run=True,
        campaign=c,
        content=_content(c, html),
        recipients=recipients,
        send_at=send_at,
        issues=issues,
    )


def _refuse_unready(action: CampaignAction) -> None:
    if action.issues:
        problems = "; ".join(f"{i.field}: {i.problem}" for i in action.issues)
        which = action.campaign.id if action.campaign else "the campaign"
        raise InvalidRequest(
            f"Campaign {which} cannot be sent yet, so nothing was sent: {problems}",
            hint=_fixes(action.issues),
        )


def _fixes(issues: list[ReadinessIssue]) -> str:
    fix = {
        "content": "give it html with update_campaign",
        "subject": "set subject with update_campaign",
        "from_name": "set from_name with update_campaign",
        "reply_to": "set reply_to with update_campaign",
        "recipients": "pick an audience or segment with subscribed contacts (list_segments, upsert_contacts)",
    }
    steps = [fix.get(i.field, f"fix {i.field}") for i in issues]
    return "; ".join(dict.fromkeys(steps)).capitalize() + ", then check again with dry_run=true."


def _campaign_fields(**values) -> CampaignFields:
    return CampaignFields(**{k: v for k, v in values.items() if v is not None})


# The states the ESP must read back before a sending action is called done.
DONE_STATES = {
    "send_campaign": ("sending", "sent"),
    "schedule_campaign": ("scheduled",),
    "cancel_campaign": ("draft", "paused", "canceled"),
}


def _read_back(action: str, campaign: Campaign) -> Campaign:
    """A sending action is done only when the campaign the ESP returned shows it (every ESP, present or future)."""
    if campaign.status not in DONE_STATES[action]:
        raise OutcomeUnknown(
            f"After {action} the ESP shows campaign {campaign.id} as {campaign.status}, so it is not known to be done.",
            hint=f"Call get_campaign for {campaign.id} before trying again.",
        )
    return campaign


TOOLS: list[tuple[Callable[..., Awaitable[BaseModel]], ToolAnnotations, Callable[[Any], str]]] = []
"""The tool set, in the order the servers list it: (function, annotations, summary of its result)."""


def _tool(annotations: ToolAnnotations, summary: Callable[[Any], str]):
    def add(fn: Callable[..., Awaitable[BaseModel]]) -> Callable[..., Awaitable[BaseModel]]:
        TOOLS.append((fn, annotations, summary))
        return fn

    return add


@_tool(READ, AccountInfo.summary)
async def account_info(ctx: ESPContext) -> AccountInfo:
    """Which account this is and what it supports (segments, A/B subject tests, proxied-open reporting...)."""
    esp = await adapter_of(ctx)
    return await esp.account_info()


@_tool(READ, AudiencePage.summary)
async def list_audiences(
    ctx: ESPContext,
    cursor: Cursor = None,
    limit: Annotated[int, Field(ge=1, le=100)] = 20,
) -> AudiencePage:
    """Audiences (lists) with their size and historic open and click rates."""
    esp = await adapter_of(ctx)
    return await esp.list_audiences(cursor, limit)


@_tool(READ, Audience.summary)
async def get_audience(ctx: ESPContext, audience_id: AudienceArg = None) -> Audience:
    """One audience: size, defaults, merge fields, and its history (the baseline to judge campaigns by)."""
    esp = await adapter_of(ctx)
    return await esp.get_audience(await _audience(esp, audience_id))


@_tool(READ, ContactPage.summary)
async def list_contacts(
    ctx: ESPContext,
    audience_id: AudienceArg = None,
    status: Annotated[SubscriptionStatus | None, Field(description="Only this status.")] = None,
    cursor: Cursor = None,
    limit: Annotated[int, Field(ge=1, le=100)] = 20,
) -> ContactPage:
    """Contacts of an audience, one page at a time."""
    esp = await adapter_of(ctx)
    return await esp.list_contacts(await _audience(esp, audience_id), status=status, cursor=cursor, limit=limit)


@_tool(READ, Contact.summary)
async def get_contact(ctx: ESPContext, email: Email, audience_id: AudienceArg = None) -> Contact:
    """One contact by email: status, merge fields, tags."""
    esp = await adapter_of(ctx)
    return await esp.get_contact(await _audience(esp, audience_id), email)


@_tool(DRAFT, UpsertPreview.summary)
async def upsert_contacts(
    ctx: ESPContext,
    contacts: Annotated[list[ContactUpsert], Field(min_length=1, max_length=CONTACTS_PER_CALL)],
    audience_id: AudienceArg = None,
    dry_run: DryRun = False,
) -> UpsertPreview:
    """Add or update contacts by email (batched; tags are added, fields left out are kept).
    Setting status 'unsubscribed' unsubscribes; contacts the ESP refuses are listed with the reason."""
    esp = await adapter_of(ctx)
    if any(c.tags for c in contacts):
        await _require(esp, CAP_TAGS, "tag contacts (use merge_fields or a segment)")
    audience = await _audience(esp, audience_id)
    emails = [c.email for c in contacts]
    duplicates = sorted({e for e in emails if emails.count(e) > 1}) if len(set(emails)) < len(emails) else []
    if duplicates:
        raise InvalidRequest(
            f"These addresses appear more than once: {', '.join(duplicates[:10])}.",
            hint="Merge each address's fields and tags into one entry.",
        )
    if dry_run:
        await esp.get_audience(audience)  # an unknown audience fails the dry run too
        return UpsertPreview(dry_run=True, audience_id=audience, contacts=len(contacts), sample=emails[:10])
    result = await esp.upsert_contacts(audience, contacts)
    return UpsertPreview(dry_run=False, audience_id=audience, contacts=len(contacts), result=result, sample=emails[:10])


@_tool(READ, Segments.summary)
async def list_segments(ctx: ESPContext, audience_id: AudienceArg = None) -> Segments:
    """Segments of an audience, with their size."""
    esp = await adapter_of(ctx)
    await _require(esp, CAP_SEGMENTS, "list segments")
    return Segments(segments=await esp.list_segments(await _audience(esp, audience_id)))


@_tool(DRAFT, SegmentResult.summary)
async def create_segment(
    ctx: ESPContext,
    name: Annotated[str, Field(min_length=1, max_length=100)],
    emails: Annotated[list[Email], Field(min_length=1, max_length=1000, description="Members (existing contacts).")],
    audience_id: AudienceArg = None,
    dry_run: DryRun = False,
) -> SegmentResult:
    """Create a static segment of existing contacts, to send a campaign to just them."""
    esp = await adapter_of(ctx)
    await _require(esp, CAP_SEGMENTS, "create segments")
    audience = await _audience(esp, audience_id)
    members = list(dict.fromkeys(emails))
    if dry_run:
        await esp.get_audience(audience)
        return SegmentResult(dry_run=True, name=name, members=len(members))
    segment = await esp.create_segment(audience, name, members)
    return SegmentResult(dry_run=False, segment=segment, name=name, members=len(members))


@_tool(READ, CampaignPage.summary)
async def list_campaigns(
    ctx: ESPContext,
    status: Annotated[CampaignStatus | None, Field(description="Only this status.")] = None,
    cursor: Cursor = None,
    limit: Annotated[int, Field(ge=1, le=100)] = 20,
) -> CampaignPage:
    """Campaigns, newest first."""
    esp = await adapter_of(ctx)
    return await esp.list_campaigns(status, cursor, limit)


@_tool(READ, Campaign.summary)
async def get_campaign(ctx: ESPContext, campaign_id: CampaignId) -> Campaign:
    """One campaign: status, subject, sender, audience, schedule, A/B test."""
    esp = await adapter_of(ctx)
    return await esp.get_campaign(campaign_id)


@_tool(READ, CampaignContent.summary)
async def get_campaign_content(ctx: ESPContext, campaign_id: CampaignId) -> CampaignContent:
    """A campaign's HTML (to reuse it in a new campaign or check it), with its text and links."""
    esp = await adapter_of(ctx)
    html = await esp.content(campaign_id)
    preview = _content(await esp.get_campaign(campaign_id), html)
    return CampaignContent(
        campaign_id=campaign_id,
        html=html[:HTML_PREVIEW],
        html_truncated=len(html) > HTML_PREVIEW,
        text=preview.text,
        links=preview.links,
    )


async def _create(
    ctx: ESPContext, action: str, fields: CampaignFields, ab: ABTest | None, dry_run: bool
) -> CampaignAction:
    esp = await adapter_of(ctx)
    if ab is not None:
        await _require(esp, CAP_AB_SUBJECT, "run subject-line A/B tests")
    fields.audience_id = await _audience(esp, fields.audience_id)
    if dry_run:
        audience = await esp.get_audience(fields.audience_id)
        recipients = await esp.recipients(fields.audience_id, fields.segment_id)
        draft = Campaign(
            id="(new)",
            name=fields.name or "",
            status="draft",
            audience_id=fields.audience_id,
            segment_id=fields.segment_id,
            subject=fields.subject,
            preview_text=fields.preview_text,
            from_name=fields.from_name or audience.from_name,
            reply_to=fields.reply_to or audience.reply_to,
            has_content=bool(fields.html),
            recipient_count=recipients.count,
            ab_test=ab,
        )
        return CampaignAction(action=action, dry_run=True, content=_content(draft, fields.html), recipients=recipients)
    campaign = await esp.create_campaign(fields, ab)
    done = await _preview(esp, campaign, fields.html, action)
    return done.model_copy(update={"dry_run": False})


@_tool(DRAFT, CampaignAction.summary)
async def create_campaign(
    ctx: ESPContext,
    name: CampaignName,
    subject: Subject,
    html: Html,
    audience_id: AudienceArg = None,
    segment_id: SegmentArg = None,
    preview_text: PreviewText | None = None,
    from_name: FromName | None = None,
    reply_to: Email | None = None,
    dry_run: DryRun = False,
) -> CampaignAction:
    """Create a draft campaign (never sent by this tool): content, subject, sender and recipients.
    Sender and reply-to default to the audience's. Then send_test, schedule_campaign or send_campaign."""
    fields = _campaign_fields(
        name=name,
        subject=subject,
        html=html,
        audience_id=audience_id,
        segment_id=segment_id,
        preview_text=preview_text,
        from_name=from_name,
        reply_to=reply_to,
    )
    return await _create(ctx, "create_campaign", fields, None, dry_run)


@_tool(DRAFT, CampaignAction.summary)
async def create_subject_test(
    ctx: ESPContext,
    name: CampaignName,
    subject_lines: Annotated[list[Subject], Field(min_length=2, max_length=5)],
    html: Html,
    audience_id: AudienceArg = None,
    segment_id: SegmentArg = None,
    test_size: Annotated[
        int | None,
        Field(
            ge=10,
            le=100,
            description="Percent of recipients in the test "
            "groups; the winner goes to the rest. "
            "Default 50, or 100 where the ESP "
            "cannot pick a winner.",
        ),
    ] = None,
    winner_criteria: Annotated[
        WinnerCriteria | None,
        Field(
            description="'clicks' (the default) is the sound "
            "choice: privacy proxies inflate opens. "
            "'manual' where the ESP cannot pick."
        ),
    ] = None,
    wait_hours: Annotated[int, Field(ge=1, le=720)] = 4,
    preview_text: PreviewText | None = None,
    from_name: FromName | None = None,
    reply_to: Email | None = None,
    dry_run: DryRun = False,
) -> CampaignAction:
    """Create a draft subject-line A/B test: each subject goes to an equal share of the test group, and
    after wait_hours the winner goes to everyone else. ESPs without 'ab_winner' (see account_info) split
    everyone evenly: use test_size=100 and winner_criteria='manual' there. Send or schedule it like any
    campaign; campaign_report gives each subject's clicks."""
    if len({s.strip().lower() for s in subject_lines}) < len(subject_lines):
        raise InvalidRequest("Two subject lines are the same.", hint="Give each variant a different subject.")
    fields = _campaign_fields(
        name=name,
        subject=subject_lines[0],
        html=html,
        audience_id=audience_id,
        segment_id=segment_id,
        preview_text=preview_text,
        from_name=from_name,
        reply_to=reply_to,
    )
    automatic = CAP_AB_WINNER in await (await adapter_of(ctx)).capabilities()
    if not automatic and ((test_size or 100) < 100 or (winner_criteria or "manual") != "manual"):
        raise Unsupported(
            "This ESP sends each subject to an equal share of everyone and cannot pick a winner.",
            hint="Leave test_size and winner_criteria out (or pass 100 and 'manual'), then "
            "compare the subjects' clicks in campaign_report.",
        )
    ab = ABTest(
        subject_lines=subject_lines,
        test_size=test_size or (50 if automatic else 100),
        winner_criteria=winner_criteria or ("clicks" if automatic else "manual"),
        wait_hours=wait_hours,
    )
    return await _create(ctx, "create_subject_test", fields, ab, dry_run)


@_tool(DRAFT, CampaignAction.summary)
async def update_campaign(
    ctx: ESPContext,
    campaign_id: CampaignId,
    name: CampaignName | None = None,
    subject: Subject | None = None,
    html: Html | None = None,
    segment_id: SegmentArg = None,
    preview_text: PreviewText | None = None,
    from_name: FromName | None = None,
    reply_to: Email | None = None,
    dry_run: DryRun = False,
) -> CampaignAction:
    """Change a draft campaign; fields left out stay as they are. Sent or scheduled campaigns cannot change."""
    fields = _campaign_fields(
        name=name,
        subject=subject,
        html=html,
        segment_id=segment_id,
        preview_text=preview_text,
        from_name=from_name,
        reply_to=reply_to,
    )
    if not fields.given():
        raise InvalidRequest("Nothing to change: give at least one field.", hint="Pass e.g. subject or html.")
    esp = await adapter_of(ctx)
    before = await esp.get_campaign(campaign_id)
    if before.status != "draft":
        raise InvalidRequest(
            f"Campaign {campaign_id} is {before.status}; only a draft can be changed.",
            hint="Cancel it first if it is scheduled, or create a new campaign.",
        )
    if dry_run:
        after = before.model_copy(update={k: v for k, v in fields.given().items() if k != "html"})
        return CampaignAction(
            action="update_campaign",
            dry_run=True,
            campaign=after,
            content=_content(after, fields.html),
            recipients=await esp.recipients(after.audience_id, after.segment_id) if after.audience_id else None,
        )
    campaign = await esp.update_campaign(campaign_id, fields)
    return CampaignAction(
        action="update_campaign", dry_run=False, campaign=campaign, content=_content(campaign, fields.html)
    )


@_tool(DRAFT, TestSend.summary)
async def send_test(
    ctx: ESPContext,
    campaign_id: CampaignId,
    emails: Annotated[list[Email], Field(min_length=1, max_length=10, description="Test inboxes.")],
    dry_run: DryRun = False,
) -> TestSend:
    """Send a test of the campaign to a few inboxes (not to the audience)."""
    esp = await adapter_of(ctx)
    await _require(esp, CAP_TEST_SEND, "send tests")
    campaign = await esp.get_campaign(campaign_id)
    if not campaign.has_content:
        raise InvalidRequest(
            f"Campaign {campaign_id} has no content to test.", hint="Give it html with update_campaign first."
        )
    if not dry_run:
        await esp.send_test(campaign_id, emails)
    return TestSend(dry_run=dry_run, campaign_id=campaign_id, subject=campaign.subject, sent_to=emails)


@_tool(SEND, CampaignAction.summary)
async def schedule_campaign(
    ctx: ESPContext,
    campaign_id: CampaignId,
    send_at: Annotated[
        datetime,
        Field(
            description="ISO 8601 with a time zone, e.g. 2026-12-01T09:00:00+01:00. "
            "Mailchimp needs a quarter hour (:00, :15, :30, :45)."
        ),
    ],
    dry_run: DryRun = False,
) -> CampaignAction:
    """Schedule a draft campaign to be sent to its recipients at a future time."""
    if send_at.tzinfo is None:
        raise InvalidRequest("send_at has no time zone.", hint="Add one, e.g. 'Z' or '+01:00'.")
    if not 1970 < send_at.year < 9999:  # beyond, UTC conversion and quarter-hour rounding overflow
        raise InvalidRequest(f"send_at {send_at.isoformat()} is out of range.", hint="Pass a time in the future.")
    when = send_at.astimezone(timezone.utc)  # whether it is in the future is the ESP's call: its clock rules
    esp = await adapter_of(ctx)
    await _require(esp, CAP_SCHEDULE, "schedule campaigns")
    action = await _preview(
        esp, await esp.get_campaign(campaign_id), await esp.content(campaign_id), "schedule_campaign", when
    )
    if dry_run:
        return action
    _refuse_unready(action)
    await confirm(ctx, f"Schedule {action.stakes()} for {when:%Y-%m-%d %H:%M} UTC?", "Nothing was scheduled.")
    campaign = _read_back("schedule_campaign", await esp.schedule(campaign_id, when))
    return action.model_copy(update={"dry_run": False, "campaign": campaign})


@_tool(SEND, CampaignAction.summary)
async def send_campaign(ctx: ESPContext, campaign_id: CampaignId, dry_run: DryRun = False) -> CampaignAction:
    """Send a campaign to all its recipients now. This cannot be undone: check it with dry_run=true first."""
    esp = await adapter_of(ctx)
    campaign = await esp.get_campaign(campaign_id)
    if campaign.status not in ("draft", "scheduled", "paused"):
        raise InvalidRequest(
            f"Campaign {campaign_id} is already {campaign.status}; nothing was sent.",
            hint="Create a new campaign (or a copy) to send again.",
        )
    action = await _preview(esp, campaign, await esp.content(campaign_id), "send_campaign")
    if dry_run:
        return action
    _refuse_unready(action)
    await confirm(ctx, f"Send {action.stakes()} now? This cannot be undone.", "Nothing was sent.")
    sent = _read_back("send_campaign", await esp.send(campaign_id))
    return action.model_copy(update={"dry_run": False, "campaign": sent})


@_tool(SEND, CampaignAction.summary)
async def cancel_campaign(ctx: ESPContext, campaign_id: CampaignId, dry_run: DryRun = False) -> CampaignAction:
    """Stop a campaign: a scheduled one goes back to draft; one still sending (an A/B test waiting for
    its winner) stops where it is."""
    esp = await adapter_of(ctx)
    await _require(esp, CAP_CANCEL, "cancel campaigns")
    campaign = await esp.get_campaign(campaign_id)
    if campaign.status in ("sent", "canceled"):  # some ESPs do not report a schedule: they judge the rest
        raise InvalidRequest(
            f"Campaign {campaign_id} is already {campaign.status}; there is nothing to cancel.",
            hint="Check list_campaigns for the one you meant.",
        )
    if dry_run:
        return CampaignAction(action="cancel_campaign", dry_run=True, campaign=campaign)
    when = f" (scheduled for {campaign.scheduled_for:%Y-%m-%d %H:%M} UTC)" if campaign.scheduled_for else ""
    await confirm(ctx, f"Stop campaign '{campaign.name}', now {campaign.status}{when}?", "Nothing was stopped.")
    stopped = _read_back("cancel_campaign", await esp.cancel(campaign_id))
    return CampaignAction(action="cancel_campaign", dry_run=False, campaign=stopped)


@_tool(READ, Report.summary)
async def campaign_report(ctx: ESPContext, campaign_id: CampaignId) -> Report:
    """How a sent campaign did: deliveries, bounces, opens (machine opens separated where the ESP can),
    unique clicks and click rate, unsubscribes, clicks per link, and each variant of an A/B test.
    Judge on clicks: privacy proxies open mail nobody reads."""
    esp = await adapter_of(ctx)
    return await esp.report(campaign_id)


async def audience_resource(audience_id: str, ctx: ESPContext) -> Audience:
    esp = await adapter_of(ctx)
    return await esp.get_audience(audience_id)


def create_esp_server(name: str, instructions: str, build_deps: Callable[[], Deps[ESP]]) -> MCPServer:
    """An ESP server: the tools above, in that order, and the audience resource; the adapter comes
    through the lifespan's Deps."""
    server = new_server(name, instructions, build_deps)
    for fn, annotations, summary in TOOLS:
        tool(server, annotations, summary=summary)(fn)
    resource(
        server,
        "esp://audiences/{audience_id}",
        name="esp-audience",
        description="One audience: size, sender defaults, merge fields and its historic open and click "
        "rates (the baseline to judge a campaign by). audience_id from list_audiences.",
    )(audience_resource)
    return server
