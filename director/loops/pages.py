"""What the page loops share: finding a page's post in the CMS, the search numbers around a change,
watching a page under change for what the change cannot have caused, and judging a snippet change
against untouched pages."""

import math
from dataclasses import dataclass
from datetime import date, timedelta
from urllib.parse import urlsplit

from ..planner import PageContext
from ..runner import Director, LoopError
from ..stats import Counts, Decision, daily_effect
from ..store import Step, StepStatus

SEARCH_LAG = 3  # Search Console's final data trails by 2-3 days
BEFORE_DAYS = 14
LOOKS = (10, 17, 24)  # days after a change at which it is judged
SNIPPET_FIELDS = ("seo_title", "meta_description")
CONTROLS = 3
MIN_CLICKS, MIN_IMPRESSIONS = 30, 300  # per window: a page with a click or two a day is not judged
WATCH_DAYS = 3  # the latest settled days a page under change is watched on
INDEXABILITY = ("status", "noindex", "canonical_mismatch")  # audit findings that keep a page out of search
COLLAPSE = 0.25  # impressions below this share of the before-window's: the page left the search results
SLIP = 3.0  # positions lower than before the change: a ranking drop no snippet causes


class PageLoop:
    """A loop that changes pages: it follows its changes every day and looks for problems every few days."""

    name = ""
    every = 7

    async def tick(self, d: Director) -> None:
        await check_search_freshness(d, self.name)
        for step in live_changes(d, self.name):
            await follow_change(d, self.name, step)
        if d.due(self.name, self.every):
            await self._detect(d)
            d.checked(self.name)

    async def _detect(self, d: Director) -> None:
        raise NotImplementedError


async def check_search_freshness(d: Director, loop: str) -> None:
    """Once a day, the latest day Search Console has data for: its final data trails by SEARCH_LAG days, and
    by more when it runs late. Every window and look ends there, so nothing is judged on days not yet in."""
    if not d.pool.has("search-console") or d.memory.get("search_end", (None,))[0] == d.today:
        return
    usual = d.today - timedelta(days=SEARCH_LAG)
    rows = (
        await d.read(
            "search-console.search_analytics",
            {
                "start": (usual - timedelta(days=13)).isoformat(),
                "end": usual.isoformat(),
                "dimensions": ["date"],
                "limit": 100,
            },
        )
    )["rows"]
    latest = max((date.fromisoformat(r["keys"]["date"]) for r in rows if r["impressions"]), default=None)
    d.memory["search_end"] = (d.today, latest or usual)
    if latest is not None and latest < usual:
        d.note(
            f"{loop}: Search Console's data ends on {latest}, {(usual - latest).days} day(s) later than usual: "
            "the checks and looks that need it wait for it"
        )


def search_end(d: Director) -> date:
    """The last day of Search Console data every window ends on (see check_search_freshness)."""
    checked = d.memory.get("search_end")
    return checked[1] if checked and checked[0] == d.today else d.today - timedelta(days=SEARCH_LAG)


@dataclass
class PostRef:
    server: str  # "wordpress" | "webflow"
    kind: str
    id: str
    url: str
    title: str


def live_changes(d: Director, loop: str | None = None) -> list[Step]:
    """The client's page changes still open, whichever run made them: this run's at any stage, and the ones
    earlier runs applied (followed here to their verdict). A change an earlier run left waiting for approval
    was never made, so it is not followed."""
    return [
        s
        for s in d.store.client_steps(d.client, loop=loop, kind="change")
        if not s.data.get("closed") and (s.run_id == d.run_id or s.status is StepStatus.DONE)
    ]


def open_changes(d: Director, url: str) -> list[Step]:
    """The client's changes still open on the page."""
    return [s for s in live_changes(d) if s.object == url]


def busy(d: Director, url: str) -> bool:
    """Cooling down, or already being changed by a loop of any run: leave the page alone."""
    return d.cooling(url) or bool(open_changes(d, url))


REARM_DAYS = 28  # a finding reported this long ago is reported again if it is still, or again, there


def report_once(d: Director, loop: str, key: str, object: str, data: dict) -> bool:
    """Record a finding unless the client had it reported in the last REARM_DAYS, in any run; whether it is
    new (and so to be told)."""
    seen = d.store.client_step(d.client, key)
    if seen is not None and (d.today - seen.dated()).days < REARM_DAYS:
        return False
    d.record(key, loop=loop, object=object, kind="report", data=data)
    return True


