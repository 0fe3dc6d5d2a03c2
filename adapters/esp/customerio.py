"""Customer.io through its App API (people, segments, newsletters, metrics) and Track API (writes to people).

How Customer.io maps onto the ESP models:
- the workspace's people are the one audience, `people`, named after the workspace;
- segments are Customer.io segments; `create_segment` makes a manual segment and adds the people;
- campaigns are newsletters (email only); a subject-line A/B test is a newsletter with test groups,
  one content per subject. The API cannot set a test share or pick a winner, so Customer.io splits
  every recipient evenly between the subjects and the winner is judged from the report;
- reports sum the newsletter's metric series; Customer.io separates machine (prefetch) opens and
  reports clicks per link, but counts hard and soft bounces together.

What the API cannot do, and is declared so: test sends (no endpoint), tags on people (use
attributes or segments), stopping a newsletter that is already sending, and telling a scheduled
newsletter from a draft (newsletters carry `sent_at` but no state; `schedule` returns the time it set).
"""

from __future__ import annotations

import asyncio
import json
import logging
from contextlib import contextmanager
from datetime import datetime, timezone
from email.utils import formataddr, parseaddr
from typing import Any, Iterator
from urllib.parse import quote

import httpx

from ..errors import AdapterError, InvalidRequest, NotFound, OutcomeUnknown, Unsupported, UpstreamUnavailable
from ..http import HttpService, error_body
from ..progress import progress
from .base import (
    CAP_AB_SUBJECT,
    CAP_CANCEL,
    CAP_LINK_CLICKS,
    CAP_MERGE_FIELDS,
    CAP_PROXY_OPENS,
    CAP_SCHEDULE,
    CAP_SEGMENTS,
    SAMPLE_RECIPIENTS,
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
from .outcome import SEND, confirmed

log = logging.getLogger(__name__)

VENDOR = "Customer.io"
AUDIENCE_ID = "people"
CAPABILITIES = frozenset(
    {CAP_SEGMENTS, CAP_MERGE_FIELDS, CAP_SCHEDULE, CAP_CANCEL, CAP_AB_SUBJECT, CAP_PROXY_OPENS, CAP_LINK_CLICKS}
)
BATCH_BYTES = 450_000  # Track v2 batches must be under 500 KB; room for the envelope
ITEM_BYTES = 32 * 1024  # and each operation in them 32 KB or less
LOOKUP_CHUNK = 500  # addresses looked up per people search
SEGMENT_CHUNK = 1000  # people added to a manual segment per request
SEARCH_PAGE = 1000  # the people search's largest page
LIST_PAGE = 20  # newsletters per page of list_campaigns (each costs a read of its contents)
COUNT_PAGES = 50  # pages read to count recipients, so one call stays bounded (50,000 people)
HISTORY = 5  # sent newsletters averaged for an audience's history
METRICS_WINDOW = {"period": "months", "steps": 121, "type": "email"}  # the longest window: the whole newsletter
# Attributes that identify a person or belong to Customer.io, not merge fields.
_SYSTEM_ATTRIBUTES = frozenset({"id", "email", "cio_id", "created_at", "unsubscribed", "cio_subscription_preferences"})

HINT_AUDIENCE = f"Customer.io has one audience per workspace: pass audience_id='{AUDIENCE_ID}' or leave it out."
HINT_CAMPAIGNS = "Call list_campaigns to get a valid newsletter ID."
HINT_SEGMENTS = "Call list_segments to get a valid segment ID."
HINT_SENDERS = "Use a sender identity that exists in Customer.io (Settings > Sender identities), or leave it out."

EVERYONE = {"attribute": {"field": "email", "operator": "exists"}}
SUBSCRIBED = {"not": {"attribute": {"field": "unsubscribed", "operator": "eq", "value": "true"}}}
UNSUBSCRIBED = {"attribute": {"field": "unsubscribed", "operator": "eq", "value": "true"}}


def parse_customerio_error(response: httpx.Response) -> tuple[str, str]:
    """Customer.io's error bodies: `{"meta": {"error"}}`, `{"meta": {"errors": [...]}}` (App and Track v1),
    `{"errors": [{"detail"}]}` (newsletters) and `{"errors": [{"reason", "field", "message"}]}` (Track v2)."""
    body = error_body(response)
    meta = body.get("meta")
    if isinstance(meta, dict):
        if meta.get("error"):
            return "", str(meta["error"])
        if isinstance(meta.get("errors"), list):
            return "", "; ".join(str(e) for e in meta["errors"][:5])
    errors = body.get("errors")
    if not isinstance(errors, list):
        return "", ""
    code, parts = "", []
    for item in errors[:5]:
        if isinstance(item, dict):
            code = code or str(item.get("reason") or "")
            text = item.get("detail") or item.get("message") or item.get("reason") or ""
            parts.append(f"{item['field']}: {text}" if item.get("field") and text else str(text))
        elif item:
            parts.append(str(item))
    return code[:80], "; ".join(p for p in parts if p)


def classify_customerio_error(status: int, code: str) -> type[AdapterError] | None:
    return NotFound if code.lower() in ("not_found", "notfound") else None


class CustomerIO:
    """One Customer.io workspace: `app` is the App API service (Bearer key), `track` the Track API (Basic auth).

    `workspace` picks the workspace by name or ID when the account has several; its name names the audience.
    """

    vendor = "customerio"

    def __init__(self, app: HttpService, track: HttpService, workspace: str | None = None):
        self.app = app
        self.track = track
        self.workspace = workspace
        self._workspace: dict | None = None
        self._senders: list[dict] | None = None

    async def aclose(self) -> None:
        await self.app.aclose()
        await self.track.aclose()

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
                "A/B subject tests split every recipient evenly between the subject lines (test_size=100) and leave the "
                "winner to you (winner_criteria='manual'): the API cannot set a test share or pick a winner.",
                "Customer.io's API reports no state for an unsent newsletter: a scheduled one reads as a draft.",
                "No test sends and no tags through the API; use attributes (merge_fields) and segments instead.",
                "Hard and soft bounces are counted together (hard_bounces).",
            ],
        )

    async def _workspace_info(self, fresh: bool = False) -> dict:
        if self._workspace is None or fresh:
            raw = await self.app.get_json("workspaces")
            spaces = [w for w in _list(raw, "workspaces") if isinstance(w, dict)]
            if self.workspace:
                wanted = self.workspace.strip().lower()
                spaces = [w for w in spaces if wanted in (str(w.get("id")), str(w.get("name", "")).lower())]
            if not spaces:
                raise NotFound(
                    f"No Customer.io workspace named '{self.workspace}' is reachable with this App API key.",
                    hint="Set the workspace name in mcp.json to one of the account's workspaces.",
                    vendor=VENDOR,
                )
            self._workspace = spaces[0]
        return self._workspace

    # -- audiences --------------------------------------------------------------------------

    async def list_audiences(self, cursor: str | None, limit: int) -> AudiencePage:
        if cursor:
            return AudiencePage(items=[])
        space = await self._workspace_info(fresh=True)
        unsubscribed = (await self._search_count(UNSUBSCRIBED))[0]
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
        _check_audience(audience_id)
        audience = (await self.list_audiences(None, 1)).items[0]
        sender = (await self._sender_list() or [{}])[0]
        opens, clicks = await self._history()
        return audience.model_copy(
            update={
                "from_name": sender.get("name"),
                "reply_to": sender.get("email"),
                "avg_open_rate": opens,
                "avg_click_rate": clicks,
                "merge_fields": await self._field_names(),
            }
        )

    async def _history(self) -> tuple[float | None, float | None]:
        """Average open and click rates of the latest sent newsletters."""
        raw = await self.app.get_json("newsletters", params={"limit": 50, "sort": "desc"})
        sent = [n for n in _list(raw, "newsletters") if isinstance(n, dict) and n.get("sent_at")][:HISTORY]
        rates = []
        for n in sent:
            m = await self._metrics(f"newsletters/{int(n['id'])}/metrics")
            if m.get("delivered"):
                rates.append((m.get("opened", 0) / m["delivered"], m.get("clicked", 0) / m["delivered"]))
        if not rates:
            return None, None
        return sum(o for o, _ in rates) / len(rates), sum(c for _, c in rates) / len(rates)

    async def _field_names(self) -> list[str]:
        """Attribute names, as one person carries them (Customer.io has no list of people attributes)."""
        found = await self._search(EVERYONE, limit=1)
        ids = _list(found, "identifiers")
        if not ids or not isinstance(ids[0], dict) or not ids[0].get("email"):
            return []
        customers = await self._customers([ids[0]["email"]])
        return sorted(_contact(customers[0]).merge_fields) if customers else []

    # -- people -----------------------------------------------------------------------------

    async def list_contacts(
        self, audience_id: str, *, status: SubscriptionStatus | None, cursor: str | None, limit: int
    ) -> ContactPage:
        _check_audience(audience_id)
        if status in ("pending", "cleaned"):
            return ContactPage(items=[], total=0)  # Customer.io people are subscribed or unsubscribed
        flt = {None: EVERYONE, "subscribed": {"and": [EVERYONE, SUBSCRIBED]}, "unsubscribed": UNSUBSCRIBED}[status]
        found = await self._search(flt, limit=max(1, min(limit, 100)), start=cursor)
        emails = [i["email"] for i in _list(found, "identifiers") if isinstance(i, dict) and i.get("email")]
        people = [_contact(c) for c in await self._customers(emails)] if emails else []
        by_email = {p.email: p for p in people}
        return ContactPage(
            items=[by_email[e.lower()] for e in emails if e.lower() in by_email],
            next_cursor=str(found.get("next") or "") or None,
        )

    async def get_contact(self, audience_id: str, email: str) -> Contact:
        _check_audience(audience_id)
        address = _address(email)
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
        customer = raw.get("customer") if isinstance(raw, dict) else None
        if not isinstance(customer, dict):
            raise _garbage("a person")
        return _contact(customer)

    async def upsert_contacts(self, audience_id: str, contacts: list[ContactUpsert]) -> UpsertResult:
        """Identify people in Track v2 batches under 500 KB; existing people are looked up first (one people
        search per 500 addresses) so the result tells created from updated."""
        _check_audience(audience_id)
        if any(c.tags for c in contacts):
            raise Unsupported(
                "Customer.io people have no tags.",
                hint='Put the value in an attribute (merge_fields={"plan": "pro"}) or a segment.',
            )
        latest = {c.email: c for c in contacts}  # one operation per person; the last one wins
        existing, requests = await self._existing(list(latest))
        failed: list[ContactError] = []
        batch: list[tuple[str, dict]] = []
        size = sent = 0
        for email, contact in latest.items():
            item = _identify(contact)
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

    async def _existing(self, emails: list[str]) -> tuple[set[str], int]:
        """The addresses that already belong to people, and the requests it took."""
        found: set[str] = set()
        requests = 0
        for i in range(0, len(emails), LOOKUP_CHUNK):
            chunk = emails[i : i + LOOKUP_CHUNK]
            raw = await self._search(
                {"or": [{"attribute": {"field": "email", "operator": "eq", "value": e}} for e in chunk]},
                limit=SEARCH_PAGE,
            )
            requests += 1
            found |= {
                str(p["email"]).lower() for p in _list(raw, "identifiers") if isinstance(p, dict) and p.get("email")
            }
        return found, requests

    async def _send_batch(self, batch: list[tuple[str, dict]]) -> list[ContactError]:
        # Identifying is setting values, so a batch whose response was lost may be sent again.
        response = await self.track.request(
            "POST", "v2/batch", json={"batch": [item for _, item in batch]}, idempotent=True
        )
        if response.status_code != 207:
            return []
        failed = []
        for err in _list(self.track.json(response), "errors"):
            index = err.get("batch_index") if isinstance(err, dict) else None
            if isinstance(index, int) and 0 <= index < len(batch):
                reason = ": ".join(str(err[k]) for k in ("reason", "message") if err.get(k)) or "refused"
                failed.append(ContactError(email=batch[index][0], reason=reason))
        return failed

    async def _customers(self, emails: list[str]) -> list[dict]:
        """People with their attributes, up to 100 addresses per request."""
        out: list[dict] = []
        for i in range(0, len(emails), 100):
            raw = await self.app.request(
                "POST",
                "customers/attributes",
                params={"id_type": "email"},
                json={"ids": emails[i : i + 100]},
                idempotent=True,
            )
            out += [
                c["customer"]
                for c in _list(self.app.json(raw), "customers")
                if isinstance(c, dict) and isinstance(c.get("customer"), dict)
            ]
        return out

    async def _search(self, flt: dict, *, limit: int, start: str | None = None) -> dict:
        params: dict[str, Any] = {"limit": limit}
        if start:
            params["start"] = start
        # Searching changes nothing, so a lost answer may be asked for again.
        raw = self.app.json(
            await self.app.request("POST", "customers", params=params, json={"filter": flt}, idempotent=True)
        )
        if not isinstance(raw, dict) or not isinstance(raw.get("identifiers"), list):
            raise _garbage("a people search")
        return raw

    async def _search_count(self, flt: dict) -> tuple[int, list[str]]:
        """How many people match, and the first addresses (at most COUNT_PAGES pages are read)."""
        count, sample, start = 0, [], None
        for _ in range(COUNT_PAGES):
            page = await self._search(flt, limit=SEARCH_PAGE, start=start)
            people = _list(page, "identifiers")
            count += len(people)
            sample += [
                str(p["email"])
                for p in people[: SAMPLE_RECIPIENTS - len(sample)]
                if isinstance(p, dict) and p.get("email")
            ]
            start = page.get("next")
            if not start or not people:
                break
        return count, sample

    # -- segments ---------------------------------------------------------------------------

    async def list_segments(self, audience_id: str) -> list[Segment]:
        _check_audience(audience_id)
        raw = await self.app.get_json("segments")
        return [_segment(s) for s in _list(raw, "segments") if isinstance(s, dict) and "id" in s]

    async def create_segment(self, audience_id: str, name: str, emails: list[str]) -> Segment:
        _check_audience(audience_id)
        addresses = list(dict.fromkeys(_address(e) for e in emails))

        async def find_existing() -> dict | None:
            # The lost create made an empty manual segment of this name.
            for s in sorted(
                _list(await self.app.get_json("segments"), "segments"), key=lambda s: -int(s.get("id") or 0)
            ):
                if s.get("name") == name and s.get("type") == "manual" and not await self._count(s["id"]):
                    return {"segment": s}
            return None

        raw = await self.app.create("POST", "segments", json={"segment": {"name": name}}, find_existing=find_existing)
        seg = raw.get("segment") if isinstance(raw, dict) else None
        if not isinstance(seg, dict) or "id" not in seg:
            raise _garbage("a segment")
        for i in range(0, len(addresses), SEGMENT_CHUNK):
            # Adding someone twice changes nothing, so a lost response may be retried.
            await self.track.request(
                "POST",
                f"v1/segments/{int(seg['id'])}/add_customers",
                params={"id_type": "email"},
                json={"ids": addresses[i : i + SEGMENT_CHUNK]},
                idempotent=True,
            )
        return _segment(seg).model_copy(update={"member_count": await self._count(seg["id"])})

    async def _count(self, segment_id: Any) -> int:
        raw = await self.app.get_json(f"segments/{int(segment_id)}/customer_count")
        return int(raw.get("count") or 0) if isinstance(raw, dict) else 0

    async def _segment_named(self, segment_id: str) -> dict:
        if not str(segment_id).isdigit():
            raise NotFound(f"'{segment_id}' is not a Customer.io segment ID.", hint=HINT_SEGMENTS, vendor=VENDOR)
        with _hinted(HINT_SEGMENTS):
            raw = await self.app.get_json(f"segments/{int(segment_id)}")
        seg = raw.get("segment") if isinstance(raw, dict) else None
        if not isinstance(seg, dict):
            raise _garbage("a segment")
        return seg

    async def recipients(self, audience_id: str, segment_id: str | None) -> Recipients:
        _check_audience(audience_id)
        seg = await self._segment_named(segment_id) if segment_id is not None else None
        name = (await self._workspace_info())["name"]
        target = {"segment": {"id": int(seg["id"])}} if seg else EVERYONE
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
            for n in _list(raw, "newsletters")
            if isinstance(n, dict)
            and "id" in n
            and (status is None or ("sent" if n.get("sent_at") else "draft") == status)
        ]
        contents = await asyncio.gather(*(self._contents(int(n["id"])) for n in newsletters))
        return CampaignPage(
            items=[_campaign(n, c) for n, c in zip(newsletters, contents)],
            next_cursor=str(raw.get("next") or "") or None,
        )

    async def get_campaign(self, campaign_id: str) -> Campaign:
        nid = _nid(campaign_id)
        newsletter, contents = await self._newsletter(nid), await self._contents(nid)
        groups = await self._test_groups(nid) if len(contents) > 1 else []
        return _campaign(newsletter, contents, groups)

    async def create_campaign(self, fields: CampaignFields, ab_test: ABTest | None) -> Campaign:
        if fields.audience_id not in (None, AUDIENCE_ID):
            _check_audience(fields.audience_id)
        if not fields.name:
            raise InvalidRequest("A Customer.io newsletter needs a name.", hint="Pass name.")
        _check_ab(ab_test)
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

        async def find_existing() -> dict | None:
            # The lost create made an unsent newsletter of this name with this subject and body.
            raw = await self.app.get_json("newsletters", params={"limit": 20, "sort": "desc"})
            for n in _list(raw, "newsletters"):
                if isinstance(n, dict) and n.get("name") == fields.name and not n.get("sent_at"):
                    first = (await self._contents(int(n["id"])) or [{}])[0]
                    same = (first.get("subject") or "", first.get("body") or "") == (
                        payload["subject"],
                        payload["body"],
                    )
                    return {"newsletter": n} if same else None
            return None

        raw = await self.app.create("POST", "newsletters", json=payload, find_existing=find_existing)
        newsletter = raw.get("newsletter") if isinstance(raw, dict) else None
        if not isinstance(newsletter, dict) or "id" not in newsletter:
            raise _garbage("a newsletter")
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
        for group, subject in zip(groups[1:], subjects[1:]):
            for content_id in group.get("content_ids") or []:
                await self._put_content(nid, content_id, {"subject": subject})

    async def update_campaign(self, campaign_id: str, fields: CampaignFields) -> Campaign:
        nid = _nid(campaign_id)
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
        nid = _nid(campaign_id)
        newsletter, contents = await self._newsletter(nid), await self._contents(nid)
        if newsletter.get("sent_at"):
            return [ReadinessIssue(field="status", problem=f"Newsletter {nid} was already sent.")]
        issues = []
        if not contents or any(not (c.get("subject") or "").strip() for c in contents):
            issues.append(ReadinessIssue(field="subject", problem="The newsletter has no subject line."))
        if not contents or any(not (c.get("body") or "").strip() for c in contents):
            issues.append(ReadinessIssue(field="content", problem="The newsletter has no content (HTML body)."))
        if contents and not all(c.get("from") or c.get("from_id") for c in contents):
            issues.append(ReadinessIssue(field="from_name", problem="The newsletter has no sender."))
        segments = newsletter.get("recipient_segment_ids") or []
        targets = [{"segment": {"id": int(s)}} for s in segments] or [EVERYONE]
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
        nid = _nid(campaign_id)
        if when.tzinfo is None:
            raise InvalidRequest("The schedule time needs a time zone.", hint="Pass an ISO time with an offset.")
        at = int(when.timestamp())
        try:
            for attempt in range(2):
                # Setting the same time twice is harmless, so a lost response may be retried.
                answer = await self.app.request(
                    "POST", f"newsletters/{nid}/schedule", idempotent=True, json={"scheduled_at": at, "timezone": "UTC"}
                )
                if not _garbled(answer):
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
        nid = _nid(campaign_id)
        doubt = None
        with _hinted(HINT_CAMPAIGNS):
            try:
                answer = await self.app.request("POST", f"newsletters/{nid}/send", json={}, idempotent=False)
                if _garbled(answer):
                    doubt = "Customer.io's answer to the send was not JSON"
            except OutcomeUnknown as lost:
                doubt = f"Customer.io's answer to the send was lost ({lost.message.rstrip('.')})"
        return await confirmed(VENDOR, str(nid), SEND, lambda: self.get_campaign(campaign_id), doubt)

    async def cancel(self, campaign_id: str) -> Campaign:
        """Unschedule (back to draft). A newsletter that is already sending cannot be stopped through the API."""
        nid = _nid(campaign_id)
        url, body = f"newsletters/{nid}/schedule", {"scheduled_at": 0}
        try:
            try:
                if _garbled(await self.app.request("POST", url, json=body, idempotent=False)):
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
                    if _garbled(again):
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
        nid = _nid(campaign_id)
        newsletter, contents = await self._newsletter(nid), await self._contents(nid)
        campaign = _campaign(newsletter, contents, await self._test_groups(nid) if len(contents) > 1 else [])
        m = await self._metrics(f"newsletters/{nid}/metrics")
        delivered = m.get("delivered", 0)
        rate = lambda n: n / delivered if delivered else 0.0
        variants = []
        if len(contents) > 1:
            for content in contents:
                v = await self._metrics(f"newsletters/{nid}/contents/{int(content['id'])}/metrics")
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
            links=await self._links(nid),
            variants=variants,
        )

    async def _metrics(self, path: str) -> dict[str, int]:
        """A metric object's series, summed over the longest window."""
        with _hinted(HINT_CAMPAIGNS):
            raw = await self.app.get_json(path, params=METRICS_WINDOW)
        series = (raw.get("metric") or {}).get("series") if isinstance(raw, dict) else None
        if not isinstance(series, dict):
            raise _garbage("newsletter metrics")
        return {k: sum(x for x in v if isinstance(x, int)) for k, v in series.items() if isinstance(v, list)}

    async def _links(self, nid: int) -> list[LinkClicks]:
        counts: dict[str, list[int]] = {}
        for index, unique in enumerate(("false", "true")):
            raw = await self.app.get_json(
                f"newsletters/{nid}/metrics/links", params={**METRICS_WINDOW, "unique": unique}
            )
            for entry in _list(raw, "links"):
                href = ((entry or {}).get("link") or {}).get("href")
                clicked = (((entry or {}).get("metric") or {}).get("series") or {}).get("clicked") or []
                if href:
                    counts.setdefault(href, [0, 0])[index] += sum(x for x in clicked if isinstance(x, int))
        return sorted(
            (LinkClicks(url=u, total_clicks=t, unique_clicks=q) for u, (t, q) in counts.items()),
            key=lambda link: -link.total_clicks,
        )

    # -- reading newsletters ----------------------------------------------------------------

    async def _newsletter(self, nid: int) -> dict:
        with _hinted(HINT_CAMPAIGNS):
            raw = await self.app.get_json(f"newsletters/{nid}")
        newsletter = raw.get("newsletter") if isinstance(raw, dict) else None
        if not isinstance(newsletter, dict) or "id" not in newsletter:
            raise _garbage("a newsletter")
        return newsletter

    async def content(self, campaign_id: str) -> str:
        contents = await self._contents(_nid(campaign_id))
        return str(contents[0].get("body") or "") if contents else ""

    async def _contents(self, nid: int) -> list[dict]:
        with _hinted(HINT_CAMPAIGNS):
            raw = await self.app.get_json(f"newsletters/{nid}/contents")
        return [c for c in _list(raw, "contents") if isinstance(c, dict) and "id" in c]

    async def _test_groups(self, nid: int) -> list[dict]:
        with _hinted(HINT_CAMPAIGNS):
            raw = await self.app.get_json(f"newsletters/{nid}/test_groups")
        return [g for g in _list(raw, "test_groups") if isinstance(g, dict)]

    async def _put_content(self, nid: int, content_id: Any, body: dict) -> None:
        # Setting fields to values is idempotent, so a lost response may be retried.
        with _hinted(HINT_CAMPAIGNS):
            await self.app.request("PUT", f"newsletters/{nid}/contents/{int(content_id)}", json=body)

    async def _sender_list(self) -> list[dict]:
        if self._senders is None:
            raw = await self.app.get_json("sender_identities")
            self._senders = [
                s
                for s in _list(raw, "sender_identities")
                if isinstance(s, dict) and s.get("template_type", "email") == "email" and s.get("email")
            ]
        return self._senders

    async def _sender(self, *, name: str | None = None, email: str | None = None) -> dict:
        """The sender identity with this name or address; the first (oldest) one when neither is given."""
        senders = await self._sender_list()
        match = [
            s
            for s in senders
            if (name is None or s.get("name") == name)
            and (email is None or str(s.get("email", "")).lower() == email.lower())
        ]
        if not match:
            known = ", ".join(str(s.get("address") or s.get("email")) for s in senders) or "none"
            what = f"named '{name}'" if name else f"with the address {email}" if email else "at all"
            raise InvalidRequest(
                f"Customer.io has no sender identity {what} (known: {known}).", hint=HINT_SENDERS, vendor=VENDOR
            )
        return match[0]


