"""The Mailchimp ESP adapter: the account, and the audience and campaign methods put together."""

from __future__ import annotations

from ..base import (
    CAP_AB_SUBJECT,
    CAP_AB_WINNER,
    CAP_CANCEL,
    CAP_LINK_CLICKS,
    CAP_MERGE_FIELDS,
    CAP_PROXY_OPENS,
    CAP_SCHEDULE,
    CAP_SEGMENTS,
    CAP_TAGS,
    CAP_TEST_SEND,
    AccountInfo,
)
from .audiences import AudienceCalls
from .campaigns import CampaignCalls
from .wire import MAX_CONNECTIONS

CAPABILITIES = frozenset(
    {
        CAP_SEGMENTS,
        CAP_TAGS,
        CAP_MERGE_FIELDS,
        CAP_SCHEDULE,
        CAP_CANCEL,
        CAP_TEST_SEND,
        CAP_AB_SUBJECT,
        CAP_AB_WINNER,
        CAP_PROXY_OPENS,
        CAP_LINK_CLICKS,
    }
)


class Mailchimp(AudienceCalls, CampaignCalls):
    """One Mailchimp account. `client` is a configured `mailchimp_marketing.Client`, or a function returning one."""

    vendor = "mailchimp"

    async def aclose(self) -> None:
        pass  # the SDK holds no connections: requests' module-level calls open one per request

    async def capabilities(self) -> frozenset[str]:
        return CAPABILITIES

    async def account_info(self) -> AccountInfo:
        root = await self._call(lambda c, t: c.root.get_root(_request_timeout=t))
        return AccountInfo(
            vendor=self.vendor,
            account=str(root.get("account_name") or self.account),
            capabilities=sorted(CAPABILITIES),
            notes=[
                "Audiences are Mailchimp lists; a contact's ID is the MD5 of its lowercase address.",
                f"Mailchimp allows {MAX_CONNECTIONS} simultaneous connections per account; calls "
                "beyond that wait their turn.",
                "Campaigns are scheduled on the quarter-hour (:00, :15, :30, :45), in UTC.",
                "Open rates include privacy-proxy (machine) opens; judge campaigns on clicks or on human_open_rate.",
                "Mailchimp will not resubscribe contacts who unsubscribed or bounced.",
            ],
        )
