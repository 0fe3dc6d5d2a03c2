"""Mailchimp through the official mailchimp-marketing SDK (Marketing API 3.0).

The SDK is synchronous (requests): every call runs in a worker thread through `adapters.blocking`,
with what is left of the tool call's deadline as its timeout. Mailchimp allows 10 simultaneous
connections per account and answers the 11th with 429 and no Retry-After, so calls queue on a
semaphore of 10 per account, and a 429 (another process using the account) is retried with backoff
within the deadline; a 429 that names its wait (Retry-After) waits that long, or fails at once with
`RateLimited(retry_after)` when the wait would outlast the call. Reads and idempotent writes are retried
on 5xx and transport errors too; other writes never are: a lost or garbled answer becomes
`OutcomeUnknown`. A send, schedule or cancel is reported done only when the campaign reads back so.

Traps of mailchimp-marketing 3.0.80, handled here:
- `_request_timeout` is accepted by every method and then ignored: requests always get the client's
  `timeout` (120 s). The client is adjusted so each call's own timeout reaches requests.
- Transport failures come back as `ApiClientError` with no status code and the requests exception
  as `text`; error documents are `application/problem+json`, which it leaves as a JSON string. The
  error carries no headers: the client keeps the last response's headers so Retry-After can be read.
- A success whose body is not JSON (or an error without a body) is returned as the raw
  `requests.Response` instead of raising. Actions answer 204 with no body; anything else there is garbage.

Mailchimp facts the mapping relies on: a member's ID is the MD5 of its lowercase address; list stats
give rates in percent, reports as fractions; a campaign is scheduled on the quarter-hour only; a
batch subscribe takes 500 members, answers 200 and lists each member it refused.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import json
import logging
import random
import threading
import weakref
from datetime import datetime, timedelta, timezone
from typing import Any, Awaitable, Callable, TypeVar

from pydantic import ValidationError

from ..blocking import blocking
from ..cursors import number_cursor
from ..errors import (
    AdapterError,
    AuthError,
    Conflict,
    InvalidRequest,
    NotFound,
    OutcomeUnknown,
    PermissionDenied,
    RateLimited,
    UpstreamUnavailable,
)
from ..progress import progress
from ..retry import RetryPolicy, error_class, may_send_again, retry_after_seconds
from ..timing import SYSTEM_CLOCK, Clock, deadline_after
from .base import (
    CAP_AB_SUBJECT,
    CAP_AB_WINNER,
    CAP_CANCEL,
    CAP_LINK_CLICKS,
    CAP_MERGE_FIELDS,
    CAP_PROXY_OPENS,
    CAP_SCHEDULE,
    CAP_SEGMENTS,
    CAP_TAGS,
    CAP_TEST_SEND,
    SAMPLE_RECIPIENTS,
    UPSERT_MAX,
    ABTest,
    AccountInfo,
    Audience,
    AudiencePage,
    Campaign,
    CampaignFields,
    CampaignPage,
    CampaignStatus,
    Contact,
    ContactError,
    ContactPage,
    ContactUpsert,
    LinkClicks,
    ReadinessIssue,
    Recipients,
    Report,
    Segment,
    SubscriptionStatus,
    UpsertResult,
    VariantReport,
    check_email,
)
from .outcome import CANCEL, SEND, confirmed, schedule_at

log = logging.getLogger(__name__)
T = TypeVar("T")

VENDOR = "Mailchimp"
CAPABILITIES = frozenset(
    {
        CAP_SEGMENTS,
        CAP_TAGS,
        CAP_MERGE_FIELDS,
        CAP_SCHEDULE,
        CAP_CANCEL,
        CAP_TEST_SEND,
        CAP_AB_SUBJECT,
        CAP_AB_WINNER,
        CAP_PROXY_OPENS,
        CAP_LINK_CLICKS,
    }
)
MAX_CONNECTIONS = 10  # simultaneous connections Mailchimp allows per account
BATCH_SIZE = 500  # members per batch subscribe
PAGE_MAX = 1000  # the largest `count`
NOT_READY = "Your Campaign is not ready to send."

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
# Members Mailchimp keeps for transactional mail only, or archived, receive no campaigns.
MEMBER_STATUS: dict[str, SubscriptionStatus] = {
    "subscribed": "subscribed",
    "unsubscribed": "unsubscribed",
    "pending": "pending",
    "cleaned": "cleaned",
    "transactional": "unsubscribed",
    "archived": "unsubscribed",
}
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
FIND_HINTS = {
    "audience": "Call list_audiences for the account's audience IDs.",
    "campaign": "Call list_campaigns for campaign IDs.",
    "segment": "Call list_segments for the audience's segment IDs.",
    "contact": "Check the address, or add the contact with upsert_contacts.",
    "report": "Reports exist once a campaign has been sent; check its status with get_campaign.",
}

_SLOTS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, asyncio.Semaphore]] = weakref.WeakKeyDictionary()


def connection_slots(account: str) -> asyncio.Semaphore:
    """The account's 10 connections, shared by every adapter of that account on this event loop."""
    per_loop = _SLOTS.setdefault(asyncio.get_running_loop(), {})
    return per_loop.setdefault(account, asyncio.Semaphore(MAX_CONNECTIONS))