# -- mapping ----------------------------------------------------------------------------------


def _list(raw: Any, key: str) -> list:
    value = raw.get(key) if isinstance(raw, dict) else None
    if not isinstance(value, list):
        raise _garbage(f"a list of {key}")
    return value


def _garbled(response: httpx.Response) -> bool:
    """Whether an answer has a body that is not JSON: a 2xx that proves nothing."""
    if not response.content.strip():
        return False
    try:
        response.json()
    except ValueError:
        return True
    return False


def _garbage(what: str) -> UpstreamUnavailable:
    return UpstreamUnavailable(f"Customer.io answered with something that is not {what}.", vendor=VENDOR)


def _check_audience(audience_id: str) -> None:
    if audience_id != AUDIENCE_ID:
        raise NotFound(f"Customer.io has no audience '{audience_id}'.", hint=HINT_AUDIENCE, vendor=VENDOR)


def _check_ab(ab: ABTest | None) -> None:
    if ab is not None and (ab.test_size != 100 or ab.winner_criteria != "manual"):
        raise Unsupported(
            "Customer.io's API splits every recipient evenly between the subject lines and cannot pick "
            "a winner or test on a share of the audience.",
            hint="Pass test_size=100 and winner_criteria='manual', then compare the variants in the report.",
        )


def _nid(campaign_id: str) -> int:
    if not str(campaign_id).isdigit():
        raise NotFound(f"'{campaign_id}' is not a Customer.io newsletter ID.", hint=HINT_CAMPAIGNS, vendor=VENDOR)
    return int(campaign_id)


