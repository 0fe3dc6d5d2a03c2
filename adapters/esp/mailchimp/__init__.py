"""Mailchimp through the official mailchimp-marketing SDK (Marketing API 3.0).

The modules: `transport` runs SDK calls (worker threads, the 10 connections per account, retries,
lost answers), `seam` adjusts the SDK where it falls short, `problems` turns Mailchimp's refusals into
adapter errors, `audiences` and `campaigns` map the ESP methods, `adapter` puts them together.

Traps of mailchimp-marketing 3.0.80, handled here:
- `_request_timeout` is accepted by every method and then ignored: requests always get the client's
  `timeout` (120 s). The client is adjusted so each call's own timeout reaches requests.
- Transport failures come back as `ApiClientError` with no status code and the requests exception
  as `text`; error documents are `application/problem+json`, which it leaves as a JSON string. The
  error carries no headers: the client keeps the last response's headers so Retry-After can be read.
- A success whose body is not JSON (or an error without a body) is returned as the raw
  `requests.Response` instead of raising. Actions answer 204 with no body; anything else there is garbage.

Mailchimp facts the mapping relies on: a member's ID is the MD5 of its lowercase address; list stats
give rates in percent, reports as fractions; a campaign is scheduled on the quarter-hour only; a
batch subscribe takes 500 members, answers 200 and lists each member it refused.
"""

from .adapter import CAPABILITIES, Mailchimp
from .audiences import BATCH_SIZE, subscriber_hash
from .seam import sdk_seam
from .transport import connection_slots
from .wire import MAX_CONNECTIONS, PAGE_MAX, VENDOR

__all__ = [
    "BATCH_SIZE",
    "CAPABILITIES",
    "MAX_CONNECTIONS",
    "PAGE_MAX",
    "VENDOR",
    "Mailchimp",
    "connection_slots",
    "sdk_seam",
    "subscriber_hash",
]
