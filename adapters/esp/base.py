"""The ESP interface: one Protocol and the models every email service provider adapter speaks.

Mailchimp and Customer.io organise people differently (lists with members, a workspace of
people); these models are the common ground a marketer needs: audiences, contacts, segments,
campaigns, subject-line A/B tests and reports. What an ESP cannot do is declared in
`capabilities`, never discovered through a NotImplementedError.
"""

import re
from datetime import datetime
from typing import Annotated, Any, Literal, Protocol

from pydantic import AfterValidator, BaseModel, Field

# Capabilities an adapter may declare.
CAP_SEGMENTS = "segments"  # list and create (static) segments
CAP_TAGS = "tags"  # contacts carry tags
CAP_MERGE_FIELDS = "merge_fields"  # contacts carry named fields (FNAME, plan, ...)
CAP_SCHEDULE = "schedule"
CAP_CANCEL = "cancel"  # stop a scheduled or sending campaign
CAP_TEST_SEND = "test_send"
CAP_AB_SUBJECT = "ab_subject"  # subject-line A/B tests
CAP_AB_WINNER = "ab_winner"  # ...that pick a winner by opens or clicks and send it to the rest
CAP_PROXY_OPENS = "proxy_opens"  # reports separate machine (privacy-proxy) opens
CAP_LINK_CLICKS = "link_clicks"  # reports give clicks per link

SubscriptionStatus = Literal["subscribed", "unsubscribed", "pending", "cleaned"]
CampaignStatus = Literal["draft", "scheduled", "sending", "sent", "paused", "canceled"]
WinnerCriteria = Literal["clicks", "opens", "manual"]

SUBJECT_MAX = 150  # Mailchimp's limit; Customer.io allows more but inboxes cut far earlier
PREVIEW_MAX = 150
HTML_MAX = 1_000_000  # Customer.io refuses requests over 1 MB
UPSERT_MAX = 10_000  # contacts per upsert call; adapters split them into the vendor's batch size
SAMPLE_RECIPIENTS = 10

# Syntax only: the vendor judges deliverability (and Mailchimp refuses addresses that "look fake").
_EMAIL = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$"
)


def check_email(value: str) -> str:
    value = value.strip()
    if len(value) > 254 or not _EMAIL.match(value) or ".." in value:
        raise ValueError(f"'{value[:80]}' is not a valid email address (expected name@domain.tld)")
    return value.lower()


Email = Annotated[str, Field(min_length=3, max_length=254), AfterValidator(check_email)]
Subject = Annotated[str, Field(min_length=1, max_length=SUBJECT_MAX, description="Subject line.")]
PreviewText = Annotated[str, Field(max_length=PREVIEW_MAX, description="Inbox preview (preheader) text.")]
FromName = Annotated[str, Field(min_length=1, max_length=100)]
Html = Annotated[str, Field(max_length=HTML_MAX, description="The email's HTML.")]
TagName = Annotated[str, Field(min_length=1, max_length=100)]
FieldName = Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9_]{0,49}$")]


class AccountInfo(BaseModel):
    vendor: str
    account: str = Field(description="The account or workspace name.")
    capabilities: list[str]
    notes: list[str] = Field(default_factory=list)

    def summary(self) -> str:
        return f"{self.account} ({self.vendor}): can {', '.join(self.capabilities)}."


class Audience(BaseModel):
    """A Mailchimp audience (list), or a Customer.io workspace's people."""

    id: str
    name: str
    member_count: int = Field(description="Subscribed contacts.")
    unsubscribed_count: int | None = None
    from_name: str | None = Field(default=None, description="Default sender name for campaigns to this audience.")
    reply_to: str | None = None
    avg_open_rate: float | None = Field(default=None, description="History, as the ESP reports it (0..1).")
    avg_click_rate: float | None = Field(default=None, description="History, as the ESP reports it (0..1).")
    merge_fields: list[str] = Field(default_factory=list, description="Field names contacts can carry.")

    def summary(self) -> str:
        clicks = f", clicks {self.avg_click_rate:.1%} on average" if self.avg_click_rate is not None else ""
        return f"{self.name} ({self.id}): {self.member_count} subscribed{clicks}."


