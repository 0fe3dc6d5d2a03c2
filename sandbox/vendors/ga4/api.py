"""Google Analytics 4: the Data API v1beta and the Admin API's account summaries.

Paths are the ones the REST transports of the real SDKs call (the real hosts are
analyticsdata.googleapis.com and analyticsadmin.googleapis.com):

    POST /v1beta/properties/{id}:runReport
    POST /v1beta/properties/{id}:runRealtimeReport
    GET  /v1beta/properties/{id}/metadata          (id 0: the metadata common to every property)
    GET  /v1beta/accountSummaries                  (Admin API, pageSize / pageToken)

Requests arrive as proto3 JSON: camelCase names (snake_case accepted too),
int64 values as strings, enums as integers (google-api-core sends
``use_integers_for_enums``) or names. Answers are proto3 JSON with enums as
names, and errors are Google's ``{"error": {"code", "message", "status"}}``.

Auth: a bearer token from the sandbox's Google OAuth server with an analytics
scope. Quotas per property and category (core, realtime): tokens per day and
hour, tokens per project (OAuth client) and hour, concurrent requests, server
errors per project and hour, potentially thresholded requests per hour; see
``google.state`` for the token cost.

This module holds the request flow (routing, authorization, quotas) and the Admin API's account
summaries; ``reports`` computes the reports, ``metadata`` is the schema, and ``fields`` and
``filters`` read a request.
"""

from __future__ import annotations

import asyncio
import base64
import re
from dataclasses import dataclass
from typing import Any, Protocol

from starlette.requests import Request
from starlette.responses import Response

from ...headers import bearer
from ...traffic import MAIN_PROPERTY, STAGING_PROPERTY
from ...world import World
from ..google.errors import ANALYTICS_READ, GoogleError, authorize, json_body
from ..google.routing import Unrouted, google_router, json_response
from ..google.state import GoogleState, PropertyQuota
from ..oauth.server import Grant
from ..router import VendorRoute
from .fields import flag
from .metadata import property_metadata
from .reports import ReportRun, run_realtime_report, run_report

__all__ = ["account_summaries", "handle", "note_server_error", "run_realtime_report", "run_report"]

DATA_SERVICE = "analyticsdata.googleapis.com"
ADMIN_SERVICE = "analyticsadmin.googleapis.com"
DATA_METHOD = "google.analytics.data.v1beta.BetaAnalyticsData."
ACCOUNT = {"id": "100", "name": "Northwind Coffee Roasters"}
PROPERTIES = {MAIN_PROPERTY: "Northwind Coffee \u2014 web", STAGING_PROPERTY: "Northwind Coffee \u2014 staging"}
PROPERTY_ID_URL = "https://developers.google.com/analytics/devguides/reporting/data/v1/property-id"
QUOTAS_URL = "https://developers.google.com/analytics/devguides/reporting/data/v1/quotas"
# Data API calls whose injected 5xx faults count as server errors of the property (whatever the method).
_DATA_CALL = re.compile(r"/v1beta/properties/(\d+):(runReport|runRealtimeReport)")


class Report(Protocol):
    """``run_report`` or ``run_realtime_report``."""

    def __call__(self, world: World, prop: str, body: dict[str, Any], plan_only: bool = False) -> ReportRun: ...


@dataclass(frozen=True)
class Call:
    """One request to the API and the world it reads."""

    request: Request
    world: World


# -- HTTP entry point -------------------------------------------------------------------------


async def handle(request: Request, world: World, rest: str) -> Response:
    """Everything under ``/v1beta/``: the Data API and the Admin API's account summaries."""
    try:
        try:
            handler, params = ROUTER.resolve(request.method, "/" + rest)
        except Unrouted as miss:
            where = request.url.path if miss.routed_path else f"/v1beta/{rest}"
            raise GoogleError(404, f"Method not found: {request.method} {where}") from None
        return await handler(Call(request, world), **params)
    except GoogleError as err:
        return json_response(err.body(), err.code, err.headers)