def subscriber_hash(email: str) -> str:
    return hashlib.md5(email.strip().lower().encode()).hexdigest()


class _Transport(UpstreamUnavailable):
    """No HTTP answer. `maybe_sent`: whether the request may have reached Mailchimp."""

    def __init__(self, message: str, *, maybe_sent: bool):
        super().__init__(message, vendor=VENDOR)
        self.maybe_sent = maybe_sent


class _Answer(Exception):
    """A response the SDK returned instead of raising (an error without a body, or a body that is not JSON)."""

    def __init__(self, status: int, headers: Any = None):
        super().__init__(status)
        self.status = status
        self.headers = headers


def sdk_seam(client: Any) -> Any:
    """SDK seam (mailchimp-marketing 3.0.x): make each call's timeout reach requests, and keep the
    response headers of a failed call (Retry-After) on the `ApiClientError` as `.headers`.

    The SDK has no public hook for either: `_request_timeout` and `_preload_content` are accepted
    by every method and ignored by `ApiClient.call_api`, requests is called module-level with
    `self.timeout` (no session to give it), and `ApiClientError` keeps only text and status. So the
    client's ApiClient becomes a subclass that reads the timeout per thread and records headers in
    `request`. This is the only place that relies on the SDK's internals (`call_api` calling
    `self.request`, which reads `self.timeout`); tests/adapters/test_mailchimp_edge.py's seam
    tests fail with a clear message when the SDK changes them.
    """
    from mailchimp_marketing.api_client import ApiClient

    api_client = getattr(client, "api_client", None)
    if type(api_client) is ApiClient:
        default = api_client.__dict__.pop("timeout", 120)
        api_client.__class__ = _per_call_timeout_client()
        api_client.timeout = default
    return client


@functools.cache
def _per_call_timeout_client() -> type:
    """The ApiClient subclass of `sdk_seam`, built once (the SDK is imported on first use)."""
    from mailchimp_marketing.api_client import ApiClient, ApiClientError

    local = threading.local()

    class PerCallTimeout(ApiClient):
        @property
        def timeout(self) -> float:
            return getattr(local, "timeout", None) or self.__dict__.get("_default_timeout", 120)

        @timeout.setter
        def timeout(self, value: float) -> None:
            self.__dict__["_default_timeout"] = value

        def request(self, *args: Any, **kwargs: Any) -> Any:
            response = super().request(*args, **kwargs)
            local.headers = response.headers
            return response

        def call_api(self, *args: Any, **kwargs: Any) -> Any:
            local.timeout, local.headers = kwargs.get("_request_timeout"), None
            try:
                return super().call_api(*args, **kwargs)
            except ApiClientError as exc:
                exc.headers = local.headers  # the SDK drops them; Retry-After lives there
                raise
            finally:
                local.timeout = local.headers = None

    return PerCallTimeout