class AudiencePage(BaseModel):
    items: list[Audience]
    next_cursor: str | None = None

    def summary(self) -> str:
        return f"{len(self.items)} audience(s)" + ("; more with next_cursor." if self.next_cursor else ".")


class Contact(BaseModel):
    email: str
    id: str = Field(description="The ESP's own ID for the contact.")
    status: SubscriptionStatus
    merge_fields: dict[str, str | int | float | bool | None] = Field(default_factory=dict)
    tags: list[str] = Field(default_factory=list)

    def summary(self) -> str:
        return f"{self.email} is {self.status}" + (f", tags {', '.join(self.tags)}" if self.tags else "") + "."


class ContactPage(BaseModel):
    items: list[Contact]
    total: int | None = None
    next_cursor: str | None = None

    def summary(self) -> str:
        return (
            f"{len(self.items)} contact(s)"
            + (f" of {self.total}" if self.total is not None else "")
            + ("; more with next_cursor." if self.next_cursor else ".")
        )


class ContactUpsert(BaseModel):
    """A contact to create or update, keyed by email. Left-out fields stay as they are."""

    email: Email
    status: Literal["subscribed", "unsubscribed"] | None = Field(
        default=None, description="Subscription status; new contacts default to subscribed."
    )
    merge_fields: dict[FieldName, str | int | float | bool | None] = Field(
        default_factory=dict, max_length=50, description='e.g. {"FNAME": "Ada"}.'
    )
    tags: list[TagName] = Field(default_factory=list, max_length=50, description="Tags to add.")


class ContactError(BaseModel):
    email: str
    reason: str


class UpsertResult(BaseModel):
    created: int
    updated: int
    failed: list[ContactError] = Field(
        default_factory=list[ContactError], description="Contacts the ESP refused, with why."
    )
    requests: int = Field(description="Calls made to the ESP (batched).")


class Segment(BaseModel):
    id: str
    name: str
    kind: Literal["static", "dynamic"]
    member_count: int | None = None


class ABTest(BaseModel):
    """A subject-line test: a share of the audience gets each subject, the winner goes to the rest."""

    subject_lines: list[Subject] = Field(min_length=2, max_length=5)
    test_size: Annotated[int, Field(ge=10, le=100, description="Percent of recipients in the test groups.")] = 50
    winner_criteria: WinnerCriteria = "clicks"
    wait_hours: Annotated[int, Field(ge=1, le=720, description="Hours before the winner is picked.")] = 4
    winner: str | None = Field(default=None, description="The winning subject, once picked.")


class CampaignFields(BaseModel):
    """What a campaign says and to whom. Unset fields are left as they are on update."""

    name: Annotated[str, Field(min_length=1, max_length=190, description="Internal name.")] | None = None
    audience_id: Annotated[str, Field(min_length=1, max_length=64)] | None = None
    segment_id: Annotated[str, Field(min_length=1, max_length=64)] | None = None
    subject: Subject | None = None
    preview_text: PreviewText | None = None
    from_name: FromName | None = None
    reply_to: Email | None = None
    html: Html | None = None

    def given(self) -> dict[str, Any]:
        return self.model_dump(exclude_unset=True)


class Campaign(BaseModel):
    id: str
    name: str
    status: CampaignStatus
    audience_id: str | None = None
    segment_id: str | None = None
    subject: str | None = None
    preview_text: str | None = None
    from_name: str | None = None
    reply_to: str | None = None
    has_content: bool = False
    recipient_count: int | None = Field(default=None, description="Who it goes (or went) to, as the ESP counts them.")
    scheduled_for: datetime | None = None
    sent_at: datetime | None = None
    ab_test: ABTest | None = None

    def summary(self) -> str:
        return (
            f"Campaign {self.id} '{self.name}' is {self.status}"
            + (f", subject '{self.subject}'" if self.subject else "")
            + "."
        )


class CampaignPage(BaseModel):
    items: list[Campaign]
    next_cursor: str | None = None

    def summary(self) -> str:
        return f"{len(self.items)} campaign(s)" + ("; more with next_cursor." if self.next_cursor else ".")


