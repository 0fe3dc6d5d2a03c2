"""Routing shared by the GA4 and Search Console emulations: their ``VendorRouter`` and JSON answers.

Google words a route miss from the request as it arrived (its method and path), which the router's
hooks do not see, so they raise ``Unrouted`` and each API's entry point turns that into its own
``GoogleError``.

Two path convertors name the segments Google's paths carry: ``google_id`` (a resource ID, which
stops at ``/`` and at the ``:`` before a custom method such as ``:runReport``) and
``google_segment`` (any one segment, possibly empty: Search Console's percent-encoded site URLs and
sitemap paths).
"""

from __future__ import annotations

from typing import Any, Sequence

from starlette.convertors import Convertor, register_url_convertor
from starlette.responses import Response

from ..router import VendorRoute, VendorRouter
from .errors import dumps


class _IdConvertor(Convertor[str]):
    regex = "[^/:]+"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


class _SegmentConvertor(Convertor[str]):
    regex = "[^/]*"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("google_id", _IdConvertor())
register_url_convertor("google_segment", _SegmentConvertor())


class Unrouted(Exception):
    """No route serves the request; ``routed_path`` is true when the path has a route, only not for this method."""

    def __init__(self, *, routed_path: bool) -> None:
        super().__init__("routed path, other method" if routed_path else "unknown path")
        self.routed_path = routed_path


def _not_found(method: str, path: str) -> Unrouted:
    return Unrouted(routed_path=False)


def _method_not_allowed(method: str, path: str, allowed: list[str]) -> Unrouted:
    return Unrouted(routed_path=True)


def google_router(routes: Sequence[VendorRoute]) -> VendorRouter:
    return VendorRouter(routes, not_found=_not_found, method_not_allowed=_method_not_allowed)


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(dumps(body), status_code=status, headers=headers, media_type="application/json; charset=UTF-8")
