"""The ESP tool set's arguments and results: what a call takes, and what it answers with a one-line summary."""

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field

from adapters.esp.base import (
    Campaign,
    ReadinessIssue,
    Recipients,
    Segment,
    UpsertResult,
)

CONTACTS_PER_CALL = 5000
TEXT_PREVIEW = 400
HTML_PREVIEW = 100_000

# IDs are never "": an empty one is a validation error naming the argument, not "the default" or a crash.
AudienceArg = Annotated[
    str | None,
    Field(
        min_length=1,
        max_length=64,
        description="Audience ID from list_audiences; leave it out when the account has one audience.",
    ),
]
CampaignId = Annotated[str, Field(min_length=1, max_length=64, description="From list_campaigns or create_campaign.")]
SegmentArg = Annotated[
    str | None, Field(min_length=1, max_length=64, description="Send only to this segment (list_segments).")
]
Cursor = Annotated[str | None, Field(min_length=1, max_length=200, description="next_cursor of the previous page.")]
CampaignName = Annotated[
    str, Field(min_length=1, max_length=190, description="Internal name, not shown to recipients.")
]
DryRun = Annotated[bool, Field(description="Only show what would happen; nothing is sent to the ESP.")]


class Segments(BaseModel):
    segments: list[Segment]

    def summary(self) -> str:
        return f"{len(self.segments)} segment(s)."


class ContentPreview(BaseModel):
    subjects: list[str] = Field(description="The subject line, or each subject of an A/B test.")
    preview_text: str | None = None
    from_name: str | None = None
    reply_to: str | None = None
    text: str = Field(default="", description=f"The email's text, the first {TEXT_PREVIEW} characters.")
    links: list[str] = Field(default_factory=list)


class CampaignAction(BaseModel):
    """What a campaign write did, or would do on a dry run: the campaign, its content, its recipients."""

    action: str
    dry_run: bool
    campaign: Campaign | None = Field(
        default=None, description="The campaign after the action; as it is now on a dry run."
    )
    content: ContentPreview | None = None
    recipients: Recipients | None = None
    send_at: datetime | None = None
    issues: list[ReadinessIssue] = Field(default_factory=list, description="What stops it being sent.")

    def summary(self) -> str:
        c = self.campaign
        if self.dry_run:
            head = f"Would {self.action.replace('_', ' ')}" + (f" {c.id} '{c.name}' (now {c.status})" if c else "")
        else:
            head = DONE.get(self.action, self.action.replace("_", " ")) + (
                f" {c.id} '{c.name}' (the ESP shows it {c.status})" if c else ""
            )
        who = f" to {self.recipients.count} recipient(s) of {self.recipients.audience_name}" if self.recipients else ""
        when = f" at {self.send_at:%Y-%m-%d %H:%M} UTC" if self.send_at else ""
        blocked = f" Not ready: {'; '.join(i.problem for i in self.issues)}" if self.issues else ""
        return f"{head}{who}{when}.{blocked}"

    def stakes(self) -> str:
        """What goes out to whom, as the question to the user says it: "'Spring sale' to 5,555 recipients of
        Newsletter"."""
        r = self.recipients
        who = (
            f" to {r.count:,} recipient(s) of {r.audience_name}"
            + (f" (segment {r.segment_name})" if r.segment_name else "")
            if r
            else ""
        )
        name = f"'{self.campaign.name}'" if self.campaign else "the campaign"
        return f"{name}{who}"


class CampaignContent(BaseModel):
    campaign_id: str
    html: str = Field(description=f"The campaign's HTML, cut at {HTML_PREVIEW} characters.")
    html_truncated: bool = False
    text: str = Field(description=f"The email's text, the first {TEXT_PREVIEW} characters.")
    links: list[str]

    def summary(self) -> str:
        return f"Campaign {self.campaign_id}: {len(self.html)} characters of HTML, {len(self.links)} link(s)."


class TestSend(BaseModel):
    dry_run: bool
    campaign_id: str
    subject: str | None
    sent_to: list[str]

    def summary(self) -> str:
        return f"{'Would send' if self.dry_run else 'Sent'} a test of {self.campaign_id} to {', '.join(self.sent_to)}."


class SegmentResult(BaseModel):
    dry_run: bool
    segment: Segment | None = None
    name: str
    members: int

    def summary(self) -> str:
        if self.dry_run or self.segment is None:
            return f"Would create segment '{self.name}' with {self.members} member(s)."
        return f"Created segment {self.segment.id} '{self.name}' ({self.segment.member_count} member(s))."


class UpsertPreview(BaseModel):
    dry_run: bool
    audience_id: str
    contacts: int
    result: UpsertResult | None = None
    sample: list[str] = Field(default_factory=list, description="The first addresses.")

    def summary(self) -> str:
        r = self.result
        if self.dry_run or r is None:
            return f"Would upsert {self.contacts} contact(s) into {self.audience_id}."
        return (
            f"Upserted into {self.audience_id}: {r.created} created, {r.updated} updated, {len(r.failed)} refused "
            f"({r.requests} request(s))."
        )


DONE = {
    "create_campaign": "Created campaign",
    "create_subject_test": "Created subject test",
    "update_campaign": "Updated campaign",
    "send_campaign": "Sent campaign",
    "schedule_campaign": "Scheduled campaign",
    "cancel_campaign": "Stopped campaign",
}
