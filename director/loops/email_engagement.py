"""Email engagement: a recent campaign whose click rate sits credibly below its audience's baseline
gets subject-line variants, tested through the ESP as an even A/B split of the next send; a new
subject is adopted only when it beats the original by a significant margin (judged on clicks:
privacy proxies make opens meaningless), corrected for there being several challengers.

Detection runs every other day and is never held up by a cooldown: the weakest campaign that is a real
candidate is found, and while its audience cools down (or a test on it is still open) it is
reported and its test waits. The Director's own test campaigns and campaigns too recent to judge
are never candidates, and a campaign tested in any earlier run of the client is passed over for
the next-weakest. Open tests belong to the client, so a later run judges a test an earlier one sent.
A look at a test is taken only when the report has new counts since the last look.
"""

from datetime import date, datetime
from typing import Any

from ..multiple import best_of
from ..pool import ServerPool
from ..runner import Director
from ..stats import Counts, below
from ..store import Step, StepStatus

NAME = "email_engagement"
ESPS = ("mailchimp", "customerio")
DETECT_EVERY = 2  # days; a weak campaign is found within MIN_AGE_DAYS + 1 of its send
LOOKS = (1, 3)  # days after the send; the last look waits for new counts until FINAL_DAY
FINAL_DAY = 7  # a test whose report stops changing is closed on its last look by then
OWN_PREFIX = "Subject test"  # the Director's test campaigns: never candidates
MIN_AGE_DAYS = 2  # a campaign sent more recently is still collecting clicks
MIN_DELIVERED = 500
CANDIDATES = 5  # the newest sent campaigns (not the Director's own) looked at
LISTED = 8  # campaigns listed to find them: the candidates and the Director's newest tests
SETTLED_DAYS = 8  # a report this old no longer changes: read once per process
AUDIENCE_DAYS = 7


def _sent_day(campaign: dict[str, Any]) -> date | None:
    sent = campaign.get("sent_at")
    return datetime.fromisoformat(sent).date() if isinstance(sent, str) else None


def _counts(report: dict[str, Any]) -> list[list[int]]:
    """What a look sees: each variant's sent and unique clicks."""
    return [[v["sent"], v["unique_clicks"]] for v in report["variants"]]