async def _list_account_summaries(call: Call) -> Response:
    authorize(
        call.world,
        call.request.headers,
        ANALYTICS_READ,
        service=ADMIN_SERVICE,
        method="google.analytics.admin.v1beta.AnalyticsAdminService.ListAccountSummaries",
    )
    return json_response(account_summaries(dict(call.request.query_params)))


async def _get_metadata(call: Call, prop_id: str) -> Response:
    _authorize_data(call, "GetMetadata")
    return json_response(property_metadata(_property(prop_id, allow_zero=True)))


async def _run_report(call: Call, prop_id: str) -> Response:
    grant = _authorize_data(call, "RunReport")
    prop = _property(prop_id)
    body = await json_body(call.request, legacy=False)
    return await _metered(call.world, prop, "core", grant.client_id, body, run_report)


async def _run_realtime_report(call: Call, prop_id: str) -> Response:
    grant = _authorize_data(call, "RunRealtimeReport")
    prop = _property(prop_id)
    body = await json_body(call.request, legacy=False)
    return await _metered(call.world, prop, "realtime", grant.client_id, body, run_realtime_report)


def _authorize_data(call: Call, rpc: str) -> Grant:
    return authorize(call.world, call.request.headers, ANALYTICS_READ, service=DATA_SERVICE, method=DATA_METHOD + rpc)


def _property(prop_id: str, *, allow_zero: bool = False) -> str:
    if not prop_id.isdigit():
        raise GoogleError(
            400,
            f"Invalid property ID: {prop_id}. A numeric Property ID is required. To learn more "
            f"about Property ID, see {PROPERTY_ID_URL}.",
        )
    prop = str(int(prop_id))
    if prop in PROPERTIES or (allow_zero and prop == "0"):
        return prop
    raise GoogleError(
        403,
        "User does not have sufficient permissions for this property. To learn more about "
        f"Property ID, see {PROPERTY_ID_URL}.",
    )


# -- quotas ------------------------------------------------------------------------------------


def _exhausted(what: str) -> GoogleError:
    return GoogleError(429, f"Exhausted {what} for a property. To learn more about quotas, see {QUOTAS_URL}.")


async def _metered(
    world: World,
    prop: str,
    category: str,
    project: str,
    body: dict[str, Any],
    run: Report,
) -> Response:
    with world.lock:
        plan = run(world, prop, body, plan_only=True)  # validation errors come before quota checks
        state = world.google
        quota = state.quota(prop, category)
        _check(state, quota, project, thresholded=plan[2])
        quota.in_flight += 1
    try:
        while world.google.hold:
            await asyncio.sleep(0.005)
        with world.lock:
            response, cost, thresholded = run(world, prop, body)
            now = state.monotonic()
            quota.day.add(now, cost)
            quota.hour.add(now, cost)
            quota.project(project).add(now, cost)
            if thresholded:
                quota.thresholded.add(now, 1)
            if flag(body, "returnPropertyQuota"):
                response["propertyQuota"] = _quota_json(state, quota, project)
    finally:
        with world.lock:
            quota.in_flight -= 1
    return json_response(response)


def _check(state: GoogleState, quota: PropertyQuota, project: str, *, thresholded: bool) -> None:
    now = state.monotonic()
    if quota.day.used(now) >= state.limit("ga4_tokens_per_day"):
        raise _exhausted("property tokens per day")
    if quota.hour.used(now) >= state.limit("ga4_tokens_per_hour"):
        raise _exhausted("property tokens per hour")
    if quota.project(project).used(now) >= state.limit("ga4_tokens_per_project_per_hour"):
        raise _exhausted("property tokens per project per hour")
    if quota.errors(project).used(now) >= state.limit("ga4_server_errors_per_project_per_hour"):
        raise _exhausted("server errors per project per hour")
    if thresholded and quota.thresholded.used(now) >= state.limit("ga4_thresholded_requests_per_hour"):
        raise _exhausted("potentially thresholded requests per hour")
    if quota.in_flight >= state.limit("ga4_concurrent_requests"):
        raise _exhausted("concurrent requests")


