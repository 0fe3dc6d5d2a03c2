"""The requests the Customer.io operations are built from: the workspace, people searches and attributes,
Track batches, segments, newsletters with their contents, test groups and metrics, and sender identities."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from ...errors import InvalidRequest, NotFound
from ...http import HttpService
from ...json_values import JsonObject, is_list, is_object
from ..base import SAMPLE_RECIPIENTS, ContactError, LinkClicks
from .payloads import (
    COUNT_PAGES,
    CUSTOMERS_CHUNK,
    EVERYONE,
    HINT_CAMPAIGNS,
    HINT_SEGMENTS,
    HINT_SENDERS,
    HISTORY,
    LOOKUP_CHUNK,
    METRICS_WINDOW,
    SEARCH_PAGE,
    VENDOR,
    garbage,
    hinted,
    items,
    member,
    objects,
    to_contact,
)

SENT_PARTS_KEPT = 1000  # contents and test groups of 500 sent newsletters


class Workspace:
    """The requests on one Customer.io workspace that `CustomerIO`'s operations are built from.

    `app` is the App API service (Bearer key), `track` the Track API (Basic auth); `workspace` picks the
    workspace by name or ID when the account has several.
    """

    def __init__(self, app: HttpService, track: HttpService, workspace: str | None = None):
        self.app = app
        self.track = track
        self.workspace = workspace
        self._workspace: JsonObject | None = None
        self._senders: list[JsonObject] | None = None
        # A sent newsletter's contents and test groups, by ID, `updated` stamp and which: listing and
        # reporting sent campaigns would otherwise read them again, at the App API's 10 requests a second.
        self._sent_parts: dict[tuple[int, Any, str], list[JsonObject]] = {}

    async def aclose(self) -> None:
        await self.app.aclose()
        await self.track.aclose()

    async def _workspace_info(self, fresh: bool = False) -> JsonObject:
        if self._workspace is None or fresh:
            spaces = objects(await self.app.get_json("workspaces"), "workspaces")
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

    async def _history(self) -> tuple[float | None, float | None]:
        """Average open and click rates of the latest sent newsletters."""
        raw = await self.app.get_json("newsletters", params={"limit": 50, "sort": "desc"})
        sent = [n for n in objects(raw, "newsletters") if n.get("sent_at")][:HISTORY]
        metrics = await asyncio.gather(*(self._metrics(f"newsletters/{int(n['id'])}/metrics") for n in sent))
        rates = [
            (m.get("opened", 0) / m["delivered"], m.get("clicked", 0) / m["delivered"])
            for m in metrics
            if m.get("delivered")
        ]
        if not rates:
            return None, None
        return sum(o for o, _ in rates) / len(rates), sum(c for _, c in rates) / len(rates)

    async def _field_names(self) -> list[str]:
        """Attribute names, as one person carries them (Customer.io has no list of people attributes)."""
        found = await self._search(EVERYONE, limit=1)
        ids = items(found, "identifiers")
        if not ids or not is_object(ids[0]) or not ids[0].get("email"):
            return []
        customers = await self._customers([ids[0]["email"]])
        return sorted(to_contact(customers[0]).merge_fields) if customers else []

    # -- people -----------------------------------------------------------------------------

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
            found |= {str(p["email"]).lower() for p in objects(raw, "identifiers") if p.get("email")}
        return found, requests

    async def _send_batch(self, batch: list[tuple[str, JsonObject]]) -> list[ContactError]:
        # Identifying is setting values, so a batch whose response was lost may be sent again.
        response = await self.track.request(
            "POST", "v2/batch", json={"batch": [item for _, item in batch]}, idempotent=True
        )
        if response.status_code != 207:
            return []
        failed: list[ContactError] = []
        for err in objects(self.track.json(response), "errors"):
            index = err.get("batch_index")
            if isinstance(index, int) and 0 <= index < len(batch):
                reason = ": ".join(str(err[k]) for k in ("reason", "message") if err.get(k)) or "refused"
                failed.append(ContactError(email=batch[index][0], reason=reason))
        return failed

    async def _customers(self, emails: list[str]) -> list[JsonObject]:
        """People with their attributes, up to 100 addresses per request."""
        out: list[JsonObject] = []
        for i in range(0, len(emails), CUSTOMERS_CHUNK):
            raw = await self.app.request(
                "POST",
                "customers/attributes",
                params={"id_type": "email"},
                json={"ids": emails[i : i + CUSTOMERS_CHUNK]},
                idempotent=True,
            )
            for c in objects(self.app.json(raw), "customers"):
                customer = c.get("customer")
                if is_object(customer):
                    out.append(customer)
        return out

    async def _search(self, flt: JsonObject, *, limit: int, start: str | None = None) -> JsonObject:
        params: dict[str, Any] = {"limit": limit}
        if start:
            params["start"] = start
        # Searching changes nothing, so a lost answer may be asked for again.
        raw = self.app.json(
            await self.app.request("POST", "customers", params=params, json={"filter": flt}, idempotent=True)
        )
        if not is_object(raw) or not isinstance(raw.get("identifiers"), list):
            raise garbage("a people search")
        return raw

    async def _search_count(self, flt: JsonObject) -> tuple[int, list[str]]:
        """How many people match, and the first addresses (at most COUNT_PAGES pages are read)."""
        count, start = 0, None
        sample: list[str] = []
        for _ in range(COUNT_PAGES):
            page = await self._search(flt, limit=SEARCH_PAGE, start=start)
            people = items(page, "identifiers")
            count += len(people)
            sample += [
                str(p["email"]) for p in people[: SAMPLE_RECIPIENTS - len(sample)] if is_object(p) and p.get("email")
            ]
            start = page.get("next")
            if not start or not people:
                break
        return count, sample

    # -- segments ---------------------------------------------------------------------------

    async def _count(self, segment_id: Any) -> int:
        raw = await self.app.get_json(f"segments/{int(segment_id)}/customer_count")
        return int(raw.get("count") or 0) if is_object(raw) else 0

    async def _segment_named(self, segment_id: str) -> JsonObject:
        if not str(segment_id).isdigit():
            raise NotFound(f"'{segment_id}' is not a Customer.io segment ID.", hint=HINT_SEGMENTS, vendor=VENDOR)
        with hinted(HINT_SEGMENTS):
            raw = await self.app.get_json(f"segments/{int(segment_id)}")
        return member(raw, "segment", "a segment")

    # -- newsletters ------------------------------------------------------------------------

    async def _newsletter(self, nid: int) -> JsonObject:
        with hinted(HINT_CAMPAIGNS):
            raw = await self.app.get_json(f"newsletters/{nid}")
        newsletter = member(raw, "newsletter", "a newsletter")
        if "id" not in newsletter:
            raise garbage("a newsletter")
        return newsletter

    async def _contents(self, nid: int) -> list[JsonObject]:
        with hinted(HINT_CAMPAIGNS):
            raw = await self.app.get_json(f"newsletters/{nid}/contents")
        return [c for c in objects(raw, "contents") if "id" in c]

    async def _contents_of(self, newsletter: JsonObject) -> list[JsonObject]:
        """The contents of a newsletter just read; a sent one's are read once (they no longer change)."""
        return await self._once_sent(newsletter, "contents", self._contents)

    async def _groups_of(self, newsletter: JsonObject, contents: list[JsonObject]) -> list[JsonObject]:
        """The test groups of an A/B newsletter (one content per group), none for a plain one."""
        return await self._once_sent(newsletter, "test_groups", self._test_groups) if len(contents) > 1 else []

    async def _once_sent(
        self, newsletter: JsonObject, part: str, read: Callable[[int], Awaitable[list[JsonObject]]]
    ) -> list[JsonObject]:
        nid = int(newsletter["id"])
        if not newsletter.get("sent_at"):
            return await read(nid)
        key = (nid, newsletter.get("updated"), part)
        if key not in self._sent_parts:
            found = await read(nid)
            if len(self._sent_parts) >= SENT_PARTS_KEPT:
                self._sent_parts.pop(next(iter(self._sent_parts)))  # the oldest read
            self._sent_parts[key] = found
        return self._sent_parts[key]

    async def _test_groups(self, nid: int) -> list[JsonObject]:
        with hinted(HINT_CAMPAIGNS):
            raw = await self.app.get_json(f"newsletters/{nid}/test_groups")
        return objects(raw, "test_groups")

    async def _put_content(self, nid: int, content_id: Any, body: JsonObject) -> None:
        # Setting fields to values is idempotent, so a lost response may be retried.
        with hinted(HINT_CAMPAIGNS):
            await self.app.request("PUT", f"newsletters/{nid}/contents/{int(content_id)}", json=body)

    async def _metrics(self, path: str) -> dict[str, int]:
        """A metric object's series, summed over the longest window."""
        with hinted(HINT_CAMPAIGNS):
            raw = await self.app.get_json(path, params=METRICS_WINDOW)
        metric: JsonObject = (raw.get("metric") or {}) if is_object(raw) else {}
        series = metric.get("series")
        if not is_object(series):
            raise garbage("newsletter metrics")
        return {k: sum(x for x in v if isinstance(x, int)) for k, v in series.items() if is_list(v)}

    async def _links(self, nid: int) -> list[LinkClicks]:
        counts: dict[str, list[int]] = {}
        both = await asyncio.gather(
            *(
                self.app.get_json(f"newsletters/{nid}/metrics/links", params={**METRICS_WINDOW, "unique": unique})
                for unique in ("false", "true")
            )
        )
        for index, raw in enumerate(both):
            for entry in items(raw, "links"):
                found: JsonObject = entry or {}
                link: JsonObject = found.get("link") or {}
                metric: JsonObject = found.get("metric") or {}
                series: JsonObject = metric.get("series") or {}
                href = link.get("href")
                clicked: list[Any] = series.get("clicked") or []
                if href:
                    counts.setdefault(href, [0, 0])[index] += sum(x for x in clicked if isinstance(x, int))
        return sorted(
            (LinkClicks(url=u, total_clicks=t, unique_clicks=q) for u, (t, q) in counts.items()),
            key=lambda link: -link.total_clicks,
        )

    # -- sender identities ------------------------------------------------------------------

    async def _sender_list(self) -> list[JsonObject]:
        if self._senders is None:
            raw = await self.app.get_json("sender_identities")
            self._senders = [
                s
                for s in objects(raw, "sender_identities")
                if s.get("template_type", "email") == "email" and s.get("email")
            ]
        return self._senders

    async def _sender(self, *, name: str | None = None, email: str | None = None) -> JsonObject:
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
