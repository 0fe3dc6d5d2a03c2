"""What the page loops share: finding a page's post in the CMS, the search numbers around a change,
and judging a snippet change against untouched pages."""

from dataclasses import dataclass
from datetime import date, timedelta

from ..runner import Director, LoopError
from ..stats import Counts, Decision, difference_in_differences

SEARCH_LAG = 3  # Search Console's final data trails by 2-3 days
BEFORE_DAYS = 14
LOOKS = (10, 17, 24)  # days after a change at which it is judged
SNIPPET_FIELDS = ("seo_title", "meta_description")


@dataclass
class PostRef:
    server: str  # "wordpress" | "webflow"
    kind: str
    id: str
    url: str
    title: str


async def post_for(d: Director, url: str) -> PostRef | None:
    """The published CMS post behind a public URL (every CMS server the client has is asked once)."""
    if "posts_by_url" not in d.memory:
        found: dict[str, PostRef] = {}
        for server in ("wordpress", "webflow"):
            if not d.pool.has(server):
                continue
            for kind in ("post", "page"):
                cursor = None
                for _ in range(20):
                    args = {"kind": kind, "status": "published", "limit": 50, **({"cursor": cursor} if cursor else {})}
                    try:
                        page = await d.read(f"{server}.list_posts", args)
                    except LoopError:
                        break  # e.g. Webflow has no pages
                    for item in page["items"]:
                        if item.get("url"):
                            found[_norm(item["url"])] = PostRef(server, kind, item["id"], item["url"], item["title"])
                    cursor = page.get("next_cursor")
                    if not cursor:
                        break
        d.memory["posts_by_url"] = found
    return d.memory["posts_by_url"].get(_norm(url))


def _norm(url: str) -> str:
    return url.split("#")[0].rstrip("/").lower()


async def snippet_of(d: Director, post: PostRef) -> dict:
    """The fields a page change may replace, as they are now (the snapshot)."""
    got = await d.read(f"{post.server}.get_post", {"post_id": post.id, "kind": post.kind})
    return {f: got.get(f) for f in (*SNIPPET_FIELDS, "title", "excerpt")}


async def search_counts(d: Director, start: date, end: date, url: str) -> tuple[Counts, Counts]:
    """(this page, every other page) clicks over impressions, from Search Console."""
    span = {"start": start.isoformat(), "end": end.isoformat()}
    page = await d.read("search-console.search_analytics", {
        **span, "dimensions": ["page"], "filters": [{"dimension": "page", "expression": url}], "limit": 1})
    site = await d.read("search-console.search_analytics", {**span, "dimensions": ["date"], "limit": 1})
    treated = Counts(page["totals"]["clicks"], page["totals"]["impressions"])
    others = Counts(site["totals"]["clicks"] - treated.successes, site["totals"]["impressions"] - treated.trials)
    return treated, others


async def daily_ctr(d: Director, loop: str, url: str, start: date, end: date) -> None:
    """The page's and the site's CTR per day, for the report's charts."""
    span = {"start": start.isoformat(), "end": end.isoformat(), "dimensions": ["date"], "limit": 100}
    for role, extra in (("treated", [{"dimension": "page", "expression": url}]), ("control", [])):
        rows = (await d.read("search-console.search_analytics", {**span, "filters": extra}))["rows"]
        for row in rows:
            d.store.measure(d.run_id, loop, url, "CTR", row["keys"]["date"], row["ctr"], role=role, unit="%")


async def judge_snippet_change(d: Director, loop: str, url: str, changed: date, look: int) -> Decision:
    """The change's effect on the page's CTR, against every untouched page over the same days."""
    before = (changed - timedelta(days=BEFORE_DAYS), changed - timedelta(days=1))
    after = (changed + timedelta(days=1), d.today - timedelta(days=SEARCH_LAG))
    treated_before, control_before = await search_counts(d, *before, url)
    treated_after, control_after = await search_counts(d, *after, url)
    await daily_ctr(d, loop, url, before[0], after[1])
    return difference_in_differences(treated_before, treated_after, control_before, control_after,
                                     look=look, max_looks=len(LOOKS), min_trials=300, min_successes=10)


async def follow_change(d: Director, loop: str, step: dict) -> None:
    """A page change waiting for approval, or applied and waiting for data: decide when a look is due,
    and restore the snapshot when the change did not help."""
    key, url, data = step["key"], step["object"], step["data"]
    if step["status"] in ("awaiting", "started"):  # approval pending, or killed mid-call: the gate sorts it out
        post = PostRef(**data["post"])
        await d.write(key, loop=loop, object=url, tool=data["tool"], args=data["args"],
                      applied=lambda: has_fields(d, post, data["args"]),
                      data={k: v for k, v in data.items() if k not in ("tool", "args", "preview")})
        return
    if step["status"] != "done" or data.get("closed"):
        return
    changed = date.fromisoformat(step["day"])
    looks_done = len([x for x in d.store.decisions(d.run_id) if x["step"] == key])
    if looks_done >= len(LOOKS) or (d.today - changed).days < LOOKS[looks_done]:
        return
    decision = await judge_snippet_change(d, loop, url, changed, looks_done + 1)
    d.store.decide(d.run_id, key, loop, url, decision.verdict, decision.__dict__, d.today.isoformat())
    d.say(f"   {url}: {decision.verdict}: {decision.reason}")
    if decision.verdict == "continue":
        return
    if decision.verdict in ("rollback", "inconclusive"):
        await restore(d, loop, key, url, data)
    d.cool(url)
    d.store.put_step(d.run_id, key, loop=loop, object=url, kind="change", status="done",
                     data={**data, "closed": decision.verdict}, result=step["result"])


async def restore(d: Director, loop: str, key: str, url: str, data: dict) -> None:
    """Put back exactly the fields the change replaced (the snapshot taken before it)."""
    before = d.store.snapshot_of(d.run_id, key) or {}
    post = PostRef(**data["post"])
    args = {"post_id": post.id, "kind": post.kind, **{f: before.get(f) or "" for f in data["args"] if f in before}}
    await d.write(f"{key}:rollback", loop=loop, object=url, tool=data["tool"], args=args, kind="rollback",
                  applied=lambda: has_fields(d, post, args))
    d.note(f"{loop}: restored the previous fields of {url}")


async def has_fields(d: Director, post: PostRef, args: dict) -> bool:
    got = await d.read(f"{post.server}.get_post", {"post_id": post.id, "kind": post.kind})
    return all((got.get(f) or "") == (v or "") for f, v in args.items() if f not in ("post_id", "kind"))