def _quota_json(state: GoogleState, quota: PropertyQuota, project: str) -> dict[str, Any]:
    now = state.monotonic()

    def status(used: int, limit: str) -> dict[str, int]:
        return {"consumed": used, "remaining": max(0, state.limit(limit) - used)}

    return {
        "tokensPerDay": status(quota.day.used(now), "ga4_tokens_per_day"),
        "tokensPerHour": status(quota.hour.used(now), "ga4_tokens_per_hour"),
        "concurrentRequests": status(quota.in_flight, "ga4_concurrent_requests"),
        "serverErrorsPerProjectPerHour": status(
            quota.errors(project).used(now), "ga4_server_errors_per_project_per_hour"
        ),
        "potentiallyThresholdedRequestsPerHour": status(
            quota.thresholded.used(now), "ga4_thresholded_requests_per_hour"
        ),
        "tokensPerProjectPerHour": status(quota.project(project).used(now), "ga4_tokens_per_project_per_hour"),
    }


def note_server_error(world: World, scope: dict[str, Any], status: int) -> None:
    """An injected 5xx on a Data API call counts against serverErrorsPerProjectPerHour, as a real one would."""
    if status < 500:
        return
    match = _DATA_CALL.fullmatch(scope.get("path", ""))
    if match is None:
        return
    headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
    token = bearer(headers.get("authorization"))
    with world.lock:
        grant = world.oauth.check("google", token) if token else None
        prop = str(int(match.group(1)))
        if grant is None or prop not in PROPERTIES:
            return
        category = "core" if match.group(2) == "runReport" else "realtime"
        state = world.google
        state.quota(prop, category).errors(grant.client_id).add(state.monotonic(), 1)


# -- account summaries (Admin API) ------------------------------------------------------------


def account_summaries(query: dict[str, str]) -> dict[str, Any]:
    try:
        size = int(query.get("pageSize") or 50)
    except ValueError:
        raise GoogleError(
            400, f"Invalid value at 'page_size' ({query.get('pageSize')!r}): expected an integer."
        ) from None
    if size < 0:
        raise GoogleError(400, "page_size must not be negative.")
    size = min(size or 50, 200)
    start = 0
    token = query.get("pageToken")
    if token:
        try:
            start = int(base64.urlsafe_b64decode(token.encode()).decode().removeprefix("offset:"))
        except (ValueError, UnicodeDecodeError):
            raise GoogleError(400, "The page token is invalid.") from None
    account = f"accounts/{ACCOUNT['id']}"
    summaries = [
        {
            "name": f"accountSummaries/{ACCOUNT['id']}",
            "account": account,
            "displayName": ACCOUNT["name"],
            "propertySummaries": [
                {
                    "property": f"properties/{prop}",
                    "displayName": name,
                    "propertyType": "PROPERTY_TYPE_ORDINARY",
                    "parent": account,
                }
                for prop, name in PROPERTIES.items()
            ],
        }
    ]
    page = summaries[start : start + size]
    body: dict[str, Any] = {"accountSummaries": page} if page else {}
    if start + size < len(summaries):
        body["nextPageToken"] = base64.urlsafe_b64encode(f"offset:{start + size}".encode()).decode()
    return body


ROUTER = google_router(  # compiled once, after the handlers it names
    [
        VendorRoute("/accountSummaries", GET=_list_account_summaries),
        VendorRoute("/properties/{prop_id:google_id}:runReport", POST=_run_report),
        VendorRoute("/properties/{prop_id:google_id}:runRealtimeReport", POST=_run_realtime_report),
        VendorRoute("/properties/{prop_id:google_id}/metadata", GET=_get_metadata),
    ]
)