class EmailEngagementLoop:
    name = NAME

    def wanted(self, pool: ServerPool) -> bool:
        return any(pool.has(s) for s in ESPS)

    async def tick(self, d: Director) -> None:
        for test in d.store.client_steps(d.client, loop=NAME, kind="test"):
            if test.status is StepStatus.OPEN and (test.run_id == d.run_id or self._sent_step(d, test)):
                await self._advance(d, test)
        if d.due(NAME, DETECT_EVERY):
            for server in ESPS:
                if d.pool.has(server):
                    await self._detect(d, server)
            d.checked(NAME)

    # -- detection ------------------------------------------------------------------------------

    async def _detect(self, d: Director, server: str) -> None:
        audience = await self._audience(d, server)
        if audience is None:
            return
        baseline = audience.get("avg_click_rate")
        scope = f"{server}:{audience['id']}"
        if not baseline:
            return
        tests = [t for t in d.store.client_steps(d.client, loop=NAME, kind="test") if t.data["server"] == server]
        tested = {t.data["source"] for t in tests}
        own = {t.data.get("campaign_id") for t in tests}
        weak = []
        for campaign in await self._candidates(d, server, own):
            report = await self._report(d, server, campaign)
            clicks = Counts(report["unique_clicks"], report["delivered"])
            if report["delivered"] >= MIN_DELIVERED and below(clicks, baseline):
                weak.append((clicks.rate, campaign, report))
        untested = [w for w in sorted(weak, key=lambda w: w[0]) if w[1]["id"] not in tested]
        if not untested:
            return
        _, campaign, report = untested[0]
        finding = (
            f"'{report['subject']}' clicked {report['click_rate']:.2%} against the audience's "
            f"{baseline:.2%} (opens {report['open_rate']:.0%}, inflated by privacy proxies)"
        )
        waiting = self._waiting(d, scope, tests)
        if waiting:
            d.note(f"{NAME}: {server}: {finding}; its subject test waits: {waiting}")
            return
        d.say(f"   {server}: {finding}")
        await self._start(d, server, scope, audience, baseline, campaign, report)

    @staticmethod
    async def _audience(d: Director, server: str) -> dict[str, Any] | None:
        """The largest audience, with its baseline; re-read weekly (a baseline of many campaigns moves slowly,
        and some ESPs compute it from every campaign's report)."""
        cache: dict[str, tuple[date, dict[str, Any]]] = d.memory.setdefault(f"{NAME}:audiences", {})
        if server in cache and (d.today - cache[server][0]).days < AUDIENCE_DAYS:
            return cache[server][1]
        audiences = (await d.read(f"{server}.list_audiences", {}))["items"]
        if not audiences:
            return None
        audience = await d.read(
            f"{server}.get_audience", {"audience_id": max(audiences, key=lambda a: a["member_count"])["id"]}
        )
        cache[server] = (d.today, audience)
        return audience

    async def _candidates(self, d: Director, server: str, own: set[Any]) -> list[dict[str, Any]]:
        """The newest sent campaigns that are neither the Director's own tests nor too recent to judge."""
        out = []
        for campaign in (await d.read(f"{server}.list_campaigns", {"status": "sent", "limit": LISTED}))["items"]:
            if campaign["name"].startswith(OWN_PREFIX) or campaign["id"] in own or campaign.get("ab_test"):
                continue  # the Director's own tests, and any A/B test: its click rate mixes several subjects
            sent = _sent_day(campaign)
            if sent is None or (d.today - sent).days < MIN_AGE_DAYS:
                continue
            out.append(campaign)
            if len(out) == CANDIDATES:
                break
        return out

    @staticmethod
    async def _report(d: Director, server: str, campaign: dict[str, Any]) -> dict[str, Any]:
        """A campaign's report; one old enough to be final is read once per process."""
        sent = _sent_day(campaign)
        cache: dict[str, dict[str, Any]] = d.memory.setdefault(f"{NAME}:reports", {})
        key = f"{server}:{campaign['id']}"
        if key in cache:
            return cache[key]
        report = await d.read(f"{server}.campaign_report", {"campaign_id": campaign["id"]})
        if sent is not None and (d.today - sent).days >= SETTLED_DAYS:
            cache[key] = report
        return report

    def _waiting(self, d: Director, scope: str, tests: list[Step]) -> str | None:
        """Why a new test on this audience must wait, or None: a test still open on it, or its cooldown."""
        for t in tests:
            if t.data["scope"] == scope and t.status is StepStatus.OPEN:
                return f"'{t.data['name']}' is still being judged"
        if d.cooling(scope):
            return f"the audience cools down until {d.store.cooldown_until(d.client, scope)}"
        return None

    async def _start(
        self,
        d: Director,
        server: str,
        scope: str,
        audience: dict[str, Any],
        baseline: float,
        campaign: dict[str, Any],
        report: dict[str, Any],
    ) -> None:
        key = f"{NAME}:{server}:{campaign['id']}"
        variants = await d.planner.subject_lines(
            report["subject"] or campaign["name"], audience=audience["name"], count=2
        )
        html = (await d.read(f"{server}.get_campaign_content", {"campaign_id": campaign["id"]}))["html"]
        subjects = [report["subject"], *variants]
        name = f"{OWN_PREFIX} {d.run_id[-4:]}-{campaign['id']}"[:190]
        test = {
            "server": server,
            "scope": scope,
            "source": campaign["id"],
            "baseline": baseline,
            "subjects": subjects,
            "name": name,
            "create": {
                "name": name,
                "subject_lines": subjects,
                "html": html,
                "audience_id": audience["id"],
                "test_size": 100,
                "winner_criteria": "manual",
            },
        }
        d.store.put_step(
            d.run_id,
            key,
            loop=NAME,
            object=scope,
            kind="test",
            status=StepStatus.OPEN,
            data=test,
            day=d.today.isoformat(),
        )
        written = d.store.step(d.run_id, key)
        if written is not None:  # it is: put just above
            await self._advance(d, written)

    # -- the test -------------------------------------------------------------------------------

    @staticmethod
    def _sent_step(d: Director, test: Step) -> Step | None:
        """The test's send, done (in the run that started the test)."""
        send = d.store.step(test.run_id, f"{test.key}:send")
        return send if send is not None and send.status is StepStatus.DONE else None

    async def _advance(self, d: Director, test: Step) -> None:
        """Create the test, send it (each once, through the gate, in the run that started it), then judge it
        at each look, in whichever run of the client is going."""
        key, data, server = test.key, test.data, test.data["server"]
        if test.run_id == d.run_id:
            campaign_id = await self._create_and_send(d, test)
            if campaign_id is None:
                return
            if data.get("campaign_id") != campaign_id:
                data = {**data, "campaign_id": campaign_id}
                self._update(d, test, data)
        send = self._sent_step(d, test)
        if send is None or not data.get("campaign_id"):
            return
        days = (d.today - send.dated()).days
        looks = d.store.client_decisions(d.client, key)
        if days < LOOKS[0] or (looks and days < LOOKS[min(len(looks), len(LOOKS) - 1)]):
            return
        report = await d.read(f"{server}.campaign_report", {"campaign_id": data["campaign_id"]})
        counts = _counts(report)
        if looks and looks[-1]["evidence"].get("counts") == counts:
            # The same numbers as the last look: nothing new to judge, no look taken.
            if days < FINAL_DAY:
                d.say(f"   {data['name']}: no new clicks since the last look; waiting for data")
                return
            last = looks[-1]
            verdict = "inconclusive" if last["verdict"] == "continue" else last["verdict"]
            self._close(d, test, data, verdict, last["evidence"]["challenger"], last["evidence"]["original"])
            d.note(
                f"{NAME}: '{data['name']}' closed on its last look (no new data by day {FINAL_DAY}): "
                f"{last['evidence']['reason']}"
            )
            return
        self._judge(d, test, data, report, counts, look=len(looks) + 1)

    async def _create_and_send(self, d: Director, test: Step) -> str | None:
        """The test campaign's id once it is sent (None while a write waits or was refused)."""
        key, data, server = test.key, test.data, test.data["server"]
        created = await d.write(
            f"{key}:create",
            loop=NAME,
            object=data["scope"],
            kind="draft",
            tool=f"{server}.create_subject_test",
            args=data["create"],
            applied=lambda: self._created(d, server, data["name"]),
        )
        if created is None:
            return None
        campaign_id = (created.get("campaign") or {}).get("id") or await self._find(d, server, data["name"])
        if not campaign_id:
            return None
        sent = await d.write(
            f"{key}:send",
            loop=NAME,
            object=data["scope"],
            tool=f"{server}.send_campaign",
            args={"campaign_id": campaign_id},
            applied=lambda: self._sent(d, server, campaign_id),
            data={"test": key},
        )
        return campaign_id if sent is not None else None

    def _judge(
        self, d: Director, test: Step, data: dict[str, Any], report: dict[str, Any], counts: list[list[int]], look: int
    ) -> None:
        variants = report["variants"]
        original, challengers = variants[0], variants[1:]
        pick = best_of(
            Counts(original["unique_clicks"], original["sent"]),
            [Counts(v["unique_clicks"], v["sent"]) for v in challengers],
            look=look,
            max_looks=len(LOOKS),
            min_trials=300,
            min_successes=10,
        )
        best = challengers[pick.challenger]
        day = d.today.isoformat()
        for role, value in (("control", original["click_rate"]), ("treated", best["click_rate"])):
            d.store.measure(d.run_id, NAME, data["scope"], "Click rate", day, value, role=role, unit="%")
        d.store.measure(d.run_id, NAME, data["scope"], "Click rate", day, data["baseline"], role="baseline", unit="%")
        decision = pick.decision
        evidence = {
            **decision.__dict__,
            "original": original["subject"],
            "challenger": best["subject"],
            "challengers": pick.challengers,
            "needed": pick.threshold,  # the single-comparison threshold, corrected for the challengers
            "counts": counts,
        }
        d.store.decide(d.run_id, test.key, NAME, data["scope"], decision.verdict, evidence, day)
        if decision.verdict == "continue":
            d.say(f"   {data['name']}: not enough evidence yet ({decision.reason})")
            return
        self._close(d, test, data, decision.verdict, best["subject"], original["subject"])
        if decision.verdict == "keep":
            d.note(
                f"{NAME}: adopt '{best['subject']}' over '{original['subject']}' for {data['scope']}: {decision.reason}"
            )
        else:
            d.note(f"{NAME}: keep the original style '{original['subject']}' for {data['scope']}: {decision.reason}")

    def _close(self, d: Director, test: Step, data: dict[str, Any], verdict: str, best: str, original: str) -> None:
        d.cool(data["scope"])
        adopted = best if verdict == "keep" else original
        self._update(d, test, {**data, "verdict": verdict, "adopted": adopted}, StepStatus.CLOSED)

    @staticmethod
    def _update(d: Director, test: Step, data: dict[str, Any], status: StepStatus = StepStatus.OPEN) -> None:
        """The test's own record, in the run that started it."""
        d.store.put_step(test.run_id, test.key, loop=NAME, object=test.object, kind="test", status=status, data=data)

    @staticmethod
    async def _find(d: Director, server: str, name: str) -> str | None:
        for status in ("draft", "sending", "sent"):
            for c in (await d.read(f"{server}.list_campaigns", {"status": status, "limit": 20}))["items"]:
                if c["name"] == name:
                    return c["id"]
        return None

    @classmethod
    async def _created(cls, d: Director, server: str, name: str) -> bool:
        """Whether the test campaign exists (for a create killed mid-call)."""
        return bool(await cls._find(d, server, name))

    @staticmethod
    async def _sent(d: Director, server: str, campaign_id: str) -> bool:
        return (await d.read(f"{server}.get_campaign", {"campaign_id": campaign_id}))["status"] in ("sending", "sent")
