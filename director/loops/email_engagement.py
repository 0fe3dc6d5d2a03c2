"""Email engagement: a recent campaign whose click rate sits credibly below its audience's baseline
gets subject-line variants, tested through the ESP on a re-send of its content; a new subject is
adopted only when it beats the original by a significant margin (judged on clicks: privacy proxies
make opens meaningless), corrected for there being several challengers.

A win makes the ESP do something. Where the ESP picks a winner (Mailchimp's variate campaigns), the
test goes to a share of the audience and the ESP sends the subject with the most clicks to the rest
a few hours before the first look; the Director records what the ESP sent and judges its outcome, the
rest's click rate against the audience's baseline, as a decision of its own. Where it cannot
(Customer.io splits everyone evenly), the win is a rule for the audience: the adopted subject's style
(a question, a number, "you", calm, concise: what it had that the subject it beat lacked) picks the
challengers of the audience's next test, and that test judges the rule. The next campaign keeps its
own subject as the control: a subject written for other content would not be one a client sends.

Detection runs every other day and is never held up by a cooldown: the weakest campaign that is a real
candidate is found, and while its audience cools down (or a test on it is still open) it is
reported and its test waits. The Director's own test campaigns and campaigns too recent to judge
are never candidates, and a campaign tested in any earlier run of the client is passed over for
the next-weakest. Open tests belong to the client, so a later run judges a test an earlier one sent.
A look at a test is taken only when the report has new counts since the last look.

Before any subject is blamed, each detection judges what no subject causes (``email_health``): a
campaign that bounced or went to spam (a deliverability incident, per ESP) and an audience tired of
being mailed too often (list fatigue). Each is reported once per client, with what to do next; their
campaigns are never a subject test's candidates, and new subject tests on the ESP or audience wait
while they last.
"""

import re
from datetime import date, datetime
from statistics import NormalDist
from typing import Any

from ..multiple import best_of
from ..pool import ServerPool
from ..runner import Director
from ..stats import Counts, below
from ..store import Step, StepStatus
from .email_health import RESTED_DAYS, DeliveryProblem, Fatigue, Send, cadence, delivery_problem, fatigue, in_episode

NAME = "email_engagement"
ESPS = ("mailchimp", "customerio")
DETECT_EVERY = 2  # days; a weak campaign is found within MIN_AGE_DAYS + 1 of its send
LOOKS = (1, 3)  # days after the send; the last look waits for new counts until FINAL_DAY
FINAL_DAY = 7  # a test whose report stops changing is closed on its last look by then
OWN_PREFIX = "Subject test"  # the Director's test campaigns: never candidates
MIN_AGE_DAYS = 2  # a campaign sent more recently is still collecting clicks
MIN_DELIVERED = 500
CANDIDATES = 5  # the newest sent campaigns (not the Director's own) looked at
LISTED = 12  # campaigns listed: the candidates, the Director's newest tests, and the history health is judged on
HEALTH_AGE_DAYS = 1  # bounces are in at once, opens within the day: deliverability and fatigue are judged this soon
WATCH_DAYS = 14  # campaigns sent this recently are judged for deliverability
ESP_NAMES = {"mailchimp": "Mailchimp", "customerio": "Customer.io"}
SETTLED_DAYS = 8  # a report this old no longer changes: read once per process
AUDIENCE_DAYS = 7
AB_WINNER = "ab_winner"  # the capability of an ESP that picks a winner and sends it to the rest
TEST_SHARE = 50  # percent of the audience in the test groups where the ESP sends the winner to the rest
# The ESP picks its winner this long after the send: most test clicks are in by then (opens come within
# hours), and the first look, a day after the send, judges the same test groups and sees what it sent.
WAIT_HOURS = 24 * LOOKS[0] - 4
REST_DAYS = 2  # days after the winner's send before its clicks on the rest are judged
REST_CONFIDENCE = 0.99  # as sure as a subject test must be to adopt
STYLES = {
    "a question": lambda s: "?" in s,
    "a number": lambda s: bool(re.search(r"\d", s)),
    "addressed to the reader": lambda s: bool(re.search(r"\b(you|your)\b|\*\|FNAME\|\*|\{\{", s, re.I)),
    "calm": lambda s: not re.search(r"!|\b[A-Z]{3,}\b", s),  # no shouting
    "concise": lambda s: 25 <= len(s.strip()) <= 55,
}


def _sent_day(campaign: dict[str, Any]) -> date | None:
    sent = campaign.get("sent_at")
    return datetime.fromisoformat(sent).date() if isinstance(sent, str) else None


