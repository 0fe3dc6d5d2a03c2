"""The ESP operations on a Customer.io workspace (see the package's docstring for how they map)."""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import datetime, timezone
from email.utils import formataddr
from typing import Any
from urllib.parse import quote

from ...errors import InvalidRequest, NotFound, OutcomeUnknown, Unsupported
from ...json_values import JsonObject
from ...progress import progress
from ..base import (
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
    ReadinessIssue,
    Recipients,
    Report,
    Segment,
    SubscriptionStatus,
    UpsertResult,
    VariantReport,
)
from ..outcome import SEND, confirmed
from .payloads import (
    AUDIENCE_ID,
    BATCH_BYTES,
    CAPABILITIES,
    EVERYONE,
    HINT_CAMPAIGNS,
    ITEM_BYTES,
    LIST_PAGE,
    SEGMENT_CHUNK,
    SUBSCRIBED,
    UNSUBSCRIBED,
    VENDOR,
    check_ab,
    check_audience,
    checked_address,
    garbage,
    garbled,
    hinted,
    identify,
    items,
    member,
    newsletter_id,
    objects,
    to_campaign,
    to_contact,
    to_segment,
)
from .workspace import Workspace

log = logging.getLogger(__name__)


class CustomerIO(Workspace):
    """One Customer.io workspace: `app` is the App API service (Bearer key), `track` the Track API (Basic auth).

    `workspace` picks the workspace by name or ID when the account has several; its name names the audience.
    """

    vendor = "customerio"

    # -- account ----------------------------------------------------------------------------

    async def capabilities(self) -> frozenset[str]:
        return CAPABILITIES

    async def account_info(self) -> AccountInfo:
        return AccountInfo(
            vendor=self.vendor,
            account=(await self._workspace_info())["name"],
            capabilities=sorted(CAPABILITIES),
            notes=[
                f"The workspace's people are one audience, '{AUDIENCE_ID}'; campaigns are newsletters.",
                "A/B subject tests split every recipient evenly between the subject lines (test_size=100) and leave "
                "the winner to you (winner_criteria='manual'): the API cannot set a test share or pick a winner.",
                "Customer.io's API reports no state for an unsent newsletter: a scheduled one reads as a draft.",
                "No test sends and no tags through the API; use attributes (merge_fields) and segments instead.",
                "Hard and soft bounces are counted together (hard_bounces).",
            ],
        )

    # -- audiences --------------------------------------------------------------------------

    async def list_audiences(self, cursor: str | None, limit: int) -> AudiencePage:
        if cursor:
            return AudiencePage(items=[])
        space, (unsubscribed, _) = await asyncio.gather(
            self._workspace_info(fresh=True), self._search_count(UNSUBSCRIBED)
        )
        people = int(space.get("people") or 0)
        return AudiencePage(
            items=[
                Audience(
                    id=AUDIENCE_ID,
                    name=str(space.get("name") or ""),
                    member_count=max(0, people - unsubscribed),
                    unsubscribed_count=unsubscribed,
                )
            ]
        )

    async def get_audience(self, audience_id: str) -> Audience:
        check_audience(audience_id)
        audiences, senders, (opens, clicks), fields = await asyncio.gather(
            self.list_audiences(None, 1), self._sender_list(), self._history(), self._field_names()
        )
        sender = (senders or [{}])[0]
        return audiences.items[0].model_copy(
            update={
                "from_name": sender.get("name"),
                "reply_to": sender.get("email"),
                "avg_open_rate": opens,
                "avg_click_rate": clicks,
                "merge_fields": fields,
            }
        )

    # -- people -----------------------------------------------------------------------------

    async def list_contacts(
        self, audience_id: str, *, status: SubscriptionStatus | None, cursor: str | None, limit: int
    ) -> ContactPage:
        check_audience(audience_id)
        if status in ("pending", "cleaned"):
            return ContactPage(items=[], total=0)  # Customer.io people are subscribed or unsubscribed
        flt = {None: EVERYONE, "subscribed": {"and": [EVERYONE, SUBSCRIBED]}, "unsubscribed": UNSUBSCRIBED}[status]
        found = await self._search(flt, limit=max(1, min(limit, 100)), start=cursor)
        emails: list[str] = [i["email"] for i in objects(found, "identifiers") if i.get("email")]
        people = [to_contact(c) for c in await self._customers(emails)] if emails else []
        by_email = {p.email: p for p in people}
        return ContactPage(
            items=[by_email[e.lower()] for e in emails if e.lower() in by_email],
            next_cursor=str(found.get("next") or "") or None,
        )

    async def get_contact(self, audience_id: str, email: str) -> Contact:
        check_audience(audience_id)
        address = checked_address(email)
        try:
            raw = await self.app.get_json(
                f"customers/{quote(address, safe='@')}/attributes", params={"id_type": "email"}
            )
        except NotFound:
            raise NotFound(
                f"No person with the email {address} in the Customer.io workspace.",
                hint="Check the address, or add the person with upsert_contacts.",
                vendor=VENDOR,
            ) from None
        return to_contact(member(raw, "customer", "a person"))

    async def upsert_contacts(self, audience_id: str, contacts: list[ContactUpsert]) -> UpsertResult:
        """Identify people in Track v2 batches under 500 KB; existing people are looked up first (one people
        search per 500 addresses) so the result tells created from updated."""
        check_audience(audience_id)
        if any(c.tags for c in contacts):
            raise Unsupported(
                "Customer.io people have no tags.",
                hint='Put the value in an attribute (merge_fields={"plan": "pro"}) or a segment.',
            )
        latest = {c.email: c for c in contacts}  # one operation per person; the last one wins
        existing, requests = await self._existing(list(latest))
        failed: list[ContactError] = []
        batch: list[tuple[str, JsonObject]] = []
        size = sent = 0
        for email, contact in latest.items():
            item = identify(contact)
            item_size = len(json.dumps(item, separators=(",", ":")).encode())
            if item_size > ITEM_BYTES:
                failed.append(ContactError(email=email, reason="too large: each person's data must be 32 KB or less"))
                continue
            if batch and size + item_size + 1 > BATCH_BYTES:
                failed += await self._send_batch(batch)
                requests += 1
                sent += len(batch)
                # Between batches: where a cancelled upsert stops, with every batch so far answered.
                await progress(sent, len(latest), f"{sent} of {len(latest)} people identified")
                batch, size = [], 0
            batch.append((email, item))
            size += item_size + 1
        if batch:
            failed += await self._send_batch(batch)
            requests += 1
            await progress(len(latest), len(latest), f"{len(latest)} of {len(latest)} people identified")
        refused = {f.email for f in failed}
        done = [e for e in latest if e not in refused]
        return UpsertResult(
            created=sum(e not in existing for e in done),
            updated=sum(e in existing for e in done),
            failed=failed,
            requests=requests,
        )

    # -- segments ---------------------------------------------------------------------------

    async def list_segments(self, audience_id: str) -> list[Segment]:
        check_audience(audience_id)
        raw = await self.app.get_json("segments")
        return [to_segment(s) for s in objects(raw, "segments") if "id" in s]

    async def create_segment(self, audience_id: str, name: str, emails: list[str]) -> Segment:
        check_audience(audience_id)
        addresses = list(dict.fromkeys(checked_address(e) for e in emails))

        async def find_existing() -> JsonObject | None:
            # The lost create made an empty manual segment of this name.
            for s in sorted(
                items(await self.app.get_json("segments"), "segments"), key=lambda s: -int(s.get("id") or 0)
            ):
                if s.get("name") == name and s.get("type") == "manual" and not await self._count(s["id"]):
                    return {"segment": s}
            return None

        raw = await self.app.create("POST", "segments", json={"segment": {"name": name}}, find_existing=find_existing)
        seg = member(raw, "segment", "a segment")
        if "id" not in seg:
            raise garbage("a segment")
        for i in range(0, len(addresses), SEGMENT_CHUNK):
            # Adding someone twice changes nothing, so a lost response may be retried.
            await self.track.request(
                "POST",
                f"v1/segments/{int(seg['id'])}/add_customers",
                params={"id_type": "email"},
                json={"ids": addresses[i : i + SEGMENT_CHUNK]},
                idempotent=True,
            )
        return to_segment(seg).model_copy(update={"member_count": await self._count(seg["id"])})

    async def recipients(self, audience_id: str, segment_id: str | None) -> Recipients:
        check_audience(audience_id)
        seg = await self._segment_named(segment_id) if segment_id is not None else None
        name = (await self._workspace_info())["name"]
        target: JsonObject = {"segment": {"id": int(seg["id"])}} if seg else EVERYONE
        count, sample = await self._search_count({"and": [target, SUBSCRIBED]})
        return Recipients(
            audience_id=AUDIENCE_ID,
            audience_name=str(name),
            segment_id=segment_id,
            segment_name=seg.get("name") if seg else None,
            count=count,
            sample=sample,
        )

    # -- newsletters ------------------------------------------------------------------------

    async def list_campaigns(self, status: CampaignStatus | None, cursor: str | None, limit: int) -> CampaignPage:
        """Newest first; each newsletter's contents are read too (subject, sender, content), so pages are small."""
        params: dict[str, Any] = {"limit": max(1, min(limit, LIST_PAGE)), "sort": "desc"}
        if cursor:
            params["start"] = cursor
        raw = await self.app.get_json("newsletters", params=params)
        newsletters = [
            n
            for n in objects(raw, "newsletters")
            if "id" in n and (status is None or ("sent" if n.get("sent_at") else "draft") == status)
        ]
        contents = await asyncio.gather(*(self._contents_of(n) for n in newsletters))
        return CampaignPage(
            items=[to_campaign(n, c) for n, c in zip(newsletters, contents, strict=True)],
            next_cursor=str(raw.get("next") or "") or None,
        )

    async def get_campaign(self, campaign_id: str) -> Campaign:
        newsletter = await self._newsletter(newsletter_id(campaign_id))
        contents = await self._contents_of(newsletter)
        return to_campaign(newsletter, contents, await self._groups_of(newsletter, contents))

    async def create_campaign(self, fields: CampaignFields, ab_test: ABTest | None) -> Campaign:
        if fields.audience_id not in (None, AUDIENCE_ID):
            check_audience(fields.audience_id)
        if not fields.name:
            raise InvalidRequest("A Customer.io newsletter needs a name.", hint="Pass name.")
        check_ab(ab_test)
        subject = ab_test.subject_lines[0] if ab_test else fields.subject
        # Resolve everything that can be refused before the newsletter exists.
        recipients = (
            {"segment": {"id": int((await self._segment_named(fields.segment_id))["id"])}}
            if fields.segment_id is not None
            else EVERYONE
        )
        sender = await self._sender(name=None)
        reply_id = (await self._sender(email=fields.reply_to))["id"] if fields.reply_to else None
        payload: dict[str, Any] = {
            "name": fields.name,
            "type": "email",
            "recipients": recipients,
            "subject": subject or "",
            "body": fields.html or "",
        }
        if fields.preview_text:
            payload["preheader_text"] = fields.preview_text
        if fields.from_name:
            payload["from"] = formataddr((fields.from_name, sender["email"]))

        async def find_existing() -> JsonObject | None:
            # The lost create made an unsent newsletter of this name with this subject and body.
            raw = await self.app.get_json("newsletters", params={"limit": 20, "sort": "desc"})
            for n in objects(raw, "newsletters"):
                if n.get("name") == fields.name and not n.get("sent_at"):
                    first = (await self._contents(int(n["id"])) or [{}])[0]
                    same = (first.get("subject") or "", first.get("body") or "") == (
                        payload["subject"],
                        payload["body"],
                    )
                    return {"newsletter": n} if same else None
            return None

        raw = await self.app.create("POST", "newsletters", json=payload, find_existing=find_existing)
        newsletter = member(raw, "newsletter", "a newsletter")
        if "id" not in newsletter:
            raise garbage("a newsletter")
        nid = int(newsletter["id"])
        if reply_id is not None:
            for content in await self._contents(nid):
                await self._put_content(nid, content["id"], {"reply_to_id": reply_id})
        if ab_test:
            await self._subject_groups(nid, ab_test.subject_lines)
        return await self.get_campaign(str(nid))

    async def _subject_groups(self, nid: int, subjects: list[str]) -> None:
        """One test group per subject line: each new group copies the default content, then gets its subject."""
        groups = await self._test_groups(nid)
        while len(groups) < len(subjects):
            before = max(1, len(groups))
            try:
                await self.app.request("POST", f"newsletters/{nid}/test_groups", json={}, idempotent=False)
            except OutcomeUnknown:
                if len(await self._test_groups(nid)) <= before:  # it was not made: make it now
                    await self.app.request("POST", f"newsletters/{nid}/test_groups", json={}, idempotent=False)
            groups = await self._test_groups(nid)
        for group, subject in zip(groups[1:], subjects[1:], strict=False):
            content_ids: list[Any] = group.get("content_ids") or []
            for content_id in content_ids:
                await self._put_content(nid, content_id, {"subject": subject})

    async def update_campaign(self, campaign_id: str, fields: CampaignFields) -> Campaign:
        nid = newsletter_id(campaign_id)
        current = await self.get_campaign(campaign_id)
        given = {k: v for k, v in fields.given().items() if v != getattr(current, k, None)}
        fixed = sorted({"name", "audience_id", "segment_id"} & given.keys())
        if fixed:
            raise Unsupported(
                f"Customer.io's API cannot change a newsletter's {', '.join(fixed)}.",
                hint="Create a new campaign with the wanted name and recipients instead.",
            )
        if current.status == "sent":
            raise InvalidRequest(
                f"Newsletter {nid} was already sent; it cannot be changed.", hint="Create a new campaign instead."
            )
        change: dict[str, Any] = {}
        if "html" in given:
            change["body"] = given["html"] or ""
        if "preview_text" in given:
            change["preheader_text"] = given["preview_text"] or ""
        if given.get("from_name"):
            change["from_id"] = (await self._sender(name=given["from_name"]))["id"]
        if "reply_to" in given:
            change["reply_to_id"] = (await self._sender(email=given["reply_to"]))["id"] if given["reply_to"] else None
        contents = await self._contents(nid)
        for index, content in enumerate(contents):
            update = dict(change)
            if "subject" in given and index == 0:  # the default content; A/B groups keep their own subjects
                update["subject"] = given["subject"] or ""
            if update:
                await self._put_content(nid, content["id"], update)
        return await self.get_campaign(campaign_id)

    async def readiness(self, campaign_id: str) -> list[ReadinessIssue]:
        nid = newsletter_id(campaign_id)
        newsletter = await self._newsletter(nid)
        if newsletter.get("sent_at"):
            return [ReadinessIssue(field="status", problem=f"Newsletter {nid} was already sent.")]
        contents = await self._contents(nid)
        issues: list[ReadinessIssue] = []
        if not contents or any(not (c.get("subject") or "").strip() for c in contents):
            issues.append(ReadinessIssue(field="subject", problem="The newsletter has no subject line."))
        if not contents or any(not (c.get("body") or "").strip() for c in contents):
            issues.append(ReadinessIssue(field="content", problem="The newsletter has no content (HTML body)."))
        if contents and not all(c.get("from") or c.get("from_id") for c in contents):
            issues.append(ReadinessIssue(field="from_name", problem="The newsletter has no sender."))
        segments: list[Any] = newsletter.get("recipient_segment_ids") or []
        targets: list[JsonObject] = [{"segment": {"id": int(s)}} for s in segments] or [EVERYONE]
        found = await self._search({"and": [{"or": targets}, SUBSCRIBED]}, limit=1)
        if not found["identifiers"]:
            issues.append(ReadinessIssue(field="recipients", problem="No subscribed people would receive it."))
        return issues

    async def send_test(self, campaign_id: str, emails: list[str]) -> None:
        raise Unsupported(
            "Customer.io's API has no test send for newsletters.",
            hint="Send a test from the Customer.io UI, or send a copy to a small segment of your own addresses.",
        )

    async def schedule(self, campaign_id: str, when: datetime) -> Campaign:
        """Schedule; done only on a newsletter answer. Customer.io's API never shows a schedule, so a garbled
        answer is checked the one way there is: setting the same time again (harmless) must answer cleanly."""
        nid = newsletter_id(campaign_id)
        if when.tzinfo is None:
            raise InvalidRequest("The schedule time needs a time zone.", hint="Pass an ISO time with an offset.")
        at = int(when.timestamp())
        try:
            for attempt in range(2):
                # Setting the same time twice is harmless, so a lost response may be retried.
                answer = await self.app.request(
                    "POST", f"newsletters/{nid}/schedule", idempotent=True, json={"scheduled_at": at, "timezone": "UTC"}
                )
                if not garbled(answer):
                    break
                if attempt:
                    raise OutcomeUnknown(
                        f"Customer.io's answers to scheduling newsletter {nid} were not JSON, twice; it may or may "
                        f"not be scheduled for {when.isoformat()}.",
                        hint="Customer.io's API does not show schedules: check the newsletter in Customer.io's UI "
                        "before scheduling it again (cancel_campaign unschedules it).",
                        vendor=VENDOR,
                    )
                log.info("POST newsletters/%s/schedule: the answer was not JSON; setting the same time again", nid)
        except InvalidRequest as exc:
            if "future" in exc.message.lower():
                raise InvalidRequest(
                    f"{when.isoformat()} is in the past for Customer.io ({exc.message})",
                    hint="Pick a time in the future.",
                    vendor=VENDOR,
                    status=exc.status,
                ) from None
            raise
        campaign = await self.get_campaign(campaign_id)
        if campaign.status == "sent":
            raise InvalidRequest(
                f"Newsletter {nid} was already sent; it was not scheduled.",
                hint="Create a new campaign to send again.",
                vendor=VENDOR,
            )
        # Customer.io does not report the schedule back: say what was set.
        return campaign.model_copy(
            update={"status": "scheduled", "scheduled_for": datetime.fromtimestamp(at, timezone.utc)}
        )

    async def send(self, campaign_id: str) -> Campaign:
        """Send now; sent only when the newsletter reads back with a `sent_at`. A lost or garbled answer is
        never followed by a second send: an unsent newsletter is reported so (safe to send again)."""
        nid = newsletter_id(campaign_id)
        doubt = None
        with hinted(HINT_CAMPAIGNS):
            try:
                answer = await self.app.request("POST", f"newsletters/{nid}/send", json={}, idempotent=False)
                if garbled(answer):
                    doubt = "Customer.io's answer to the send was not JSON"
            except OutcomeUnknown as lost:
                doubt = f"Customer.io's answer to the send was lost ({lost.message.rstrip('.')})"
        return await confirmed(VENDOR, str(nid), SEND, lambda: self.get_campaign(campaign_id), doubt)

    async def cancel(self, campaign_id: str) -> Campaign:
        """Unschedule (back to draft). A newsletter that is already sending cannot be stopped through the API."""
        nid = newsletter_id(campaign_id)
        url, body = f"newsletters/{nid}/schedule", {"scheduled_at": 0}
        try:
            try:
                if garbled(await self.app.request("POST", url, json=body, idempotent=False)):
                    raise OutcomeUnknown("garbled")  # no state to read back: ask again, below
            except OutcomeUnknown:
                # A scheduled newsletter reads like a draft, so asking again is the check: a clean answer, or
                # "not currently scheduled" (the first request did it).
                try:
                    again = await self.app.request("POST", url, json=body, idempotent=False)
                except InvalidRequest as exc:
                    if "not currently scheduled" not in exc.message.lower():
                        raise
                else:
                    if garbled(again):
                        raise OutcomeUnknown(
                            f"Customer.io's answers to unscheduling newsletter {nid} were lost or garbled, twice; it "
                            "may still be scheduled.",
                            hint="Customer.io's API does not show schedules: check the newsletter in Customer.io's UI.",
                            vendor=VENDOR,
                        ) from None
        except InvalidRequest as exc:
            raise InvalidRequest(
                exc.message,
                hint="Only a scheduled newsletter can be canceled through Customer.io's "
                "API; one that is sending can be stopped only in its UI.",
                vendor=VENDOR,
                status=exc.status,
            ) from None
        return await self.get_campaign(campaign_id)

    async def report(self, campaign_id: str) -> Report:
        """The newsletter's metrics, each variant's and the link clicks, asked for at once."""
        nid = newsletter_id(campaign_id)
        newsletter = await self._newsletter(nid)
        contents = await self._contents_of(newsletter)
        campaign = to_campaign(newsletter, contents, await self._groups_of(newsletter, contents))
        variants_of = contents if len(contents) > 1 else []
        (m, links), per_variant = await asyncio.gather(
            asyncio.gather(self._metrics(f"newsletters/{nid}/metrics"), self._links(nid)),
            asyncio.gather(*(self._metrics(f"newsletters/{nid}/contents/{int(c['id'])}/metrics") for c in variants_of)),
        )
        delivered = m.get("delivered", 0)

        def rate(n: int) -> float:
            return n / delivered if delivered else 0.0

        variants: list[VariantReport] = []
        for content, v in zip(variants_of, per_variant, strict=True):
            base = v.get("delivered") or v.get("sent") or 0
            variants.append(
                VariantReport(
                    subject=content.get("subject") or "",
                    sent=v.get("sent", 0),
                    unique_opens=v.get("opened", 0),
                    unique_clicks=v.get("clicked", 0),
                    click_rate=v.get("clicked", 0) / base if base else 0.0,
                )
            )
        return Report(
            campaign_id=str(nid),
            subject=campaign.subject,
            sent_at=campaign.sent_at,
            emails_sent=m.get("sent", 0),
            delivered=delivered,
            hard_bounces=m.get("bounced", 0),
            unique_opens=m.get("opened", 0),
            open_rate=rate(m.get("opened", 0)),
            proxied_opens=m.get("prefetch_opened", 0),
            human_open_rate=rate(m.get("human_opened", 0)),
            unique_clicks=m.get("clicked", 0),
            click_rate=rate(m.get("clicked", 0)),
            unsubscribes=m.get("unsubscribed", 0),
            links=links,
            variants=variants,
        )

    # -- reading newsletters ----------------------------------------------------------------

    async def content(self, campaign_id: str) -> str:
        contents = await self._contents(newsletter_id(campaign_id))
        return str(contents[0].get("body") or "") if contents else ""
