"""Upserting contacts: the ESP adapters' batched upsert against one call per contact, on the sandbox.

    python benchmarks/esp_upsert.py [--contacts 5000] [--latency 0.02]

Both sides go through the same adapter plumbing (Mailchimp: the SDK in worker threads, 10 connections
per account; Customer.io: httpx with the Track API's 100 requests/s), against the sandbox in its own
process. `--latency` adds that many seconds to every Mailchimp request, as a network would. Each side
upserts fresh addresses, so both create the same number of contacts. Target: batched >= 10x faster.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
import uuid

from _common import SandboxProcess, report, signed_in


def esp_config(url: str) -> dict:
    return {
        "clients": {
            "bench": {
                "sandbox": url,
                "servers": {
                    "mailchimp": {"settings": {"api_base": f"{url}/mailchimp/3.0"}},
                    "customerio": {
                        "settings": {
                            "app_api_base": f"{url}/customerio/app/v1",
                            "track_api_base": f"{url}/customerio/track/api",
                        }
                    },
                },
            }
        }
    }


def fresh(n: int, label: str) -> list[str]:
    run = uuid.uuid4().hex[:6]
    return [f"{label}.{run}.{i}@northwind-customers.com" for i in range(n)]


async def one_by_one(server: str, adapter, audience: str, emails: list[str]) -> None:
    """The naive path: one upsert request per contact, as many in flight as the vendor allows."""
    from adapters.esp.mailchimp import subscriber_hash

    if server == "mailchimp":

        async def put(email: str) -> None:
            body = {"email_address": email, "status_if_new": "subscribed"}
            await adapter._call(
                lambda c, t: c.lists.set_list_member(audience, subscriber_hash(email), body, _request_timeout=t)
            )
    else:

        async def put(email: str) -> None:
            await adapter.track.request("PUT", f"v1/customers/{email}", json={"email": email})

    await asyncio.gather(*(put(e) for e in emails))


async def main(contacts: int, latency: float) -> int:
    import httpx

    from adapters.esp.base import ContactUpsert
    from adapters.timing import deadline_after
    from suite.config import parse_config
    from suite.wiring import ADAPTERS, Wiring

    ok = True
    with SandboxProcess() as sandbox:
        httpx.post(f"{sandbox.url}/_sandbox/config", json={"mailchimp_latency": latency}).raise_for_status()
        config = parse_config(signed_in(esp_config(sandbox.url)))
        for server in ("mailchimp", "customerio"):
            adapter = await ADAPTERS[server](Wiring(config, "bench", server))
            audience = max((await adapter.list_audiences(None, 10)).items, key=lambda a: a.member_count).id
            with deadline_after(3600):
                started = time.perf_counter()
                result = await adapter.upsert_contacts(
                    audience, [ContactUpsert(email=e) for e in fresh(contacts, "batch")]
                )
                batched = time.perf_counter() - started
                assert result.created == contacts and not result.failed, result
                started = time.perf_counter()
                await one_by_one(server, adapter, audience, fresh(contacts, "single"))
                single = time.perf_counter() - started
            await adapter.aclose()
            print(
                f"{server}: {contacts} contacts batched in {batched:.2f} s ({result.requests} requests), "
                f"one call per contact in {single:.2f} s ({contacts} requests)"
            )
            ok &= report(f"{server} one-per-contact / batched", single / batched, ">= 10", single / batched >= 10, "x")
    return 0 if ok else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--contacts", type=int, default=5000)
    parser.add_argument("--latency", type=float, default=0.02, help="seconds added to each Mailchimp request")
    args = parser.parse_args()
    sys.exit(asyncio.run(main(args.contacts, args.latency)))