def _regular(campaign: dict[str, Any], passed: set[Any]) -> bool:
    """Not the Director's own test, nor any A/B test (its click rate mixes several subjects), nor passed over."""
    return not (campaign["name"].startswith(OWN_PREFIX) or campaign["id"] in passed or campaign.get("ab_test"))


def _counts(report: dict[str, Any]) -> list[list[int]]:
    """What a look sees: each variant's sent and unique clicks."""
    return [[v["sent"], v["unique_clicks"]] for v in report["variants"]]


def style_of(subject: str) -> set[str]:
    """The features of a subject line a rule can carry to another campaign."""
    return {name for name, has in STYLES.items() if has(subject)}


def learned_style(adopted: str, beaten: str) -> list[str]:
    """What the adopted subject had that the one it beat lacked (all of its style if nothing differs)."""
    return sorted(style_of(adopted) - style_of(beaten) or style_of(adopted))


def rest_of(report: dict[str, Any]) -> Counts:
    """The clicks of the winner's send to everyone outside the test groups: the report covers the whole
    send, its variants the test groups only (delivered estimated at the send's delivery rate)."""
    sent = report["emails_sent"] - sum(v["sent"] for v in report["variants"])
    clicks = report["unique_clicks"] - sum(v["unique_clicks"] for v in report["variants"])
    share = report["delivered"] / report["emails_sent"] if report["emails_sent"] else 1.0
    delivered = max(0, round(sent * share))
    return Counts(min(max(0, clicks), delivered), delivered)


def above_probability(observed: Counts, baseline: float) -> float:
    """The chance the observed rate is above the baseline (normal approximation of a proportion)."""
    if observed.trials <= 0:
        return 0.5
    rate = observed.rate
    spread = max(rate * (1 - rate), baseline * (1 - baseline)) / observed.trials
    return NormalDist().cdf((rate - baseline) / spread**0.5) if spread > 0 else 0.5