class Recipients(BaseModel):
    """Who a campaign would go to: the count and a sample, for dry runs."""

    audience_id: str
    audience_name: str
    segment_id: str | None = None
    segment_name: str | None = None
    count: int
    sample: list[str] = Field(description=f"Up to {SAMPLE_RECIPIENTS} of the addresses.")


class ReadinessIssue(BaseModel):
    field: str
    problem: str


class LinkClicks(BaseModel):
    url: str
    total_clicks: int
    unique_clicks: int


class VariantReport(BaseModel):
    subject: str
    sent: int
    unique_opens: int
    unique_clicks: int
    click_rate: float


class Report(BaseModel):
    """How a sent campaign did. Judge on clicks: opens include privacy-proxy (machine) opens."""

    campaign_id: str
    subject: str | None = None
    sent_at: datetime | None = None
    emails_sent: int
    delivered: int
    hard_bounces: int = 0
    soft_bounces: int = 0
    unique_opens: int = Field(description="Every unique open, machine opens included.")
    open_rate: float
    proxied_opens: int | None = Field(
        default=None,
        description="Unique opens by privacy proxies (Apple MPP and the like), when the ESP separates them.",
    )
    human_open_rate: float | None = Field(default=None, description="Open rate without proxied opens.")
    unique_clicks: int
    click_rate: float = Field(description="Unique clickers / delivered.")
    unsubscribes: int = 0
    links: list[LinkClicks] = Field(default_factory=list[LinkClicks])
    variants: list[VariantReport] = Field(
        default_factory=list[VariantReport], description="Per subject line, for A/B tests."
    )

    def summary(self) -> str:
        proxied = f" of which {self.proxied_opens} by privacy proxies" if self.proxied_opens is not None else ""
        return (
            f"{self.emails_sent} sent, clicks {self.click_rate:.2%} ({self.unique_clicks}), "
            f"opens {self.open_rate:.1%}{proxied}."
        )


class ESP(Protocol):
    """What the ESP tool set needs from an email service provider."""

    vendor: str

    async def capabilities(self) -> frozenset[str]: ...

    async def account_info(self) -> AccountInfo: ...

    async def list_audiences(self, cursor: str | None, limit: int) -> AudiencePage: ...

    async def get_audience(self, audience_id: str) -> Audience: ...

    async def list_contacts(
        self, audience_id: str, *, status: SubscriptionStatus | None, cursor: str | None, limit: int
    ) -> ContactPage: ...

    async def get_contact(self, audience_id: str, email: str) -> Contact: ...

    async def upsert_contacts(self, audience_id: str, contacts: list[ContactUpsert]) -> UpsertResult: ...

    async def list_segments(self, audience_id: str) -> list[Segment]: ...

    async def create_segment(self, audience_id: str, name: str, emails: list[str]) -> Segment: ...

    async def recipients(self, audience_id: str, segment_id: str | None) -> Recipients: ...

    async def list_campaigns(self, status: CampaignStatus | None, cursor: str | None, limit: int) -> CampaignPage: ...

    async def get_campaign(self, campaign_id: str) -> Campaign: ...

    async def create_campaign(self, fields: CampaignFields, ab_test: ABTest | None) -> Campaign: ...

    async def update_campaign(self, campaign_id: str, fields: CampaignFields) -> Campaign: ...

    async def content(self, campaign_id: str) -> str:
        """The campaign's HTML ("" when it has none)."""
        ...

    async def readiness(self, campaign_id: str) -> list[ReadinessIssue]:
        """What stops the campaign from being sent (no content, no recipients, ...); empty when ready."""
        ...

    async def send_test(self, campaign_id: str, emails: list[str]) -> None: ...

    async def schedule(self, campaign_id: str, when: datetime) -> Campaign: ...

    async def send(self, campaign_id: str) -> Campaign:
        """Send now; return the campaign only once it reads back as sending or sent (see `outcome.confirmed`).
        A lost or garbled answer is resolved by reading the campaign's state, never by sending again."""
        ...

    async def cancel(self, campaign_id: str) -> Campaign:
        """Unschedule a scheduled campaign, or stop one that is sending."""
        ...

    async def report(self, campaign_id: str) -> Report: ...

    async def aclose(self) -> None: ...
