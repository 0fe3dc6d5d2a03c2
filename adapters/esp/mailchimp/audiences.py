"""Mailchimp audiences (lists), their members, merge fields and segments, and who a campaign would reach.

A member's ID is the MD5 of its lowercase address; a batch subscribe takes 500 members, answers 200
and lists each member it refused.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from typing import Any, Awaitable, TypeVar

from ...cursors import number_cursor
from ...errors import AdapterError, AuthError, InvalidRequest, NotFound, PermissionDenied
from ...json_values import JsonObject, is_object
from ...progress import progress
from ..base import (
    SAMPLE_RECIPIENTS,
    UPSERT_MAX,
    Audience,
    AudiencePage,
    Contact,
    ContactError,
    ContactPage,
    ContactUpsert,
    Recipients,
    Segment,
    SubscriptionStatus,
    UpsertResult,
)
from .transport import MailchimpTransport
from .wire import PAGE_MAX, VENDOR, checked_email, fraction, items, next_cursor, page_size

T = TypeVar("T")

BATCH_SIZE = 500  # members per batch subscribe
# Members Mailchimp keeps for transactional mail only, or archived, receive no campaigns.
MEMBER_STATUS: dict[str, SubscriptionStatus] = {
    "subscribed": "subscribed",
    "unsubscribed": "unsubscribed",
    "pending": "pending",
    "cleaned": "cleaned",
    "transactional": "unsubscribed",
    "archived": "unsubscribed",
}


def subscriber_hash(email: str) -> str:
    return hashlib.md5(email.strip().lower().encode()).hexdigest()


class AudienceCalls(MailchimpTransport):
    """The ESP methods on audiences, contacts, segments and recipients."""

    async def list_audiences(self, cursor: str | None, limit: int) -> AudiencePage:
        offset, count = number_cursor(cursor), page_size(limit)
        body = await self._call(lambda c, t: c.lists.get_all_lists(count=count, offset=offset, _request_timeout=t))
        found = [_audience(raw) for raw in items(body, "lists")]
        return AudiencePage(items=found, next_cursor=next_cursor(offset, len(found), body))

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
        offset, count = number_cursor(cursor), page_size(limit)
        query: dict[str, str] = {"status": status} if status else {}
        body = await self._call(
            lambda c, t: c.lists.get_list_members_info(
                audience_id, count=count, offset=offset, _request_timeout=t, **query
            ),
            missing=("audience", audience_id),
        )
        found = [_contact(raw) for raw in items(body, "members")]
        total = body.get("total_items")
        return ContactPage(
            items=found,
            total=total if isinstance(total, int) else None,
            next_cursor=next_cursor(offset, len(found), body),
        )

    async def get_contact(self, audience_id: str, email: str) -> Contact:
        email = checked_email(email)
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
        refused: list[Any] = answer.get("errors") or []
        for error in refused:
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
                self._call_without_body(
                    lambda c, t: c.lists.update_list_member_tags(
                        audience_id, subscriber_hash(contact.email), tags, _request_timeout=t
                    )
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
        return [str(f["tag"]) for f in items(body, "merge_fields") if f.get("tag")]

    # -- segments and recipients ---------------------------------------------------------------

    async def list_segments(self, audience_id: str) -> list[Segment]:
        body = await self._call(
            lambda c, t: c.lists.list_segments(audience_id, count=PAGE_MAX, _request_timeout=t),
            missing=("audience", audience_id),
        )
        return [_segment(raw) for raw in items(body, "segments")]

    async def create_segment(self, audience_id: str, name: str, emails: list[str]) -> Segment:
        body = {"name": name, "static_segment": [checked_email(e) for e in emails]}
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
            stats: JsonObject = raw.get("stats") or {}
            count, segment_name = int(stats.get("member_count") or 0), None
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
            sample=[str(m.get("email_address")) for m in items(people, "members")][:SAMPLE_RECIPIENTS],
        )


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


async def _all(calls: list[Awaitable[None]]) -> None:
    """Run every call (the connection slots pace them); after all are done, raise the first failure."""
    outcomes = await asyncio.gather(*calls, return_exceptions=True)
    for outcome in outcomes:
        if isinstance(outcome, BaseException):
            raise outcome


def _chunks(contacts: list[T], size: int) -> list[list[T]]:
    return [contacts[i : i + size] for i in range(0, len(contacts), size)]


def _member(contact: ContactUpsert) -> JsonObject:
    member: JsonObject = {"email_address": contact.email, "status": contact.status or "subscribed"}
    if contact.merge_fields:
        member["merge_fields"] = contact.merge_fields
    return member


def _audience(raw: JsonObject, merge_fields: list[str] | None = None) -> Audience:
    stats: JsonObject = raw.get("stats") or {}
    defaults: JsonObject = raw.get("campaign_defaults") or {}
    return Audience(
        id=str(raw.get("id")),
        name=str(raw.get("name") or ""),
        member_count=int(stats.get("member_count") or 0),
        unsubscribed_count=stats.get("unsubscribe_count"),
        from_name=defaults.get("from_name") or None,
        reply_to=defaults.get("from_email") or None,
        avg_open_rate=fraction(stats.get("open_rate")),
        avg_click_rate=fraction(stats.get("click_rate")),
        merge_fields=merge_fields or [],
    )


def _contact(raw: JsonObject) -> Contact:
    merge_fields: JsonObject = raw.get("merge_fields") or {}
    fields = {
        k: v if v is None or isinstance(v, (str, int, float, bool)) else json.dumps(v) for k, v in merge_fields.items()
    }
    tags: list[Any] = raw.get("tags") or []
    return Contact(
        email=str(raw.get("email_address")),
        id=str(raw.get("id")),
        status=MEMBER_STATUS.get(str(raw.get("status")), "unsubscribed"),
        merge_fields=fields,
        tags=[str(t.get("name")) for t in tags if is_object(t)],
    )


def _segment(raw: JsonObject) -> Segment:
    return Segment(
        id=str(raw.get("id")),
        name=str(raw.get("name") or ""),
        kind="static" if raw.get("type") == "static" else "dynamic",
        member_count=raw.get("member_count"),
    )