def _address(email: str) -> str:
    try:
        return check_email(email)
    except ValueError as exc:
        raise InvalidRequest(str(exc), hint=f"Fix the address {email.strip()[:80]!r}.", vendor=VENDOR) from None


@contextmanager
def _hinted(hint: str) -> Iterator[None]:
    """Give a vendor 404 the hint that says how to find a valid ID."""
    try:
        yield
    except NotFound as exc:
        raise NotFound(exc.message, hint=hint, vendor=exc.vendor, status=exc.status) from None


def _when(value: Any) -> datetime | None:
    return datetime.fromtimestamp(value, timezone.utc) if isinstance(value, (int, float)) and value else None


def _truthy(value: Any) -> bool:
    return value is True or str(value).strip().lower() in ("true", "1")


def _identify(contact: ContactUpsert) -> dict:
    attributes: dict[str, Any] = dict(contact.merge_fields)
    if contact.status is not None:
        attributes["unsubscribed"] = contact.status == "unsubscribed"
    return {"type": "person", "identifiers": {"email": contact.email}, "action": "identify", "attributes": attributes}


def _contact(customer: dict) -> Contact:
    attrs = customer.get("attributes") if isinstance(customer.get("attributes"), dict) else {}
    ids = customer.get("identifiers") if isinstance(customer.get("identifiers"), dict) else {}
    unsubscribed = customer.get("unsubscribed") is True or _truthy(attrs.get("unsubscribed"))
    return Contact(
        email=str(ids.get("email") or attrs.get("email") or "").lower(),
        id=str(ids.get("id") or customer.get("id") or ids.get("cio_id") or ""),
        status="unsubscribed" if unsubscribed else "subscribed",
        merge_fields={
            k: v
            for k, v in attrs.items()
            if k not in _SYSTEM_ATTRIBUTES and not k.startswith("_") and isinstance(v, (str, int, float, bool))
        },
    )


