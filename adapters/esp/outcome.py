"""Whether a send, schedule or cancel really happened: the campaign as the ESP reads it back decides.

A 2xx answer, or a garbled or lost one, is not proof of a send: only the campaign's state is. Each
campaign action ends here with the ESP's answer (or why it was in doubt) and a read-back:
- the read-back shows the action done: the campaign is returned;
- it shows the action not done after a garbled or lost answer: nothing happened, so it is safe to
  try again, and the error says so;
- it shows the action not done after a clean answer, or it cannot be read: `OutcomeUnknown`, with
  what to check before trying again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Awaitable, Callable

from ..errors import AdapterError, NotApplied, OutcomeUnknown
from .base import Campaign

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Action:
    verb: str  # "send"
    past: str  # "sent"
    tool: str  # the tool that does it again: "send_campaign"
    done: Callable[[Campaign], bool]
    effect: str = ""  # what "not done" means for people: "nobody was emailed"


SEND = Action("send", "sent", "send_campaign", lambda c: c.status in ("sending", "sent"), " Nothing went out.")


def schedule_at(when: datetime) -> Action:
    return Action(
        "schedule",
        f"scheduled for {when:%Y-%m-%d %H:%M} UTC",
        "schedule_campaign",
        lambda c: c.status == "scheduled" and c.scheduled_for == when,
    )


CANCEL = Action("cancel", "stopped", "cancel_campaign", lambda c: c.status not in ("scheduled", "sending"))


async def confirmed(
    vendor: str, campaign_id: str, action: Action, read: Callable[[], Awaitable[Campaign]], doubt: str | None
) -> Campaign:
    """The campaign after `action`, read back from the ESP. `doubt` says why the answer proves nothing."""
    answer = doubt or f"{vendor} accepted the {action.verb}"
    try:
        campaign = await read()
    except AdapterError as exc:
        raise OutcomeUnknown(
            f"{answer}, and campaign {campaign_id} could not be read back to check ({exc.message}); it may or may not "
            f"have been {action.past}.",
            hint=f"Call get_campaign for {campaign_id} before anything else: do not {action.verb} it again unless it "
            f"is not {action.past}.",
            vendor=vendor,
        ) from None
    if action.done(campaign):
        if doubt:
            log.info("%s campaign %s: %s, but it reads back as %s", vendor, campaign_id, doubt, campaign.status)
        return campaign
    if doubt:
        raise NotApplied(
            f"Campaign {campaign_id} was not {action.past}: {doubt}, and {vendor} still shows it as {campaign.status}."
            f"{action.effect}",
            hint=f"It is safe to call {action.tool} again.",
            vendor=vendor,
        )
    raise OutcomeUnknown(
        f"{vendor} accepted the {action.verb} of campaign {campaign_id}, but it still reads as {campaign.status}; it "
        f"is not known whether it will be {action.past}.",
        hint=f"Call get_campaign for {campaign_id} in a minute; {action.verb} it again only if it still is not "
        f"{action.past}.",
        vendor=vendor,
    )
