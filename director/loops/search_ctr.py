"""Search CTR: pages whose CTR is below the expected CTR for their position get a better title and
meta description through the CMS; after fresh data, the change is kept only if the page's CTR rose
against untouched pages, and rolled back to the exact previous fields otherwise."""

from datetime import timedelta

from ..planner import PageContext
from ..pool import ServerPool
from ..runner import Director
from .pages import SEARCH_LAG, PageLoop, apply_fields, busy, judging_facts, post_for, post_status, snippet_of

NAME = "search_ctr"
DETECT_EVERY = 7  # days
NEW_PER_DETECTION = 2
WINDOW = 28


class SearchCtrLoop(PageLoop):
    name, every = NAME, DETECT_EVERY

    def wanted(self, pool: ServerPool) -> bool:
        return pool.has("search-console") and (pool.has("wordpress") or pool.has("webflow"))

    async def _detect(self, d: Director) -> None:
        end = d.today - timedelta(days=SEARCH_LAG)
        found = await d.read(
            "search-console.ctr_opportunities",
            {
                "start": (end - timedelta(days=WINDOW - 1)).isoformat(),
                "end": end.isoformat(),
                "dimension": "page",
                "min_impressions": d.policy.min_impressions,
                "limit": 10,
            },
        )
        started = 0
        for opp in found["opportunities"]:
            url = opp["keys"]["page"]
            key = f"{NAME}:{url}"
            if started >= NEW_PER_DETECTION or busy(d, url) or d.store.step(d.run_id, key):
                continue
            post = await post_for(d, url)
            if post is None:
                continue
            status = await post_status(d, post)
            if status != "published":  # its impressions are from before: a missing page, not a weak snippet
                d.note(
                    f"{NAME}: {url} is no longer published (status '{status}' in the CMS); its snippet is left alone"
                )
                continue
            d.say(
                f"   {url}: CTR {opp['ctr']:.1%} at position {opp['position']:.1f} where "
                f"{opp['expected_ctr']:.1%} is expected ({opp['missed_clicks']} clicks missed in {WINDOW} days)"
            )
            before = await snippet_of(d, post)
            d.store.snapshot(d.run_id, key, url, before)
            queries = await d.read(
                "search-console.search_analytics",
                {
                    "start": (end - timedelta(days=WINDOW - 1)).isoformat(),
                    "end": end.isoformat(),
                    "dimensions": ["query"],
                    "filters": [{"dimension": "page", "expression": url}],
                    "limit": 5,
                },
            )
            snippet = await d.planner.snippet(
                PageContext(
                    url=url,
                    title=before["title"] or post.title,
                    seo_title=before["seo_title"],
                    meta_description=before["meta_description"],
                    queries=[r["keys"]["query"] for r in queries["rows"]],
                )
            )
            facts = await judging_facts(d, url)
            done = await apply_fields(
                d,
                key,
                loop=NAME,
                post=post,
                data={"before": before, "opportunity": opp, **facts},
                fields={"seo_title": snippet.seo_title, "meta_description": snippet.meta_description},
            )
            started += 1
            if done is not None:
                d.note(f"{NAME}: rewrote the snippet of {url}: '{snippet.seo_title}'")
