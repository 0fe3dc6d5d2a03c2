"""The sandbox as one ASGI app: vendor APIs (WordPress, Webflow, GA4, Search Console, Mailchimp, Customer.io),
vendor OAuth servers, the served sites, and the admin endpoints."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from . import pages
from .admin import admin_routes
from .faults import FaultMiddleware
from .fixture_pages import fixture_routes
from .site_assets import asset_routes
from .vendors.customerio import api as customerio
from .vendors.ga4 import api as ga4
from .vendors.mailchimp import api as mailchimp
from .vendors.oauth.consent_pages import WP_AUTHORIZE_PATH
from .vendors.oauth.http import oauth_routes
from .vendors.search_console import api as search_console
from .vendors.webflow import api as webflow
from .vendors.wordpress import api as wordpress
from .vendors.wordpress.authorize import authorize_application
from .world import (
    CUSTOMERIO_APP_PREFIX,
    CUSTOMERIO_TRACK_PREFIX,
    MAILCHIMP_API_PREFIX,
    WEBFLOW_API_PREFIX,
    WEBFLOW_SITE_PREFIX,
    World,
)

ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


def create_app(world: World) -> Starlette:
    async def wp_json(request: Request) -> Response:
        return await wordpress.handle(request, world, "/" + request.path_params.get("rest", ""))

    async def root(request: Request) -> Response:
        # WordPress answers REST requests on any URL carrying ?rest_route=, the home page otherwise.
        route = request.query_params.get("rest_route")
        if route is not None:
            return await wordpress.handle(request, world, route or "/")
        return pages.wordpress_home(request, world)

    async def webflow_api(request: Request) -> Response:
        return await webflow.handle(request, world, request.path_params.get("rest", ""))

    async def webflow_home(request: Request) -> Response:
        return pages.webflow_home(request, world)

    async def webflow_item(request: Request) -> Response:
        return pages.webflow_item(request, world)

    async def upload(request: Request) -> Response:
        return pages.upload(request, world)

    async def robots(request: Request) -> Response:
        return pages.robots(request, world)

    async def sitemap(request: Request) -> Response:
        return pages.sitemap(request, world)

    async def site_sitemap(request: Request) -> Response:
        return pages.site_sitemap(request, world)

    async def shop(request: Request) -> Response:
        return pages.shop(request, world)

    async def form(request: Request) -> Response:
        return await pages.form_submission(request, world)

    async def site_page(request: Request) -> Response:
        return pages.wordpress_path(request, world)

    async def wp_authorize_application(request: Request) -> Response:
        return await authorize_application(request, world)

    async def google_v1beta(request: Request) -> Response:
        return await ga4.handle(request, world, request.path_params.get("rest", ""))

    async def mailchimp_api(request: Request) -> Response:
        return await mailchimp.handle(request, world, request.path_params.get("rest", ""))

    async def customerio_app(request: Request) -> Response:
        return await customerio.handle_app(request, world, request.path_params.get("rest", ""))

    async def customerio_track(request: Request) -> Response:
        return await customerio.handle_track(request, world, request.path_params.get("rest", ""))

    async def webmasters(request: Request) -> Response:
        return await search_console.handle_webmasters(request, world)

    async def url_inspection(request: Request) -> Response:
        return await search_console.handle_inspect(request, world)

    routes = (
        admin_routes(world)
        + oauth_routes(world)
        + asset_routes(world)
        + fixture_routes()
        + [
            Route(WP_AUTHORIZE_PATH, wp_authorize_application, methods=["GET", "POST"]),
            Route("/", root, methods=ALL_METHODS),
            Route("/wp-json", wp_json, methods=ALL_METHODS),
            Route("/wp-json/{rest:path}", wp_json, methods=ALL_METHODS),
            Route(WEBFLOW_API_PREFIX, webflow_api, methods=ALL_METHODS),
            Route(WEBFLOW_API_PREFIX + "/{rest:path}", webflow_api, methods=ALL_METHODS),
            Route("/v1beta/{rest:path}", google_v1beta, methods=ALL_METHODS),
            Route(MAILCHIMP_API_PREFIX, mailchimp_api, methods=ALL_METHODS),
            Route(MAILCHIMP_API_PREFIX + "/{rest:path}", mailchimp_api, methods=ALL_METHODS),
            Route(CUSTOMERIO_APP_PREFIX + "/{rest:path}", customerio_app, methods=ALL_METHODS),
            Route(CUSTOMERIO_TRACK_PREFIX + "/{rest:path}", customerio_track, methods=ALL_METHODS),
            Route("/webmasters/v3/{rest:path}", webmasters, methods=ALL_METHODS),
            Route("/v1/urlInspection/index:inspect", url_inspection, methods=ALL_METHODS),
            Route(WEBFLOW_SITE_PREFIX, webflow_home, methods=["GET", "HEAD"]),
            Route(WEBFLOW_SITE_PREFIX + "/", webflow_home, methods=["GET", "HEAD"]),
            Route(WEBFLOW_SITE_PREFIX + "/{collection}/{item}", webflow_item, methods=["GET", "HEAD"]),
            Route("/wp-content/uploads/{file:path}", upload, methods=["GET", "HEAD"]),
            Route("/robots.txt", robots, methods=["GET", "HEAD"]),
            Route("/wp-sitemap.xml", sitemap, methods=["GET", "HEAD"]),
            Route("/sitemap.xml", site_sitemap, methods=["GET", "HEAD"]),
            Route(pages.SHOP_PATH, shop, methods=["GET", "HEAD"]),
            Route("/forms/{form}", form, methods=["POST"]),
            Route("/{path:path}", site_page, methods=["GET", "HEAD"]),
        ]
    )

    def observe_fault(scope: dict, status: int) -> None:
        ga4.note_server_error(world, scope, status)

    return Starlette(
        routes=routes, middleware=[Middleware(FaultMiddleware, faults=lambda: world.faults, observe=observe_fault)]
    )