async def post_for(d: Director, url: str) -> PostRef | None:
    """The CMS post that was published at a public URL (every CMS server the client has is asked; asked
    again, at most once a day, for a URL it did not know). Whether it is still published is for
    `post_status` to say: a post set back to draft keeps its ID but loses its URL."""
    if _norm(url) not in d.memory.get("posts_by_url", {}) and d.memory.get("posts_listed") != d.today:
        d.memory["posts_listed"] = d.today
        found: dict[str, PostRef] = {}
        unlisted: dict[str, PostRef] = {}  # by slug: posts without a public URL now (drafts)
        for server in ("wordpress", "webflow"):
            if not d.pool.has(server):
                continue
            for kind in ("post", "page"):
                cursor = None
                for _ in range(20):
                    args = {"kind": kind, "limit": 50, **({"cursor": cursor} if cursor else {})}
                    try:
                        page = await d.read(f"{server}.list_posts", args)
                    except LoopError:
                        break  # e.g. Webflow has no pages
                    for item in page["items"]:
                        if item.get("url") and item.get("status") == "published":
                            found[_norm(item["url"])] = PostRef(server, kind, item["id"], item["url"], item["title"])
                        elif item.get("slug"):
                            unlisted.setdefault(item["slug"], PostRef(server, kind, item["id"], "", item["title"]))
                    cursor = page.get("next_cursor")
                    if not cursor:
                        break
        d.memory["posts_by_url"] = {**d.memory.get("posts_by_url", {}), **found}
        d.memory["posts_by_slug"] = unlisted
    post = d.memory.get("posts_by_url", {}).get(_norm(url))
    if post is None:  # a page unpublished before this run saw it: the draft with the URL's slug
        hidden = d.memory.get("posts_by_slug", {}).get(_norm(url).rsplit("/", 1)[-1])
        post = PostRef(hidden.server, hidden.kind, hidden.id, url, hidden.title) if hidden else None
    return post


async def post_status(d: Director, post: PostRef) -> str:
    """The post's status now ("published", "draft", ...; "missing" when the CMS no longer has it)."""
    try:
        got = await d.read(f"{post.server}.get_post", {"post_id": post.id, "kind": post.kind})
    except LoopError as exc:
        if exc.kind in ("not_found", "NotFound"):
            return "missing"
        raise
    return str(got.get("status") or "")


def _norm(url: str) -> str:
    return url.split("#")[0].rstrip("/").lower()


async def audit_of(d: Director, url: str) -> dict:
    """The page-analysis audit of a page, once a day."""
    audits: dict[str, tuple[date, dict]] = d.memory.setdefault("audits", {})
    if url not in audits or audits[url][0] != d.today:
        audits[url] = (d.today, await d.read("page-analysis.analyze_page", {"url": url}))
    return audits[url][1]


async def redirects(d: Director, url: str) -> bool:
    if not d.pool.has("page-analysis"):
        return False
    try:
        return landed_at(url, await audit_of(d, url)) is not None
    except LoopError:
        return False


def landed_at(url: str, audit: dict) -> str | None:
    """Where the page's URL lands when it redirects elsewhere; None when it serves at its own URL."""
    final = str(audit.get("final_url") or url)
    return final if _url_path(final) != _url_path(url) else None


def _url_path(url: str) -> str:
    return urlsplit(url).path.rstrip("/") or "/"


async def why_gone(d: Director, url: str) -> str:
    """What the CMS and an audit say about a page that left the search results: no longer published,
    redirected, kept out of the index; or that neither explains it."""
    post = await post_for(d, url)
    if post is not None and (status := await post_status(d, post)) != "published":
        return f"it is no longer published (its status in the CMS is '{status}')"
    if d.pool.has("page-analysis"):
        try:
            audit = await audit_of(d, url)
        except LoopError:
            return "it could not be audited"
        if landed := landed_at(url, audit):
            return f"it redirects to {landed}"
        blocking = [f"{f['check']}: {f['message']}" for f in audit["findings"] if f["check"] in INDEXABILITY]
        if blocking:
            return "it cannot be indexed (" + "; ".join(blocking) + ")"
    return "the CMS shows it published and it serves: a removal request or a penalty; inspect the URL"


def page_context(url: str, post: PostRef, before: dict, queries: list[str] | None = None) -> PageContext:
    """What a planner is told about a page it writes for: its fields as they are now (`snippet_of`)."""
    return PageContext(
        url=url,
        title=before["title"] or post.title,
        seo_title=before["seo_title"],
        meta_description=before["meta_description"],
        queries=queries or [],
    )