def _segment(raw: dict) -> Segment:
    return Segment(
        id=str(raw["id"]), name=str(raw.get("name") or ""), kind="static" if raw.get("type") == "manual" else "dynamic"
    )


def _campaign(newsletter: dict, contents: list[dict] | None = None, groups: list[dict] | None = None) -> Campaign:
    contents = contents or []
    by_id = {int(c["id"]): c for c in contents}
    # A/B groups in their order; a group names its contents by ID.
    ordered = [
        by_id[int(cid)]
        for g in groups or []
        for cid in (g.get("content_ids") or [])[:1]
        if str(cid).isdigit() and int(cid) in by_id
    ] or contents
    first = ordered[0] if ordered else {}
    segments = newsletter.get("recipient_segment_ids") or []
    ab = None
    if len(ordered) > 1:
        subjects = [c.get("subject") or "" for c in ordered]
        winner = next((subjects[i] for i, g in enumerate(groups or []) if g.get("winner") and i < len(subjects)), None)
        # Built unchecked: a group fresh from the copy can still have an empty subject.
        ab = ABTest.model_construct(
            subject_lines=subjects, test_size=100, winner_criteria="manual", wait_hours=4, winner=winner
        )
    sent_at = _when(newsletter.get("sent_at"))
    return Campaign(
        id=str(newsletter["id"]),
        name=str(newsletter.get("name") or ""),
        status="sent" if sent_at else "draft",
        audience_id=AUDIENCE_ID,
        segment_id=str(segments[0]) if len(segments) == 1 else None,
        subject=first.get("subject") or None,
        preview_text=first.get("preheader_text") or None,
        from_name=parseaddr(str(first.get("from") or ""))[0] or None,
        reply_to=first.get("reply_to") or None,
        has_content=any((c.get("body") or "").strip() for c in contents),
        sent_at=sent_at,
        ab_test=ab,
    )
