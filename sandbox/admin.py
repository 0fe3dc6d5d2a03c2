"""Control endpoints under ``/_sandbox/``: health, state, credentials, clock, faults, config, incidents,
traffic (the search and analytics model's design), page defects (the served pages' designed flaws), reset.

These are the sandbox's own API, not a vendor's; faults never apply here.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from . import page_defects
from .vendors.google.state import GOOGLE_DEFAULTS, GOOGLE_SWITCHES
from .world import World

CONFIG_KEYS = (
    "companion_plugin",
    "seo_plugin",
    "webflow_rate_limit",
    "google_oauth_testing",
    "incidents",
    "mailchimp_latency",
    *GOOGLE_DEFAULTS,
    *GOOGLE_SWITCHES,
)


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


async def _json_body(request: Request) -> Any:
    raw = await request.body()
    if not raw.strip():
        return {}
    return json.loads(raw)


def admin_routes(world: World) -> list[Route]:
    async def health(request: Request) -> Response:
        return JSONResponse({"status": "ok", "seed": world.seed})

    async def state(request: Request) -> Response:
        return JSONResponse(world.state())

    async def provision(request: Request) -> Response:
        return JSONResponse(world.provision(str(request.base_url)))

    async def advance(request: Request) -> Response:
        try:
            body = await _json_body(request)
            days = float(body.get("days", 0))
            hours = float(body.get("hours", 0))
            minutes = float(body.get("minutes", 0))
        except (ValueError, TypeError, AttributeError):
            return _error(400, 'expected a JSON object like {"days": 1, "hours": 0}')
        if min(days, hours, minutes) < 0:
            return _error(400, "the clock only moves forward")
        now = world.advance(days=days, hours=hours, minutes=minutes)
        return JSONResponse({"clock": now.isoformat().replace("+00:00", "Z")})

    async def faults(request: Request) -> Response:
        if request.method == "GET":
            return JSONResponse({"faults": world.faults.to_json()})
        if request.method == "DELETE":
            world.faults.clear()
            return JSONResponse({"faults": []})
        try:
            spec = await _json_body(request)
            if not isinstance(spec, dict):
                raise ValueError("expected a JSON object describing one rule")
            rule = world.faults.add(**spec)
        except (ValueError, TypeError) as exc:
            return _error(400, str(exc))
        return JSONResponse(rule.to_json(), status_code=201)

    async def fault(request: Request) -> Response:
        if world.faults.remove(int(request.path_params["rule_id"])):
            return Response(status_code=204)
        return _error(404, "no such fault rule")

    async def config(request: Request) -> Response:
        try:
            body = await _json_body(request)
            if not isinstance(body, dict) or set(body) - set(CONFIG_KEYS):
                raise ValueError(f"expected an object with any of {', '.join(CONFIG_KEYS)}")
            world.configure(**body)
        except (ValueError, TypeError) as exc:
            return _error(400, str(exc))
        return JSONResponse(world.state())

    async def incidents(request: Request) -> Response:
        with world.lock:
            return JSONResponse({"start": str(world.traffic.start), "incidents": world.traffic.incidents()})

    async def traffic(request: Request) -> Response:
        with world.lock:
            world.traffic.observe()
            return JSONResponse(world.traffic.design())

    async def defects(request: Request) -> Response:
        return JSONResponse(page_defects.report(world))

    async def reset(request: Request) -> Response:
        world.reset()
        return JSONResponse(world.state())

    return [
        Route("/_sandbox/health", health, methods=["GET"]),
        Route("/_sandbox/state", state, methods=["GET"]),
        Route("/_sandbox/provision", provision, methods=["GET", "POST"]),
        Route("/_sandbox/clock/advance", advance, methods=["POST"]),
        Route("/_sandbox/faults", faults, methods=["GET", "POST", "DELETE"]),
        Route("/_sandbox/faults/{rule_id:int}", fault, methods=["DELETE"]),
        Route("/_sandbox/config", config, methods=["POST"]),
        Route("/_sandbox/incidents", incidents, methods=["GET"]),
        Route("/_sandbox/traffic", traffic, methods=["GET"]),
        Route("/_sandbox/page-defects", defects, methods=["GET"]),
        Route("/_sandbox/reset", reset, methods=["POST"]),
    ]
