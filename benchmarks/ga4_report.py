"""run_report through MCP (stdio) against the same report by a direct SDK call, on one sandbox, in one run.

    python benchmarks/ga4_report.py [--calls 200]

added = median(run_report tool over stdio) - median(direct BetaAnalyticsDataClient.run_report)
        - median(bare echo over stdio)

i.e. what our server adds to a GA4 report beyond the SDK call and the MCP protocol itself
(name checks from cached metadata, the worker thread, the result model). Target <= 2 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
from pathlib import Path

from _common import SandboxProcess, bare_echo, median, report, served, signed_in, timed

PROPERTY = "420000001"
REPORT = {
    "property": PROPERTY,
    "dimensions": ["landingPage"],
    "metrics": ["sessions", "keyEvents"],
    "date_ranges": [{"start": "28daysAgo", "end": "yesterday"}],
    "limit": 10,
}


def ga4_config(url: str) -> dict:
    return {
        "clients": {
            "bench": {
                "sandbox": url,
                "servers": {
                    "ga4": {
                        "settings": {"properties": {"web": PROPERTY}, "api_base": url},
                        "rate_limits": {"default": "100000/s"},
                    }
                },
            }
        }
    }


async def main(calls: int) -> int:
    from google.analytics.data_v1beta import BetaAnalyticsDataClient
    from google.analytics.data_v1beta import types as t
    from google.api_core.client_options import ClientOptions
    from mcp import Client

    from credentials.vault import Vault

    with SandboxProcess() as sandbox, tempfile.TemporaryDirectory() as tmp:
        raw = signed_in(ga4_config(sandbox.url))
        config = Path(tmp) / "mcp.json"
        config.write_text(json.dumps(raw))

        sdk = BetaAnalyticsDataClient(
            credentials=Vault.open("bench").google_credentials(),
            transport="rest",
            client_options=ClientOptions(api_endpoint=sandbox.url),
        )
        request = t.RunReportRequest(
            property=f"properties/{PROPERTY}",
            dimensions=[t.Dimension(name="landingPage")],
            metrics=[t.Metric(name="sessions"), t.Metric(name="keyEvents")],
            date_ranges=[t.DateRange(start_date="28daysAgo", end_date="yesterday")],
            limit=10,
            metric_aggregations=[t.MetricAggregation.TOTAL],
            return_property_quota=True,
        )
        direct = await timed(calls, lambda: asyncio.to_thread(sdk.run_report, request=request))

        async with Client(served("ga4", config)) as client:

            async def tool():
                result = await client.call_tool("run_report", REPORT)
                assert not result.is_error, result.content

            stdio = await timed(calls, tool)

        echo = await bare_echo(calls)

    d, s, e = median(direct) * 1000, median(stdio) * 1000, median(echo) * 1000
    print(
        f"direct SDK run_report: {d:.2f} ms; run_report over stdio: {s:.2f} ms; bare echo over stdio: {e:.2f} ms "
        f"({calls} calls each)"
    )
    added = s - d - e
    return 0 if report("added by the ga4 server", added, "<= 2 ms", added <= 2.0, " ms") else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=200)
    sys.exit(asyncio.run(main(parser.parse_args().calls)))