class Mailchimp:
    """One Mailchimp account. `client` is a configured `mailchimp_marketing.Client`, or a function returning one."""

    vendor = "mailchimp"

    def __init__(
        self,
        client: Any,
        *,
        account: str,
        auth_hint: str,
        clock: Clock = SYSTEM_CLOCK,
        rng: random.Random | None = None,
        max_attempts: int = 6,
        backoff_base: float = 0.5,
        default_deadline: float = 60.0,
    ):
        is_factory = callable(client) and not hasattr(client, "api_client")
        self._factory: Callable[[], Any] | None = client if is_factory else None
        self._client = None if is_factory else sdk_seam(client)
        self._client_lock = threading.Lock()
        self.account = account
        self._auth_hint = auth_hint
        self._clock = clock
        self._retry = RetryPolicy(max_attempts, backoff_base, rng or random.Random())
        self._default_deadline = default_deadline

    async def aclose(self) -> None:
        pass  # the SDK holds no connections: requests' module-level calls open one per request

    # -- account -----------------------------------------------------------------------------

    async def capabilities(self) -> frozenset[str]:
        return CAPABILITIES

    async def account_info(self) -> AccountInfo:
        root = await self._call(lambda c, t: c.root.get_root(_request_timeout=t))
        return AccountInfo(
            vendor=self.vendor,
            account=str(root.get("account_name") or self.account),
            capabilities=sorted(CAPABILITIES),
            notes=[
                "Audiences are Mailchimp lists; a contact's ID is the MD5 of its lowercase address.",
                f"Mailchimp allows {MAX_CONNECTIONS} simultaneous connections per account; calls "
                "beyond that wait their turn.",
                "Campaigns are scheduled on the quarter-hour (:00, :15, :30, :45), in UTC.",
                "Open rates include privacy-proxy (machine) opens; judge campaigns on clicks or on human_open_rate.",
                "Mailchimp will not resubscribe contacts who unsubscribed or bounced.",
            ],
        )

    # -- audiences and contacts --------------------------------------------------------------

    async def list_audiences(self, cursor: str | None, limit: int) -> AudiencePage:
        offset, count = number_cursor(cursor), _count(limit)
        body = await self._call(lambda c, t: c.lists.get_all_lists(count=count, offset=offset, _request_timeout=t))
        items = [_audience(raw) for raw in _items(body, "lists")]
        return AudiencePage(items=items, next_cursor=_next(offset, len(items), body))

    async def get_audience(self, audience_id: str) -> Audience:
        raw, tags = await asyncio.gather(
            self._call(
                lambda c, t: c.lists.get_list(audience_id, _request_timeout=t), missing=("audience", audience_id)
            ),
            self._merge_tags(audience_id),
        )
        return _audience(raw, tags)

    async def list_contacts(
        self, audience_id: str, *, status: SubscriptionStatus | None, cursor: str | None, limit: int
    ) -> ContactPage:
        offset, count = number_cursor(cursor), _count(limit)
        query = {"status": status} if status else {}
        body = await self._call(
            lambda c, t: c.lists.get_list_members_info(
                audience_id, count=count, offset=offset, _request_timeout=t, **query
            ),
            missing=("audience", audience_id),
        )
        items = [_contact(raw) for raw in _items(body, "members")]
        total = body.get("total_items")
        return ContactPage(
            items=items, total=total if isinstance(total, int) else None, next_cursor=_next(offset, len(items), body)
        )

    async def get_contact(self, audience_id: str, email: str) -> Contact:
        email = _email(email)
        raw = await self._call(
            lambda c, t: c.lists.get_list_member(audience_id, subscriber_hash(email), _request_timeout=t),
            missing=("contact", email, audience_id),
        )
        return _contact(raw)

    async def upsert_contacts(self, audience_id: str, contacts: list[ContactUpsert]) -> UpsertResult:
        """Batch subscribe in chunks of 500, then tags per tagged contact (the batch call cannot set tags).

        Contacts with a status are upserted with it. Contacts without one are added as subscribed when new;
        existing ones keep their status (a batch would overwrite it) and get their merge fields by PATCH.
        """
        if len(contacts) > UPSERT_MAX:
            raise InvalidRequest(
                f"At most {UPSERT_MAX} contacts per call; got {len(contacts)}.",
                hint="Split the contacts into several calls.",
            )
        wanted = {c.email: c for c in contacts}  # one entry per address; a later one wins
        tally = _Tally()
        if not wanted:
            return tally.result()
        known = await tally.count(self._merge_tags(audience_id))
        unknown = sorted({name for c in wanted.values() for name in c.merge_fields} - set(known))
        if unknown:
            raise InvalidRequest(
                f"Audience {audience_id} has no merge field {', '.join(unknown)} (it has "
                f"{', '.join(known) or 'none'}); Mailchimp would silently drop the values.",
                hint="Use the audience's merge fields, or add the field in Mailchimp first.",
                vendor=VENDOR,
            )
        given = [c for c in wanted.values() if c.status is not None]
        new_only = [c for c in wanted.values() if c.status is None]
        chunks = [(chunk, True) for chunk in _chunks(given, BATCH_SIZE)]
        chunks += [(chunk, False) for chunk in _chunks(new_only, BATCH_SIZE)]
        existing: list[ContactUpsert] = []
        await _all([self._batch(audience_id, chunk, update, tally, existing, len(wanted)) for chunk, update in chunks])
        await _all([self._patch_fields(audience_id, c, tally) for c in existing])
        await _all(
            [self._add_tags(audience_id, c, tally) for c in wanted.values() if c.tags and c.email not in tally.failed]
        )
        return tally.result()

    async def _batch(
        self,
        audience_id: str,
        chunk: list[ContactUpsert],
        update_existing: bool,
        tally: _Tally,
        existing: list[ContactUpsert],
        total: int,
    ) -> None:
        body = {"members": [_member(c) for c in chunk], "update_existing": update_existing}
        try:
            # Safe to repeat: a lost batch sent again updates what the first one created.
            answer = await tally.count(
                self._call(
                    lambda c, t: c.lists.batch_list_members(audience_id, body, _request_timeout=t),
                    missing=("audience", audience_id),
                )
            )
        except (AuthError, PermissionDenied, NotFound):
            raise
        except AdapterError as exc:
            for contact in chunk:
                tally.fail(contact.email, f"Mailchimp did not take this batch: {exc.message}")
            await tally.batch_done(len(chunk), total)
            return
        tally.created += int(answer.get("total_created") or 0)
        tally.updated += int(answer.get("total_updated") or 0)
        by_email = {c.email: c for c in chunk}
        for error in answer.get("errors") or []:
            email = str(error.get("email_address") or "").lower()
            if error.get("error_code") == "ERROR_CONTACT_EXISTS" and not update_existing and email in by_email:
                existing.append(by_email[email])
            else:
                tally.fail(email, str(error.get("error") or "refused by Mailchimp"))
        await tally.batch_done(len(chunk), total)

    async def _patch_fields(self, audience_id: str, contact: ContactUpsert, tally: _Tally) -> None:
        if contact.merge_fields:
            try:
                await tally.count(
                    self._call(
                        lambda c, t: c.lists.update_list_member(
                            audience_id,
                            subscriber_hash(contact.email),
                            {"merge_fields": contact.merge_fields},
                            _request_timeout=t,
                        )
                    )
                )
            except (AuthError, PermissionDenied):
                raise
            except AdapterError as exc:
                tally.fail(contact.email, exc.message)
                return
        tally.updated += 1

    async def _add_tags(self, audience_id: str, contact: ContactUpsert, tally: _Tally) -> None:
        tags = {"tags": [{"name": name, "status": "active"} for name in contact.tags]}
        try:
            await tally.count(
                self._call(
                    lambda c, t: c.lists.update_list_member_tags(
                        audience_id, subscriber_hash(contact.email), tags, _request_timeout=t
                    ),
                    expect_body=False,
                )
            )
        except (AuthError, PermissionDenied):
            raise
        except AdapterError as exc:
            tally.fail(contact.email, f"saved, but its tags were not set: {exc.message}")

    async def _merge_tags(self, audience_id: str) -> list[str]:
        body = await self._call(
            lambda c, t: c.lists.get_list_merge_fields(audience_id, count=PAGE_MAX, _request_timeout=t),
            missing=("audience", audience_id),
        )
        return [str(f["tag"]) for f in _items(body, "merge_fields") if f.get("tag")]

    # -- segments and recipients ---------------------------------------------------------------

    async def list_segments(self, audience_id: str) -> list[Segment]:
        body = await self._call(
            lambda c, t: c.lists.list_segments(audience_id, count=PAGE_MAX, _request_timeout=t),
            missing=("audience", audience_id),
        )
        return [_segment(raw) for raw in _items(body, "segments")]

    async def create_segment(self, audience_id: str, name: str, emails: list[str]) -> Segment:
        body = {"name": name, "static_segment": [_email(e) for e in emails]}
        raw = await self._call(
            lambda c, t: c.lists.create_segment(audience_id, body, _request_timeout=t),
            missing=("audience", audience_id),
            idempotent=False,
            what=f"creating segment {name!r}",
        )
        return _segment(raw)

    async def recipients(self, audience_id: str, segment_id: str | None) -> Recipients:
        audience = self._call(
            lambda c, t: c.lists.get_list(audience_id, _request_timeout=t), missing=("audience", audience_id)
        )
        if segment_id is None:
            sample = self._call(
                lambda c, t: c.lists.get_list_members_info(
                    audience_id, status="subscribed", count=SAMPLE_RECIPIENTS, _request_timeout=t
                )
            )
            raw, people = await asyncio.gather(audience, sample)
            count, segment_name = int((raw.get("stats") or {}).get("member_count") or 0), None
        else:
            segment = self._call(
                lambda c, t: c.lists.get_segment(audience_id, segment_id, _request_timeout=t),
                missing=("segment", segment_id),
            )
            sample = self._call(
                lambda c, t: c.lists.get_segment_members_list(
                    audience_id, segment_id, count=SAMPLE_RECIPIENTS, _request_timeout=t
                ),
                missing=("segment", segment_id),
            )
            raw, seg, people = await asyncio.gather(audience, segment, sample)
            count, segment_name = int(seg.get("member_count") or 0), str(seg.get("name") or "")
        return Recipients(
            audience_id=audience_id,
            audience_name=str(raw.get("name") or ""),
            segment_id=segment_id,
            segment_name=segment_name,
            count=count,
            sample=[str(m.get("email_address")) for m in _items(people, "members")][:SAMPLE_RECIPIENTS],
        )

    # -- campaigns -------------------------------------------------------------------------------

    async def list_campaigns(self, status: CampaignStatus | None, cursor: str | None, limit: int) -> CampaignPage:
        offset, count = number_cursor(cursor), _count(limit)
        query = {"status": WIRE_STATUS[status]} if status else {}
        body = await self._call(
            lambda c, t: c.campaigns.list(
                count=count, offset=offset, sort_field="create_time", sort_dir="DESC", _request_timeout=t, **query
            )
        )
        raws = _items(body, "campaigns")
        # Only a draft may lack content, and only its content call tells.
        contents = await asyncio.gather(
            *(self.content(raw["id"]) if raw.get("status") == "save" else _none() for raw in raws)
        )
        return CampaignPage(
            items=[_campaign(raw, html) for raw, html in zip(raws, contents)],
            next_cursor=_next(offset, len(raws), body),
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
        body: dict[str, Any] = {
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
        body: dict[str, Any] = {"settings": _settings(given)}  # Mailchimp requires settings on every update
        if "audience_id" in given or "segment_id" in given:
            if not given.get("audience_id"):
                given["audience_id"] = ((await self._campaign_raw(campaign_id)).get("recipients") or {}).get("list_id")
            body["recipients"] = _recipients(given, clear_segment="segment_id" in given)
        if body["settings"] or "recipients" in body:
            await self._call(
                lambda c, t: c.campaigns.update(campaign_id, body, _request_timeout=t),
                missing=("campaign", campaign_id),
            )
        if given.get("html") is not None:
            await self._set_html(campaign_id, given["html"])
        return await self.get_campaign(campaign_id)

    async def readiness(self, campaign_id: str) -> list[ReadinessIssue]:
        body = await self._call(
            lambda c, t: c.campaigns.get_send_checklist(campaign_id, _request_timeout=t),
            missing=("campaign", campaign_id),
        )
        return [
            ReadinessIssue(field=_checklist_field(item), problem=str(item.get("details") or item.get("heading")))
            for item in _items(body, "items")
            if item.get("type") == "error"
        ]

    async def send_test(self, campaign_id: str, emails: list[str]) -> None:
        body = {"test_emails": [_email(e) for e in emails], "send_type": "html"}
        await self._call(
            lambda c, t: c.campaigns.send_test_email(campaign_id, body, _request_timeout=t),
            missing=("campaign", campaign_id),
            idempotent=False,
            expect_body=False,
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

    # -- reports -------------------------------------------------------------------------------

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
        opens, clicks, bounces = raw.get("opens") or {}, raw.get("clicks") or {}, raw.get("bounces") or {}
        sent = int(raw.get("emails_sent") or 0)
        hard, soft = int(bounces.get("hard_bounces") or 0), int(bounces.get("soft_bounces") or 0)
        unique_opens = int(opens.get("unique_opens") or 0)
        human = opens.get("proxy_excluded_unique_opens")
        human_rate = opens.get("proxy_excluded_open_rate")
        return Report(
            campaign_id=campaign_id,
            subject=str(raw.get("subject_line") or "") or (variants[0].subject if variants else None),
            sent_at=_when(raw.get("send_time")),
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
                for u in _items(links, "urls_clicked")
            ],
            variants=variants,
        )

    # -- plumbing --------------------------------------------------------------------------------

    async def _campaign_raw(self, campaign_id: str) -> dict:
        return await self._call(
            lambda c, t: c.campaigns.get(campaign_id, _request_timeout=t), missing=("campaign", campaign_id)
        )

    async def content(self, campaign_id: str) -> str:
        body = await self._call(
            lambda c, t: c.campaigns.get_content(campaign_id, _request_timeout=t), missing=("campaign", campaign_id)
        )
        return str(body.get("html") or "")

    async def _set_html(self, campaign_id: str, html: str) -> None:
        await self._call(
            lambda c, t: c.campaigns.set_content(campaign_id, {"html": html}, _request_timeout=t),
            missing=("campaign", campaign_id),
        )

    async def _action(self, campaign_id: str, action: str, body: dict | None = None) -> None:
        methods = {"send": "send", "schedule": "schedule", "unschedule": "unschedule", "cancel-send": "cancel_send"}

        def call(c: Any, t: float) -> Any:
            method = getattr(c.campaigns, methods[action])
            return method(campaign_id, body, _request_timeout=t) if body else method(campaign_id, _request_timeout=t)

        await self._call(
            call,
            missing=("campaign", campaign_id),
            idempotent=False,
            expect_body=False,
            what=f"the {action} of campaign {campaign_id}",
        )

    def _sdk(self) -> Any:
        with self._client_lock:
            if self._client is None:
                assert self._factory is not None
                self._client = sdk_seam(self._factory())
            return self._client

    async def _call(
        self,
        fn: Callable[[Any, float], Any],
        *,
        missing: tuple[str, ...] | None = None,
        idempotent: bool = True,
        expect_body: bool = True,
        what: str = "",
    ) -> Any:
        """One SDK call in a connection slot, retried while it may be and the deadline allows.

        A 429 is always retried (Mailchimp refused before doing anything), and so is a request that
        never left; reads and idempotent writes also on 5xx and lost answers. A write that may have
        happened raises OutcomeUnknown instead.
        """
        with deadline_after(self._default_deadline, self._clock) as deadline:
            attempt = 0
            while True:
                attempt += 1
                try:
                    async with connection_slots(self.account):
                        return await blocking(
                            lambda timeout: self._run(fn, timeout, expect_body),
                            vendor=VENDOR,
                            translate=lambda exc: self._translate(exc, missing),
                        )
                except (RateLimited, UpstreamUnavailable) as exc:
                    refused = isinstance(exc, RateLimited)  # Mailchimp refused before doing anything
                    unsent = isinstance(exc, _Transport) and not exc.maybe_sent
                    # `idempotent` calls are reads or writes that are safe to repeat; the others never are.
                    if not may_send_again(
                        refused=refused, never_sent=unsent, write=not idempotent, idempotent=idempotent
                    ):
                        lost = OutcomeUnknown(
                            f"Mailchimp's answer to {what or 'a write'} was lost or garbled "
                            f"({exc.message.rstrip('.')}); it may or may not have happened.",
                            vendor=VENDOR,
                        )
                        lost.cause = exc.message.rstrip(".")
                        raise lost from None
                    # Waiting as told would outlast the call: the caller gets retry_after at once.
                    wait = self._retry.wait(attempt, deadline, exc.retry_after if refused else None)
                    if wait is None:
                        raise
                    log.info("Mailchimp: %s; retry %d in %.2f s", exc.message, attempt, wait)
                    await self._clock.sleep(wait)

    def _run(self, fn: Callable[[Any, float], Any], timeout: float, expect_body: bool) -> Any:
        """In the worker thread: the SDK call, with the answers it returns instead of raising made into errors."""
        import requests

        result = fn(self._sdk(), timeout)
        if isinstance(result, requests.Response):
            if not result.ok or expect_body or result.content.strip():
                raise _Answer(result.status_code, result.headers)
            return None
        if not isinstance(result, dict) and (expect_body or result is not None):
            raise _Answer(200)  # a body that is not a JSON object, where none or an object belongs
        return result

    def _translate(self, exc: Exception, missing: tuple[str, ...] | None) -> AdapterError:
        import requests
        from mailchimp_marketing.api_client import ApiClientError

        if isinstance(exc, ApiClientError):
            if exc.status_code is None:
                return _transport(exc.text)
            return self._by_status(
                int(exc.status_code), _problem(exc.text), missing, retry_after_seconds(getattr(exc, "headers", None))
            )
        if isinstance(exc, _Answer):
            if exc.status < 400:
                return UpstreamUnavailable(
                    f"Mailchimp answered HTTP {exc.status} with something that is not JSON.",
                    vendor=VENDOR,
                    status=exc.status,
                )
            return self._by_status(exc.status, {}, missing, retry_after_seconds(exc.headers))
        if isinstance(exc, requests.RequestException):
            return _transport(exc)
        log.error("the Mailchimp SDK failed", exc_info=exc)
        return AdapterError(
            f"The Mailchimp SDK failed ({type(exc).__name__}).",
            hint="This is a bug in the Mailchimp adapter; report it.",
            vendor=VENDOR,
        )

    def _by_status(
        self, status: int, problem: dict, missing: tuple[str, ...] | None, retry_after: float | None = None
    ) -> AdapterError:
        title, detail = str(problem.get("title") or ""), str(problem.get("detail") or "")
        errors = "; ".join(
            f"{e.get('field') or 'request'}: {e.get('message')}"
            for e in (problem.get("errors") or [])[:5]
            if isinstance(e, dict)
        )
        if errors and "'errors' array" in detail:
            detail = ""  # "see the 'errors' array": the fields below say it
        said = " ".join(filter(None, (detail or title or f"HTTP {status}", f"({errors})" if errors else "")))
        kwargs: dict[str, Any] = {"vendor": VENDOR, "status": status}
        cls = error_class(status)  # the map every vendor shares; the messages below are Mailchimp's
        if cls is AuthError:
            return AuthError(
                f"Mailchimp refused the credentials of account '{self.account}': {title or said}.",
                hint=self._auth_hint,
                **kwargs,
            )
        if cls is PermissionDenied:
            return PermissionDenied(f"Mailchimp: {said}", **kwargs)
        if cls is NotFound and missing is not None:
            kind, ref, *audience = missing
            where = f" in audience '{audience[0]}'" if audience else ""
            return NotFound(f"Mailchimp has no {kind} '{ref}'{where}.", hint=FIND_HINTS[kind], **kwargs)
        if cls is RateLimited and retry_after is not None:
            return RateLimited(
                f"Mailchimp is rate limiting account '{self.account}' and asks to wait {retry_after:.0f} s.",
                retry_after=retry_after,
                **kwargs,
            )
        if cls is RateLimited:
            return RateLimited(
                f"All {MAX_CONNECTIONS} simultaneous connections Mailchimp allows this account are in use.",
                hint="Other tools or scripts are using this Mailchimp account; try again in a few seconds.",
                **kwargs,
            )
        if cls is UpstreamUnavailable:
            return UpstreamUnavailable(f"Mailchimp failed (HTTP {status}): {said}", **kwargs)
        if cls is not InvalidRequest:  # NotFound, Conflict
            return cls(f"Mailchimp: {said}", **kwargs)
        if "looks fake or invalid" in detail:
            address = detail.split(" looks fake", 1)[0]
            return InvalidRequest(
                f"Mailchimp refuses {address}: it looks fake or invalid.",
                hint=f"Fix or remove the address {address}.",
                **kwargs,
            )
        if title == "Member Exists":
            return Conflict(f"Mailchimp: {said}", hint="Update the contact instead of adding it.", **kwargs)
        if title == "Member In Compliance State":
            return InvalidRequest(
                f"Mailchimp: {said}",
                hint="Mailchimp does not resubscribe people who unsubscribed "
                "or bounced; they have to sign up again themselves.",
                **kwargs,
            )
        if detail == NOT_READY:
            return InvalidRequest(
                f"Mailchimp: {said}", hint="Call readiness to see what is missing, fix it, then send.", **kwargs
            )
        return InvalidRequest(f"Mailchimp rejected the request: {said}", **kwargs)


# -- mapping -------------------------------------------------------------------------------------


class _Tally:
    """What an upsert did, contact by contact, and how many calls it took."""

    def __init__(self) -> None:
        self.created = self.updated = self.requests = self.batched = 0
        self.failed: dict[str, str] = {}

    async def count(self, call: Awaitable[T]) -> T:
        self.requests += 1
        return await call

    async def batch_done(self, contacts: int, total: int) -> None:
        """One batch answered; the await is where a cancelled upsert stops, with no batch half counted."""
        self.batched += contacts
        await progress(self.batched, total, f"{self.batched} of {total} contacts through Mailchimp's batch call")

    def fail(self, email: str, reason: str) -> None:
        self.failed.setdefault(email, reason)

    def result(self) -> UpsertResult:
        return UpsertResult(
            created=self.created,
            updated=self.updated,
            requests=self.requests,
            failed=[ContactError(email=e, reason=r) for e, r in self.failed.items()],
        )


async def _all(calls: list[Awaitable[Any]]) -> None:
    """Run every call (the connection slots pace them); after all are done, raise the first failure."""
    outcomes = await asyncio.gather(*calls, return_exceptions=True)
    for outcome in outcomes:
        if isinstance(outcome, BaseException):
            raise outcome


async def _none() -> None:
    return None


def _chunks(items: list[T], size: int) -> list[list[T]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def _member(contact: ContactUpsert) -> dict[str, Any]:
    member: dict[str, Any] = {"email_address": contact.email, "status": contact.status or "subscribed"}
    if contact.merge_fields:
        member["merge_fields"] = contact.merge_fields
    return member


def _transport(error: Any) -> _Transport:
    import requests

    if isinstance(error, requests.exceptions.ConnectTimeout) or (
        isinstance(error, requests.ConnectionError) and "refused" in str(error).lower()
    ):
        return _Transport(f"Mailchimp could not be reached ({type(error).__name__}).", maybe_sent=False)
    if isinstance(error, requests.Timeout):
        return _Transport("Mailchimp did not answer in time.", maybe_sent=True)
    return _Transport(f"The connection to Mailchimp broke ({type(error).__name__}).", maybe_sent=True)


def _doubt(lost: OutcomeUnknown, verb: str) -> str:
    return f"Mailchimp's answer to the {verb} was lost or garbled ({getattr(lost, 'cause', lost.message)})"


def _problem(text: Any) -> dict:
    """Mailchimp's problem document, whether the SDK parsed it or left it as text; {} for anything else."""
    if isinstance(text, dict):
        return text
    try:
        body = json.loads(text) if isinstance(text, (str, bytes)) else None
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _items(body: Any, key: str) -> list[dict]:
    items = body.get(key) if isinstance(body, dict) else None
    if not isinstance(items, list):
        raise UpstreamUnavailable(f"Mailchimp answered without the expected '{key}' list.", vendor=VENDOR)
    return [i for i in items if isinstance(i, dict)]


def _count(limit: int) -> int:
    return max(1, min(int(limit), PAGE_MAX))


def _next(offset: int, got: int, body: dict) -> str | None:
    total = body.get("total_items")
    end = offset + got
    return str(end) if got and isinstance(total, int) and end < total else None


def _email(value: str) -> str:
    try:
        return check_email(value)
    except ValueError as exc:
        raise InvalidRequest(str(exc), hint="Fix or remove the address.") from None


def _when(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None


def _fraction(percent: Any) -> float | None:
    return float(percent) / 100 if isinstance(percent, (int, float)) else None


def _audience(raw: dict, merge_fields: list[str] | None = None) -> Audience:
    stats, defaults = raw.get("stats") or {}, raw.get("campaign_defaults") or {}
    return Audience(
        id=str(raw.get("id")),
        name=str(raw.get("name") or ""),
        member_count=int(stats.get("member_count") or 0),
        unsubscribed_count=stats.get("unsubscribe_count"),
        from_name=defaults.get("from_name") or None,
        reply_to=defaults.get("from_email") or None,
        avg_open_rate=_fraction(stats.get("open_rate")),
        avg_click_rate=_fraction(stats.get("click_rate")),
        merge_fields=merge_fields or [],
    )


def _contact(raw: dict) -> Contact:
    fields = {
        k: v if v is None or isinstance(v, (str, int, float, bool)) else json.dumps(v)
        for k, v in (raw.get("merge_fields") or {}).items()
    }
    return Contact(
        email=str(raw.get("email_address")),
        id=str(raw.get("id")),
        status=MEMBER_STATUS.get(str(raw.get("status")), "unsubscribed"),
        merge_fields=fields,
        tags=[str(t.get("name")) for t in raw.get("tags") or [] if isinstance(t, dict)],
    )


def _segment(raw: dict) -> Segment:
    return Segment(
        id=str(raw.get("id")),
        name=str(raw.get("name") or ""),
        kind="static" if raw.get("type") == "static" else "dynamic",
        member_count=raw.get("member_count"),
    )


def _settings(given: dict) -> dict[str, Any]:
    names = {
        "subject": "subject_line",
        "preview_text": "preview_text",
        "name": "title",
        "from_name": "from_name",
        "reply_to": "reply_to",
    }
    return {wire: given[ours] or "" for ours, wire in names.items() if ours in given}


def _recipients(given: dict, clear_segment: bool = False) -> dict[str, Any]:
    recipients: dict[str, Any] = {"list_id": given["audience_id"]}
    if given.get("segment_id"):
        recipients["segment_opts"] = {
            "saved_segment_id": int(given["segment_id"]) if str(given["segment_id"]).isdigit() else given["segment_id"]
        }
    elif clear_segment:
        recipients["segment_opts"] = {"saved_segment_id": 0}
    return recipients


def _campaign(raw: dict, html: str | None) -> Campaign:
    settings, recipients = raw.get("settings") or {}, raw.get("recipients") or {}
    status = OUR_STATUS.get(str(raw.get("status")), "draft")
    send_time = _when(raw.get("send_time"))
    segment = (recipients.get("segment_opts") or {}).get("saved_segment_id")
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


def _ab_test(raw: dict) -> ABTest | None:
    vs = raw.get("variate_settings")
    if raw.get("type") != "variate" or not isinstance(vs, dict):
        return None
    subjects = [str(s) for s in vs.get("subject_lines") or []]
    winner = next(
        (
            _subject_of(c, subjects)
            for c in vs.get("combinations") or []
            if isinstance(c, dict) and c.get("id") and c.get("id") == vs.get("winning_combination_id")
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


def _subject_of(combination: dict, subjects: list[str]) -> str | None:
    index = combination.get("subject_line")
    return subjects[index] if isinstance(index, int) and 0 <= index < len(subjects) else None


def _variants(ab_split: dict, campaign: dict) -> list[VariantReport]:
    """Per subject line: the combinations give subject and recipients, ab_split (a, b, ...) the results."""
    vs = campaign.get("variate_settings") or {}
    subjects = [str(s) for s in vs.get("subject_lines") or []]
    out = []
    for letter, combination in zip("abcdefgh", vs.get("combinations") or []):
        group = ab_split.get(letter)
        if not isinstance(group, dict) or not isinstance(combination, dict):
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


def _checklist_field(item: dict) -> str:
    heading = str(item.get("heading") or "").strip()
    return CHECKLIST_FIELDS.get(heading.lower(), heading.lower().replace(" ", "_") or "campaign")