async def snippet_of(d: Director, post: PostRef) -> dict:
    """The fields a page change may replace, as they are now (the snapshot)."""
    got = await d.read(f"{post.server}.get_post", {"post_id": post.id, "kind": post.kind})
    return {f: got.get(f) for f in (*SNIPPET_FIELDS, "title", "excerpt")}


async def expected_curve(d: Director) -> dict[str, float]:
    """The expected CTR per position, as the search-console server publishes it."""
    if "expected_curve" not in d.memory:
        end = search_end(d)
        found = await d.read(
            "search-console.ctr_opportunities",
            {"start": (end - timedelta(days=6)).isoformat(), "end": end.isoformat(), "dimension": "page", "limit": 1},
        )
        d.memory["expected_curve"] = {str(k): v for k, v in found["expected_curve"].items()}
    return d.memory["expected_curve"]


ROWS_BACK = 60  # days of a page's daily rows read at once: every window a loop judges fits inside


async def daily_rows(d: Director, start: date, end: date, url: str) -> list[dict]:
    """One page's search numbers per day (days without impressions are absent).

    Watching, judging and screening ask for several windows of the same page on the same day: the page's
    last ROWS_BACK days are read once that day and each window is cut from them (a window reaching
    further back is read as asked).
    """
    first = d.today - timedelta(days=ROWS_BACK)
    if start < first or end > d.today:
        return await _read_daily(d, start, end, url)
    cache: dict[str, tuple[date, list[dict]]] = d.memory.setdefault("daily_rows", {})
    if url not in cache or cache[url][0] != d.today:
        cache[url] = (d.today, await _read_daily(d, first, d.today, url))
    low, high = start.isoformat(), end.isoformat()
    return [r for r in cache[url][1] if low <= r["keys"]["date"] <= high]


async def _read_daily(d: Director, start: date, end: date, url: str) -> list[dict]:
    return (
        await d.read(
            "search-console.search_analytics",
            {
                "start": start.isoformat(),
                "end": end.isoformat(),
                "dimensions": ["date"],
                "limit": 100,
                "filters": [{"dimension": "page", "expression": url}],
            },
        )
    )["rows"]


async def daily_ratios(d: Director, start: date, end: date, url: str, curve: dict[str, float]) -> dict[str, float]:
    """Per day, log(CTR / the CTR expected at the day's average position) of one page."""
    return ratios_of(await daily_rows(d, start, end, url), curve)


def ratios_of(rows: list[dict], curve: dict[str, float]) -> dict[str, float]:
    positions = sorted(int(k) for k in curve)
    out = {}
    for row in rows:
        if row["impressions"]:
            expected = curve[str(min(max(positions[0], round(row["position"])), positions[-1]))]
            out[row["keys"]["date"]] = math.log((row["clicks"] + 0.5) / (row["impressions"] + 1) / expected)
    return out


def before_window(changed: date, since: date | None) -> tuple[date, date]:
    """The days a change is compared with: the two weeks before it, but none before the incident it answers
    (a fix judged against pre-incident days would be credited with only part of what it recovered)."""
    first = changed - timedelta(days=BEFORE_DAYS)
    return (max(first, since) if since is not None else first), changed - timedelta(days=1)


async def judge_snippet_change(
    d: Director,
    loop: str,
    url: str,
    changed: date,
    look: int,
    controls: list[str],
    curve: dict[str, float],
    since: date | None = None,
) -> Decision:
    """The page's CTR against the CTR expected at its position, before and after the change, net of the same
    measure on untouched control pages over the same days. `since`: the day the incident the change answers
    began. Each window needs MIN_CLICKS clicks on average and MIN_IMPRESSIONS impressions."""
    windows = (before_window(changed, since), (changed + timedelta(days=1), search_end(d)))
    values = []
    counts: list[Counts] = []
    for first, last in windows:
        rows = await daily_rows(d, first, last, url)
        counts.append(Counts(sum(r["clicks"] for r in rows), sum(r["impressions"] for r in rows)))
        mine = ratios_of(rows, curve)
        others = [await daily_ratios(d, first, last, c, curve) for c in controls]
        net = []
        for day, value in sorted(mine.items()):
            base = [o[day] for o in others if day in o]
            net.append(value - (sum(base) / len(base) if base else 0.0))
            d.store.measure(d.run_id, loop, url, "CTR vs expected", day, math.exp(value), role="treated")
            if base:
                d.store.measure(
                    d.run_id, loop, url, "CTR vs expected", day, math.exp(sum(base) / len(base)), role="control"
                )
        values.append(net)
    return daily_effect(
        values[0],
        values[1],
        look=look,
        max_looks=len(LOOKS),
        counts=(counts[0], counts[1]),
        min_trials=MIN_IMPRESSIONS,
        min_successes=MIN_CLICKS,
        subject="the page's CTR against the CTR expected at its position, net of untouched pages,",
    )


