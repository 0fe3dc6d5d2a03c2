"""Email engagement: a recent campaign whose click rate sits credibly below its audience's baseline
gets subject-line variants, tested through the ESP as an even A/B split of the next send; a new
subject is adopted only when it beats the original by a significant margin (judged on clicks:
privacy proxies make opens meaningless)."""

from ..pool import ServerPool
from ..runner import Director
from ..stats import Counts, below, compare
from ..store import Step, StepStatus

NAME = "email_engagement"
ESPS = ("mailchimp", "customerio")
DETECT_EVERY = 7
LOOKS = (2, 4)  # days after the send


class EmailEngagementLoop:
    name = NAME

    def wanted(self, pool: ServerPool) -> bool:
        return any(pool.has(s) for s in ESPS)

    async def tick(self, d: Director) -> None:
        for test in d.store.steps(d.run_id, loop=NAME, kind="test"):
            if test.status is StepStatus.OPEN:
                await self._advance(d, test)
        if d.due(NAME, DETECT_EVERY):
            for server in ESPS:
                if d.pool.has(server):
                    await self._detect(d, server)
            d.checked(NAME)

    async def _detect(self, d: Director, server: str) -> None:
        audiences = (await d.read(f"{server}.list_audiences", {}))["items"]
        if not audiences:
            return
        audience = await d.read(
            f"{server}.get_audience", {"audience_id": max(audiences, key=lambda a: a["member_count"])["id"]}
        )
        baseline = audience.get("avg_click_rate")
        scope = f"{server}:{audience['id']}"
        if not baseline or d.cooling(scope):
            return
        weakest = None
        for campaign in (await d.read(f"{server}.list_campaigns", {"status": "sent", "limit": 5}))["items"]:
            report = await d.read(f"{server}.campaign_report", {"campaign_id": campaign["id"]})
            clicks = Counts(report["unique_clicks"], report["delivered"])
            if (
                report["delivered"]
                and below(clicks, baseline)
                and (weakest is None or clicks.rate < weakest[1]["click_rate"])
            ):
                weakest = (campaign, report)
        if weakest is None:
            return
        campaign, report = weakest
        key = f"{NAME}:{server}:{campaign['id']}"
        if d.store.step(d.run_id, key):
            return
        d.say(
            f"   {server}: '{report['subject']}' clicked {report['click_rate']:.2%} against the audience's "
            f"{baseline:.2%} (opens {report['open_rate']:.0%}, inflated by privacy proxies)"
        )
        variants = await d.planner.subject_lines(
            report["subject"] or campaign["name"], audience=audience["name"], count=2
        )
        html = (await d.read(f"{server}.get_campaign_content", {"campaign_id": campaign["id"]}))["html"]
        subjects = [report["subject"], *variants]
        test = {
            "server": server,
            "scope": scope,
            "source": campaign["id"],
            "baseline": baseline,
            "subjects": subjects,
            "name": f"Subject test {d.run_id[-4:]}-{campaign['id']}"[:190],
            "create": {
                "name": f"Subject test {d.run_id[-4:]}-{campaign['id']}"[:190],
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

    async def _advance(self, d: Director, test: Step) -> None:
        """Create the test, send it (each once, through the gate), then judge it at each look."""
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
            return
        campaign_id = (created.get("campaign") or {}).get("id") or await self._find(d, server, data["name"])
        if not campaign_id:
            return
        sent = await d.write(
            f"{key}:send",
            loop=NAME,
            object=data["scope"],
            tool=f"{server}.send_campaign",
            args={"campaign_id": campaign_id},
            applied=lambda: self._sent(d, server, campaign_id),
            data={"test": key},
        )
        if sent is None:
            return
        send = d.store.step(d.run_id, f"{key}:send")
        if send is None:  # the write above returned its result, so its step is there
            return
        sent_day = send.dated()
        looks = [x for x in d.store.decisions(d.run_id) if x["step"] == key]
        if len(looks) >= len(LOOKS) or (d.today - sent_day).days < LOOKS[len(looks)]:
            return
        report = await d.read(f"{server}.campaign_report", {"campaign_id": campaign_id})
        variants = report["variants"]
        for i, v in enumerate(variants):  # the original subject is the control; the best new one is treated
            if i == 0 or v is max(variants[1:], key=lambda x: x["click_rate"]):
                d.store.measure(
                    d.run_id,
                    NAME,
                    data["scope"],
                    "Click rate",
                    d.today.isoformat(),
                    v["click_rate"],
                    role="control" if i == 0 else "treated",
                    unit="%",
                )
        d.store.measure(
            d.run_id,
            NAME,
            data["scope"],
            "Click rate",
            d.today.isoformat(),
            data["baseline"],
            role="baseline",
            unit="%",
        )
        original = variants[0]
        best = max(variants[1:], key=lambda v: v["click_rate"])
        decision = compare(
            Counts(original["unique_clicks"], original["sent"]),
            Counts(best["unique_clicks"], best["sent"]),
            look=len(looks) + 1,
            max_looks=len(LOOKS),
            min_trials=300,
            min_successes=10,
        )
        evidence = {**decision.__dict__, "original": original["subject"], "challenger": best["subject"]}
        d.store.decide(d.run_id, key, NAME, data["scope"], decision.verdict, evidence, d.today.isoformat())
        if decision.verdict == "continue":
            d.say(f"   {data['name']}: not enough evidence yet ({decision.reason})")
            return
        if decision.verdict == "keep":
            d.note(
                f"{NAME}: adopt '{best['subject']}' over '{original['subject']}' for {data['scope']}: {decision.reason}"
            )
        else:
            d.note(f"{NAME}: keep the original style '{original['subject']}' for {data['scope']}: {decision.reason}")
        d.cool(data["scope"])
        d.store.put_step(
            d.run_id,
            key,
            loop=NAME,
            object=data["scope"],
            kind="test",
            status=StepStatus.CLOSED,
            data={
                **data,
                "verdict": decision.verdict,
                "adopted": best["subject"] if decision.verdict == "keep" else original["subject"],
            },
        )

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
