"""Customer.io through its App API (people, segments, newsletters, metrics) and Track API (writes to people).

How Customer.io maps onto the ESP models:
- the workspace's people are the one audience, `people`, named after the workspace;
- segments are Customer.io segments; `create_segment` makes a manual segment and adds the people;
- campaigns are newsletters (email only); a subject-line A/B test is a newsletter with test groups,
  one content per subject. The API cannot set a test share or pick a winner, so Customer.io splits
  every recipient evenly between the subjects and the winner is judged from the report;
- reports sum the newsletter's metric series; Customer.io separates machine (prefetch) opens and
  reports clicks per link, but counts hard and soft bounces together.

What the API cannot do, and is declared so: test sends (no endpoint), tags on people (use
attributes or segments), stopping a newsletter that is already sending, and telling a scheduled
newsletter from a draft (newsletters carry `sent_at` but no state; `schedule` returns the time it set).

`payloads` holds the API's limits, filters, error bodies and the mapping onto the models; `workspace`
the requests; `adapter` the ESP operations (`CustomerIO`) built from them.
"""

from .adapter import CustomerIO
from .payloads import (
    AUDIENCE_ID,
    BATCH_BYTES,
    CAPABILITIES,
    VENDOR,
    classify_customerio_error,
    parse_customerio_error,
)

__all__ = [
    "AUDIENCE_ID",
    "BATCH_BYTES",
    "CAPABILITIES",
    "VENDOR",
    "CustomerIO",
    "classify_customerio_error",
    "parse_customerio_error",
]