async def control_pages(d: Director, start: date, end: date, exclude: str) -> list[str]:
    """Untouched pages to measure the same days on: the busiest ones no loop of this run has changed."""
    rows = (
        await d.read(
            "search-console.search_analytics",
            {"start": start.isoformat(), "end": end.isoformat(), "dimensions": ["page"], "limit": 20},
        )
    )["rows"]
    changed = {s.object for s in live_changes(d)} | {s.object for s in d.store.steps(d.run_id) if s.kind == "change"}
    return [r["keys"]["page"] for r in rows if r["keys"]["page"] not in changed | {exclude}][:CONTROLS]


async def judging_facts(d: Director, url: str) -> dict:
    """What a page change will be judged with, fixed when it is made: the control pages and the CTR curve."""
    end = search_end(d)
    return {
        "controls": await control_pages(d, end - timedelta(days=BEFORE_DAYS), end, url),
        "curve": await expected_curve(d),
    }


async def apply_fields(
    d: Director, key: str, *, loop: str, post: PostRef, fields: dict, kind: str = "change", data: dict | None = None
) -> dict | None:
    """Set a published post's fields so that the public page shows them: Webflow stages an edit of a live
    item until the item is published again, WordPress shows it at once."""
    args = {"post_id": post.id, "kind": post.kind, **fields}
    done = await d.write(
        key,
        loop=loop,
        object=post.url,
        tool=f"{post.server}.update_post",
        args=args,
        kind=kind,
        applied=lambda: has_fields(d, post, args),
        data={"post": post.__dict__, **(data or {})},
    )
    if done is None or post.server != "webflow":
        return done
    published = await d.write(
        f"{key}:publish",
        loop=loop,
        object=post.url,
        tool="webflow.publish",
        args={"post_id": post.id, "kind": post.kind},
        kind="publish",
        part_of=key,
        applied=lambda: _live(d, post, fields),
    )
    return done if published is not None else None


async def _live(d: Director, post: PostRef, fields: dict) -> bool:
    got = await d.read(f"{post.server}.get_post", {"post_id": post.id, "kind": post.kind})
    return got.get("status") == "published" and await has_fields(d, post, fields)


async def follow_change(d: Director, loop: str, step: Step) -> None:
    """A page change waiting for approval, or applied and waiting for data: decide when a look is due,
    and restore the snapshot when the change did not help."""
    key, url, data = step.key, step.object, step.data
    if data.get("closed") or step.status not in (StepStatus.AWAITING, StepStatus.STARTED, StepStatus.DONE):
        return
    post = PostRef(**data["post"])
    fields = {k: v for k, v in data["args"].items() if k not in ("post_id", "kind")}
    extra = {k: v for k, v in data.items() if k not in ("tool", "args", "preview", "post")}
    mine = step.run_id == d.run_id  # an earlier run's change was applied there: it is only followed here
    if mine and await apply_fields(d, key, loop=loop, post=post, fields=fields, data=extra) is None:
        return  # approval pending, or refused (killed mid-call steps are reconciled in there)
    changed = step.dated()
    since = date.fromisoformat(data["incident_start"]) if data.get("incident_start") else None
    incident = await watch_change(d, loop, step, since)
    if incident is not None:
        decision = Decision(
            "inconclusive",
            0.5,
            0.0,
            0.0,
            0.0,
            f"Not judged: {incident} while the change was under test, so its data cannot tell what the "
            "change did; the previous fields are put back.",
        )
        d.store.decide(
            d.run_id,
            key,
            loop,
            url,
            decision.verdict,
            {**decision.__dict__, "confounded": incident},
            d.today.isoformat(),
        )
        d.say(f"   {url}: confounded: {incident}")
        await close_change(d, loop, step, decision.verdict)
        return
    looks_done = len(looks_at(d, step))
    if looks_done >= len(LOOKS) or (search_end(d) - changed).days < LOOKS[looks_done] - SEARCH_LAG:
        return  # not yet, or the days it needs are not in Search Console yet
    decision = await judge_snippet_change(d, loop, url, changed, looks_done + 1, data["controls"], data["curve"], since)
    d.store.decide(d.run_id, key, loop, url, decision.verdict, decision.__dict__, d.today.isoformat())
    d.say(f"   {url}: {decision.verdict}: {decision.reason}")
    if decision.verdict == "continue":
        return
    await close_change(d, loop, step, decision.verdict)


