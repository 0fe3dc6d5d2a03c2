"""The one router every vendor API dispatches through, built on Starlette routing.

A vendor declares its table once, at import, as ``VendorRoute``s: a Starlette path (with path
parameters and convertors) and a handler per method. ``VendorRouter.resolve`` matches a
vendor-relative path with Starlette's matching; the first route whose path matches decides,
as the vendors' routers do (so ``/items/live`` is never read as an item ID ``live``), and a
method it does not serve is a miss. A router built with ``fall_through`` instead passes such a
request on to the later routes, as WordPress's REST server tries every route whose pattern
matches. The wire shape of the two misses is left to the vendor's hooks, since a 404 or 405
from Mailchimp does not look like one from Webflow.
Each vendor keeps its own request flow (authentication, quotas, body parsing) around it.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

from starlette.routing import Match, Route

Handler = Callable[..., Any]


def _dispatched_by_vendor_router(*_: Any) -> None:  # pragma: no cover - never served as a Starlette endpoint
    raise RuntimeError("vendor routes are resolved by VendorRouter, not served by Starlette directly")


class VendorRoute(Route):
    """A path and its handlers by method: ``VendorRoute("/lists/{list_id}", GET=get_list, POST=batch)``.

    Unlike a plain Starlette route, GET does not imply HEAD: a vendor answers only what it declares.
    """

    def __init__(self, path: str, **handlers: Handler) -> None:
        super().__init__(path, _dispatched_by_vendor_router, methods=list(handlers))
        self.methods = set(handlers)
        self.handlers = handlers


class VendorRouter:
    """A vendor's compiled routing table with its two miss hooks.

    ``not_found(method, path)`` and ``method_not_allowed(method, path, allowed)`` return the
    exception the vendor raises for that miss (rendered later by the vendor's error hook); without a
    ``method_not_allowed`` hook a method miss is a ``not_found``. With ``fall_through`` a route that matches
    the path but not the method is skipped, and the method miss is raised only once no route serves it.
    """

    def __init__(
        self,
        routes: Sequence[VendorRoute],
        *,
        not_found: Callable[[str, str], Exception],
        method_not_allowed: Callable[[str, str, list[str]], Exception] | None = None,
        fall_through: bool = False,
    ) -> None:
        self.routes = list(routes)
        self.not_found = not_found
        self.method_not_allowed = method_not_allowed
        self.fall_through = fall_through

    def resolve(self, method: str, path: str) -> tuple[Handler, dict[str, Any]]:
        """The handler for ``method path`` and its path parameters, or the vendor's miss raised."""
        scope = {"type": "http", "path": path, "method": method}
        allowed: list[str] = []
        for route in self.routes:
            match, child = route.matches(scope)
            if match is Match.FULL:
                return route.handlers[method], child["path_params"]
            if match is Match.PARTIAL:
                allowed += [m for m in route.handlers if m not in allowed]
                if not self.fall_through:
                    break
        if allowed and self.method_not_allowed is not None:
            raise self.method_not_allowed(method, path, allowed)
        raise self.not_found(method, path)