class EmailEngagementLoop:
    name = NAME

    def wanted(self, pool: ServerPool) -> bool:
        return any(pool.has(s) for s in ESPS)

    async def tick(self, d: Director) -> None:
        for test in d.store.client_steps(d.client, loop=NAME, kind="test"):
            if test.status is StepStatus.OPEN and (test.run_id == d.run_id or self._sent_step(d, test)):
                await self._advance(d, test)
        for test in d.store.client_steps(d.client, loop=NAME, kind="test"):
            if test.data.get("automatic") and test.data.get("campaign_id") and self._sent_step(d, test):
                await self._follow(d, test)
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
        scope = f"{server}:{audience['id']}"
        listed = (await d.read(f"{server}.list_campaigns", {"status": "sent", "limit": LISTED}))["items"]
        tests = [t for t in d.store.client_steps(d.client, loop=NAME, kind="test") if t.data["server"] == server]
        tested = {t.data["source"] for t in tests}
        own = {t.data.get("campaign_id") for t in tests}
        explained, held = await self._health(d, server, scope, audience, listed, own)
        baseline = audience.get("avg_click_rate")
        if not baseline:
            return
        weak = []
        for campaign in self._candidates(d, listed, own | explained):
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
        waiting = held or self._waiting(d, scope, tests)
        if waiting:
            d.note(f"{NAME}: {server}: {finding}; its subject test waits: {waiting}")
            return
        d.say(f"   {server}: {finding}")
        await self._start(d, server, scope, audience, baseline, campaign, report)

    # -- health: deliverability and fatigue, before any subject is blamed -----------------------

    async def _health(
        self, d: Director, server: str, scope: str, audience: dict[str, Any], listed: list[dict], own: set[Any]
    ) -> tuple[set[str], str | None]:
        """Deliverability and list fatigue on the audience's recent campaigns, each reported once per client:
        (the campaigns they explain, which are no subject test's candidates; why a new subject test on the
        audience waits, or None)."""
        mine = [c for c in listed if c.get("audience_id") in (None, audience["id"]) and _sent_day(c) is not None]
        mine.sort(key=lambda c: c["sent_at"], reverse=True)
        sends: list[Send] = []
        for campaign in mine:
            day = _sent_day(campaign)
            if not _regular(campaign, own) or day is None or (d.today - day).days < HEALTH_AGE_DAYS:
                continue
            report = await self._report(d, server, campaign)
            if report["emails_sent"] >= MIN_DELIVERED:
                sends.append(Send.of(campaign, report, day))
        hit = {r.data["campaign_id"] for r in self._reports(d, "deliverability")}
        recent = [s for s in sends if s.id not in hit and (d.today - s.day).days <= WATCH_DAYS]
        for send in reversed(recent):  # oldest first: a campaign found hit is no later one's history
            history = [s for s in sends[sends.index(send) + 1 :] if s.id not in hit]
            problem = delivery_problem(send, history, tests=len(recent))
            if problem is not None:
                hit.add(send.id)
                self._report_delivery(d, server, scope, problem)
        reports = self._reports(d)
        clean = [s for s in sends if s.id not in hit]
        tired = fatigue(clean)
        days = [day for c in mine if (day := _sent_day(c)) is not None]
        episodes = [
            date.fromisoformat(r.data["since"])
            for r in reports
            if r.data.get("incident") == "fatigue" and r.object == scope
        ]
        if tired is not None and not any(in_episode(tired.recent[0].day, since, days) for since in episodes):
            episodes.append(tired.recent[-1].day)
            self._report_fatigue(d, server, scope, audience, tired, days)
        tired_ids = {
            c["id"] for c in mine if any(in_episode(_sent_day(c) or date.min, since, days) for since in episodes)
        }
        explained = hit | tired_ids
        held = None
        latest = max(days, default=None)
        if latest is not None and any(in_episode(latest, since, days) for since in episodes):
            held = "the audience is tired of its campaigns; another send makes it worse"
        delivery = [r for r in reports if r.data.get("incident") == "deliverability" and r.data["server"] == server]
        if any((d.today - r.dated()).days < RESTED_DAYS for r in delivery):
            held = f"{server}'s deliverability comes first (its latest campaigns bounced or went to spam)"
        return explained, held

    @staticmethod
    def _reports(d: Director, incident: str | None = None) -> list[Step]:
        """The incidents reported for the client in any run (of one kind, or all)."""
        steps = d.store.client_steps(d.client, loop=NAME, kind="report")
        return [r for r in steps if incident is None or r.data.get("incident") == incident]

    def _report_delivery(self, d: Director, server: str, scope: str, problem: DeliveryProblem) -> None:
        """One step per campaign hit (the client's memory of what no subject test may judge); the incident is
        noted once, on its first campaign: later ones within RESTED_DAYS of a report belong to it."""
        send = problem.send
        earlier = [
            r
            for r in self._reports(d, "deliverability")
            if r.data["server"] == server and (d.today - r.dated()).days < RESTED_DAYS
        ]
        data = {"incident": "deliverability", "server": server, "campaign_id": send.id, "subject": send.subject}
        data |= {"sent": send.day.isoformat(), "bounced": problem.bounced, "unopened": problem.unopened}
        d.record(f"{NAME}:deliverability:{server}:{send.id}", loop=NAME, object=scope, kind="report", data=data)
        what = f"'{send.subject}' ({send.id}, sent {send.day}): {problem.numbers()}"
        if earlier:
            d.say(f"   {server}: the deliverability incident goes on: {what}")
            return
        cause = " and ".join(
            part
            for part, found in (
                ("its bounces rose", problem.bounced),
                ("its opens fell as mail landing in spam does (even privacy proxies do not open it)", problem.unopened),
            )
            if found
        )
        d.note(
            f"{NAME}: {server}: deliverability incident: {what}. {cause[0].upper()}{cause[1:]}: not a subject-line "
            f"problem, so no subject test. Next: check the sending domain's authentication (SPF, DKIM, and a DMARC "
            f"record aligned with the From address), the list's recent imports (addresses that never opted in, old "
            f"or bought lists), and {ESP_NAMES.get(server, server)}'s compliance page (a warning or a sending limit "
            f"on the account); hold other sends until a campaign delivers as usual."
        )

    def _report_fatigue(
        self, d: Director, server: str, scope: str, audience: dict[str, Any], tired: Fatigue, days: list[date]
    ) -> None:
        since = tired.recent[-1].day
        d.record(
            f"{NAME}:fatigue:{scope}:{since}",
            loop=NAME,
            object=scope,
            kind="report",
            data={
                "incident": "fatigue",
                "server": server,
                "since": since.isoformat(),
                "campaigns": [s.id for s in tired.recent],
            },
        )
        lately = [day for day in days if (d.today - day).days < RESTED_DAYS]
        now, before = cadence(lately), cadence([s.day for s in tired.earlier])
        usual = max(7.0, before or 7.0)
        d.note(
            f"{NAME}: {server}: list fatigue on {audience['name']}: {tired.numbers()}. It got {len(lately)} campaigns "
            f"in the last {RESTED_DAYS} days"
            + (
                f" (one every {now:g} days" + (f", against one every {before:g} before)" if before else ")")
                if now
                else ""
            )
            + f": send less often, at most one every {usual:g} days, and keep any extra send for the subscribers who "
            "clicked lately. A new subject will not fix it, so no subject test."
        )

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

    @staticmethod
    def _candidates(d: Director, listed: list[dict[str, Any]], passed: set[Any]) -> list[dict[str, Any]]:
        """The newest sent campaigns that are neither the Director's own tests, nor explained by something a
        subject does not cause (``passed``), nor too recent to judge."""
        out = []
        for campaign in listed:
            if not _regular(campaign, passed):
                continue
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
        automatic = await self._picks_winner(d, server)
        rule = None if automatic else self._rule(d, scope)
        original = report["subject"] or campaign["name"]
        if rule is None:
            variants = await d.planner.subject_lines(original, audience=audience["name"], count=2)
        else:  # one more written than sent: the two that carry the rule's style most are sent
            written = await d.planner.subject_lines(original, audience=audience["name"], count=3)
            variants = sorted(written, key=lambda v: -len(style_of(v) & set(rule["style"])))[:2]
            rule["styled"] = [v for v in variants if style_of(v) & set(rule["style"])]
            d.say(f"   {server}: applying the rule from '{rule['name']}': {rule['text']}")
        subjects = [report["subject"], *variants]
        html = (await d.read(f"{server}.get_campaign_content", {"campaign_id": campaign["id"]}))["html"]
        name = f"{OWN_PREFIX} {d.run_id[-4:]}-{campaign['id']}"[:190]
        split: dict[str, Any] = (
            {"test_size": TEST_SHARE, "winner_criteria": "clicks", "wait_hours": WAIT_HOURS}
            if automatic
            else {"test_size": 100, "winner_criteria": "manual"}
        )
        test = {
            "server": server,
            "scope": scope,
            "source": campaign["id"],
            "baseline": baseline,
            "subjects": subjects,
            "name": name,
            "automatic": automatic,
            "create": {
                "name": name,
                "subject_lines": subjects,
                "html": html,
                "audience_id": audience["id"],
                **split,
            },
        }
        if rule is not None:
            test["rule"] = rule
        d.record(key, loop=NAME, object=scope, kind="test", data=test, status=StepStatus.OPEN)
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
            if data.get("rule"):
                self._judge_rule(d, test, data, data["rule"], verdict, last["evidence"]["challenger"])
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
        if data.get("rule"):
            evidence["rule"] = data["rule"]
        d.store.decide(d.run_id, test.key, NAME, data["scope"], decision.verdict, evidence, day)
        if decision.verdict == "continue":
            d.say(f"   {data['name']}: not enough evidence yet ({decision.reason})")
            return
        self._close(d, test, data, decision.verdict, best["subject"], original["subject"])
        then = (
            "; the ESP sends its winner to the rest of the audience, judged there"
            if data.get("automatic")
            else "; the audience's next test leads with its style"
        )
        rule = data.get("rule")
        if rule:  # this test judges the rule an earlier win taught
            then += self._judge_rule(d, test, data, rule, decision.verdict, best["subject"])
        reason = decision.reason.rstrip(".")
        if decision.verdict == "keep":
            d.note(
                f"{NAME}: adopt '{best['subject']}' over '{original['subject']}' for {data['scope']}: {reason}{then}."
            )
        else:
            d.note(
                f"{NAME}: keep the original style '{original['subject']}' for {data['scope']}: {reason}"
                + (then if rule else "")
                + "."
            )

    @staticmethod
    def _judge_rule(
        d: Director, test: Step, data: dict[str, Any], rule: dict[str, Any], verdict: str, best: str
    ) -> str:
        """The rule's own decision: confirmed when a challenger carrying its style won."""
        styled = best in rule.get("styled", [])
        outcome = "keep" if verdict == "keep" and styled else "contradicted" if verdict == "keep" else "unclear"
        reason = {
            "keep": f"'{best}', which carries it, beat the campaign's own subject",
            "contradicted": f"'{best}', which does not carry it, won",
            "unclear": "no challenger beat the campaign's own subject",
        }[outcome]
        evidence = {
            "reason": f"The rule {rule['text']}: {reason}",
            "rule": rule,
            "winner": best if verdict == "keep" else None,
        }
        d.store.decide(d.run_id, f"{test.key}:rule", NAME, data["scope"], outcome, evidence, d.today.isoformat())
        return f"; the rule from '{rule['name']}' ({', '.join(rule['style'])}): {reason}"

    def _close(self, d: Director, test: Step, data: dict[str, Any], verdict: str, best: str, original: str) -> None:
        d.cool(data["scope"])
        adopted = best if verdict == "keep" else original
        self._update(d, test, {**data, "verdict": verdict, "adopted": adopted}, StepStatus.CLOSED)

    # -- acting on a win -------------------------------------------------------------------------

    @staticmethod
    async def _picks_winner(d: Director, server: str) -> bool:
        """Whether the ESP picks a winner and sends it to the rest of the audience (read once per process)."""
        cache: dict[str, bool] = d.memory.setdefault(f"{NAME}:picks_winner", {})
        if server not in cache:
            info = await d.read(f"{server}.account_info", {})
            cache[server] = AB_WINNER in info.get("capabilities", [])
        return cache[server]

    @staticmethod
    def _rule(d: Director, scope: str) -> dict[str, Any] | None:
        """What the audience's latest won test taught (any run of the client), or None."""
        won = [
            t
            for t in d.store.client_steps(d.client, loop=NAME, kind="test")
            if t.data["scope"] == scope and t.data.get("verdict") == "keep" and t.data.get("adopted")
        ]
        if not won:
            return None
        last = won[-1]  # steps come in the order they were last written: the latest closed
        adopted, beaten = last.data["adopted"], last.data["subjects"][0]
        style = learned_style(adopted, beaten)
        text = f"'{adopted}' beat '{beaten}'" + (f" ({', '.join(style)})" if style else "")
        return {"test": last.key, "name": last.data["name"], "adopted": adopted, "style": style, "text": text}

    async def _follow(self, d: Director, test: Step) -> None:
        """Where the ESP sends the winner to the rest: record what it sent, then judge how the rest clicked."""
        key, data, server = f"{test.key}:outcome", test.data, test.data["server"]
        step = d.store.step(test.run_id, key)
        state: dict[str, Any] = dict(step.data) if step is not None else {}
        if state.get("verdict"):
            return
        if not state.get("winner"):
            ab = (await d.read(f"{server}.get_campaign", {"campaign_id": data["campaign_id"]})).get("ab_test") or {}
            if not ab.get("winner"):
                return  # still waiting for the ESP's pick
            state = {"winner": ab["winner"], "winner_day": d.today.isoformat()}
            self._put_outcome(d, test, state, StepStatus.OPEN)
            d.note(
                f"{NAME}: {server} sent '{ab['winner']}', the winner of '{data['name']}', to the rest of the audience"
            )
        if (d.today - date.fromisoformat(state["winner_day"])).days < REST_DAYS:
            return
        report = await d.read(f"{server}.campaign_report", {"campaign_id": data["campaign_id"]})
        rest, baseline = rest_of(report), data["baseline"]
        if rest.trials < MIN_DELIVERED:
            return
        probability = above_probability(rest, baseline)
        verdict = (
            "keep" if probability >= REST_CONFIDENCE else "below" if probability <= 1 - REST_CONFIDENCE else "unclear"
        )
        reason = (
            f"'{state['winner']}' clicked {rest.rate:.2%} on the rest of the audience ({rest.successes:g} of "
            f"{rest.trials:g}) against the audience's {baseline:.2%} ({probability:.0%} that it is above)"
        )
        day = d.today.isoformat()
        d.store.measure(d.run_id, NAME, data["scope"], "Click rate, rest of the audience", day, rest.rate, unit="%")
        evidence = {
            "reason": reason,
            "probability": probability,
            "effect": rest.rate / baseline - 1,  # against the audience's baseline
            "winner": state["winner"],
            "rest": [rest.trials, rest.successes],
        }
        d.store.decide(d.run_id, key, NAME, data["scope"], verdict, {**evidence, "baseline": baseline}, day)
        self._put_outcome(d, test, {**state, "verdict": verdict, "rate": rest.rate}, StepStatus.CLOSED)
        d.note(f"{NAME}: the winner the ESP sent: {reason}")

    @staticmethod
    def _put_outcome(d: Director, test: Step, state: dict[str, Any], status: StepStatus) -> None:
        d.record(
            f"{test.key}:outcome",
            loop=NAME,
            object=test.object,
            kind="outcome",
            data=state,
            status=status,
            run_id=test.run_id,
        )

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