def looks_at(d: Director, step: Step) -> list[dict]:
    """The decisions taken so far on a change, in any run: those on its key since the day it was made (an
    earlier change of the same page was closed before this one was made)."""
    return [x for x in d.store.client_decisions(d.client, step.key) if (x["day"] or "") >= (step.day or "")]


async def close_change(d: Director, loop: str, step: Step, verdict: str) -> None:
    """The change's test is over: put the previous fields back unless it is kept, and let the page cool down."""
    key, url, data = step.key, step.object, step.data
    if verdict in ("rollback", "inconclusive"):
        await restore(d, loop, step)
    d.cool(url)
    d.store.put_step(
        step.run_id,
        key,
        loop=loop,
        object=url,
        kind="change",
        status=StepStatus.DONE,
        data={**data, "closed": verdict},
        result=step.result,
    )


async def watch_change(d: Director, loop: str, step: Step, since: date | None) -> str | None:
    """Watching is not paused by changing: every day a page is under change, whether something the change
    cannot have caused happened to it (it is no longer published, it left the search results, its queries
    rank several places lower). Such an incident is reported once, and confounds the change's test."""
    seen = d.store.step(step.run_id, f"incident:{step.key}")
    if seen is not None:
        return str(seen.data["what"])
    what = await page_incident(d, PostRef(**step.data["post"]), step.object, step.dated(), since)
    if what is None:
        return None
    d.record(
        f"incident:{step.key}",
        loop=loop,
        object=step.object,
        kind="incident",
        data={"what": what, "change": step.key},
        run_id=step.run_id,
    )
    d.note(f"{loop}: {step.object}: {what}, during the change of {step.dated()}; its test is confounded")
    return what


async def page_incident(d: Director, post: PostRef, url: str, changed: date, since: date | None) -> str | None:
    """What happened to a changed page since the change that no change of its snippet causes, or None."""
    status = await post_status(d, post)
    if status != "published":
        return f"the page is no longer published (its status in the CMS is '{status}')"
    end = search_end(d)
    first = max(changed + timedelta(days=1), end - timedelta(days=WATCH_DAYS - 1))
    if first > end:
        return None
    before = before_window(changed, since)
    rows = {r["keys"]["date"]: r for r in await daily_rows(d, before[0], end, url)}

    def days(a: date, b: date) -> list[str]:
        return [(a + timedelta(days=i)).isoformat() for i in range((b - a).days + 1)]

    then, now = days(*before), days(first, end)
    shown_then = sum(rows[x]["impressions"] for x in then if x in rows) / max(len(then), 1)
    shown_now = sum(rows[x]["impressions"] for x in now if x in rows) / len(now)
    if shown_then >= 20 and shown_now < COLLAPSE * shown_then:
        return (
            f"its search impressions fell from {shown_then:,.0f} to {shown_now:,.0f} a day (out of the search "
            "results: a noindex, a removal or a penalty)"
        )

    def position(xs: list[str]) -> float | None:
        shown = [rows[x] for x in xs if x in rows and rows[x]["impressions"]]
        total = sum(r["impressions"] for r in shown)
        return sum(r["position"] * r["impressions"] for r in shown) / total if total else None

    p_then, p_now = position(then), position(now)
    if p_then is not None and p_now is not None and p_now - p_then >= SLIP:
        return f"its queries rank {p_now - p_then:.1f} places lower (position {p_then:.1f} to {p_now:.1f})"
    return None


async def restore(d: Director, loop: str, step: Step) -> None:
    """Put back exactly the fields the change replaced (the snapshot taken before it, in the change's run)."""
    key, url, data = step.key, step.object, step.data
    before = d.store.snapshot_of(step.run_id, key) or {}
    fields = {f: before.get(f) or "" for f in data["args"] if f in before}
    if (
        await apply_fields(
            d, f"{key}:rollback", loop=loop, post=PostRef(**data["post"]), fields=fields, kind="rollback"
        )
        is not None
    ):
        d.note(f"{loop}: restored the previous fields of {url}")


async def has_fields(d: Director, post: PostRef, args: dict) -> bool:
    got = await d.read(f"{post.server}.get_post", {"post_id": post.id, "kind": post.kind})
    return all((got.get(f) or "") == (v or "") for f, v in args.items() if f not in ("post_id", "kind"))
