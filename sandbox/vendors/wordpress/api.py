"""WordPress REST API emulation (``/wp-json/...`` and ``/?rest_route=...``).

Covers the ``wp/v2`` routes a CMS client uses (posts, pages, categories,
tags, media, users/me, the user's application passwords) and the companion
plugin's ``marketing-mcp/v1/seo``.
Order of checks follows ``WP_REST_Server``: authentication errors first, then
argument validation, then the permission callback, then the handler.

This module reads the request, authenticates, routes and answers the index; the handlers live in
``posts``, ``terms``, ``media`` and ``users``.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass
from functools import partial
from typing import Any
from urllib.parse import parse_qsl

from starlette.convertors import Convertor, register_url_convertor
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response

from ...world import World
from ..router import VendorRoute, VendorRouter
from . import media, posts, terms, users
from .params import php_params
from .shapes import Ctx, Handler, Result
from .site import COMPANION_PLUGIN_VERSION, ApplicationPassword, User, WordPressSite, WPError

# -- entry point -----------------------------------------------------------


async def handle(request: Request, world: World, route: str) -> Response:
    """Serve one REST request for ``route`` (e.g. ``/wp/v2/posts/5``)."""
    base = str(request.base_url).rstrip("/")
    method = request.method.upper()
    query = php_params(request.query_params.multi_items())
    query.pop("rest_route", None)
    override = query.pop("_method", None) or request.headers.get("x-http-method-override")
    if method == "POST" and override:
        method = str(override).upper()
    if method == "HEAD":
        method = "GET"
    try:
        body_params, raw, files = await _read_body(request)
    except WPError as err:
        return _respond(err.body(), err.status, {}, base)
    params = {**query, **body_params}
    fields = query.get("_fields")
    try:
        with world.lock:
            user, app_password = authenticate(world.wordpress, request.headers.get("authorization"))
            if app_password is not None:
                world.wordpress.record_application_password_use(
                    app_password, world.now(), request.client.host if request.client else None
                )
            ctx = Ctx(
                world=world,
                site=world.wordpress,
                request=request,
                method=method,
                route=route,
                params=params,
                query=query,
                user=user,
                base=base,
                body=raw,
                files=files,
                application_password=app_password,
            )
            result = dispatch(ctx)
    except WPError as err:
        return _respond(err.body(), err.status, {}, base)
    body = _filter_fields(result.body, fields) if fields else result.body
    return _respond(body, result.status, result.headers, base)


def _respond(body: Any, status: int, headers: dict[str, str], base: str) -> Response:
    all_headers = {
        "X-Robots-Tag": "noindex",
        "Link": f'<{base}/wp-json/>; rel="https://api.w.org/"',
        "X-Content-Type-Options": "nosniff",
        "Access-Control-Expose-Headers": "X-WP-Total, X-WP-TotalPages, Link",
        "Access-Control-Allow-Headers": "Authorization, X-WP-Nonce, Content-Disposition, Content-MD5, Content-Type",
    }
    if "Link" in headers:
        all_headers["Link"] = headers.pop("Link") + ", " + all_headers["Link"]
    all_headers.update(headers)
    payload = json.dumps(body, ensure_ascii=False).encode("utf-8")
    return Response(payload, status_code=status, headers=all_headers, media_type="application/json; charset=UTF-8")


async def _read_body(request: Request) -> tuple[dict[str, Any], bytes, dict[str, Any]]:
    if request.method.upper() in ("GET", "HEAD", "OPTIONS"):
        return {}, b"", {}
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "multipart/form-data":
        form = await request.form()
        fields: list[tuple[str, str]] = []
        files: dict[str, Any] = {}
        for key, value in form.multi_items():
            if isinstance(value, UploadFile):
                files[key] = {
                    "filename": value.filename,
                    "content_type": value.content_type,
                    "data": await value.read(),
                }
            else:
                fields.append((key, value))
        return php_params(fields), b"", files
    raw = await request.body()
    if content_type == "application/json":
        if not raw.strip():
            return {}, raw, {}
        try:
            data = json.loads(raw)
        except ValueError:
            raise WPError(
                "rest_invalid_json",
                "Invalid JSON body passed.",
                400,
                json_error_code=4,
                json_error_message="Syntax error",
            ) from None
        return (data if isinstance(data, dict) else {}), raw, {}
    if content_type == "application/x-www-form-urlencoded":
        return php_params(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True)), raw, {}
    return {}, raw, {}


def _filter_fields(body: Any, fields: Any) -> Any:
    wanted = {f.split(".")[0] for f in (fields if isinstance(fields, list) else str(fields).split(",")) if f}
    if isinstance(body, list):
        return [_filter_fields(item, fields) for item in body]
    if isinstance(body, dict) and "code" not in body:
        return {k: v for k, v in body.items() if k in wanted}
    return body


# -- authentication --------------------------------------------------------


def authenticate(site: WordPressSite, header: str | None) -> tuple[User | None, ApplicationPassword | None]:
    """Application-password Basic auth: the user and the password used.

    No header means anonymous; a bad one is a 401.
    """
    if not header or not header.lower().startswith("basic "):
        return None, None
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None, None
    if ":" not in decoded:
        return None, None
    login, password = decoded.split(":", 1)
    user = site.user_by_login(login)
    if user is None:
        if "@" in login:
            raise WPError(
                "invalid_email", "<strong>Error:</strong> Unknown email address. Check again or try your username.", 401
            )
        raise WPError(
            "invalid_username", "<strong>Error:</strong> Unknown username. Check again or try your email address.", 401
        )
    record = site.find_application_password(user, password)
    if record is None:
        raise WPError("incorrect_password", "The provided password is an invalid application password.", 401)
    return user, record


# -- index -----------------------------------------------------------------


def _namespaces(site: WordPressSite) -> list[str]:
    names = ["oembed/1.0", "wp/v2", "wp-site-health/v1", "wp-block-editor/v1"]
    if site.seo_plugin == "yoast":
        names.insert(1, "yoast/v1")
    elif site.seo_plugin == "rank_math":
        names.insert(1, "rankmath/v1")
    if site.companion_plugin:
        names.append("marketing-mcp/v1")
    return names


def index(ctx: Ctx) -> Result:
    site = ctx.site
    route_map = {}
    for route in routes(site):
        methods = sorted(route.handlers)
        route_map[route.pattern] = {
            "namespace": route.namespace,
            "methods": methods,
            "endpoints": [{"methods": [m]} for m in methods],
        }
    return Result(
        {
            "name": site.name,
            "description": site.description,
            "url": ctx.base,
            "home": ctx.base,
            "gmt_offset": "0",
            "timezone_string": "",
            "namespaces": _namespaces(site),
            "authentication": {
                "application-passwords": {
                    "endpoints": {"authorization": ctx.url("/wp-admin/authorize-application.php")}
                }
            },
            "routes": route_map,
            "site_logo": 0,
            "site_icon": 0,
            "site_icon_url": "",
        }
    )


def namespace_index(ctx: Ctx) -> Result:
    namespace = ctx.route.strip("/")
    route_map = {
        route.pattern: {"namespace": route.namespace, "methods": sorted(route.handlers)}
        for route in routes(ctx.site)
        if route.namespace == namespace
    }
    return Result({"namespace": namespace, "routes": route_map})


# -- companion plugin ------------------------------------------------------


def companion_seo(ctx: Ctx) -> Result:
    if ctx.user is None:
        raise WPError("rest_forbidden", posts.FORBIDDEN, 401)
    site = ctx.site
    return Result(
        {"plugin_version": COMPANION_PLUGIN_VERSION, "seo_plugin": site.seo_plugin, "fields": site.seo_fields()}
    )


# -- routing ---------------------------------------------------------------


class _Number(Convertor[int]):
    regex = r"[\d]+"

    def convert(self, value: str) -> int:
        return int(value)

    def to_string(self, value: int) -> str:
        return str(value)


class _UserId(Convertor["int | str"]):
    regex = r"(?:[\d]+|me)"

    def convert(self, value: str) -> int | str:
        return value if value == "me" else int(value)

    def to_string(self, value: int | str) -> str:
        return str(value)


class _Uuid(Convertor[str]):
    regex = r"[\w\-]+"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


# Path arguments match the regexes WordPress registers (the index shows them), under names of their own.
_ARGUMENTS: dict[str, Convertor[Any]] = {"wp_id": _Number(), "wp_user": _UserId(), "wp_uuid": _Uuid()}
for _name, _argument in _ARGUMENTS.items():
    register_url_convertor(_name, _argument)
_ARGUMENT = re.compile(r"\{(\w+):(\w+)\}")


@dataclass(frozen=True)
class RestRoute:
    """One ``register_rest_route``: its namespace, its path (Starlette syntax, arguments by the
    convertors above) and its handlers by method."""

    namespace: str
    path: str
    handlers: dict[str, Handler]

    @property
    def pattern(self) -> str:
        """The route as WordPress's index lists it: ``/wp/v2/posts/(?P<id>[\\d]+)``."""
        return _ARGUMENT.sub(lambda m: f"(?P<{m.group(1)}>{_ARGUMENTS[m.group(2)].regex})", self.path)

    def vendor_route(self) -> VendorRoute:
        # Every route answers OPTIONS with its own methods, as WordPress does for any matching route.
        return VendorRoute(self.path, **self.handlers, OPTIONS=partial(_options, route=self))


def _options(ctx: Ctx, route: RestRoute, **_arguments: Any) -> Result:
    methods = sorted(route.handlers)
    return Result({"namespace": route.namespace, "methods": methods}, headers={"Allow": ", ".join(methods)})


def _edit(get: Handler, update: Handler, delete: Handler) -> dict[str, Handler]:
    """A single item's handlers: read, update by POST, PUT or PATCH, delete."""
    return {"GET": get, "POST": update, "PUT": update, "PATCH": update, "DELETE": delete}


def _core_routes() -> list[RestRoute]:
    table = [RestRoute("", "/", {"GET": index}), RestRoute("wp/v2", "/wp/v2", {"GET": namespace_index})]
    for rest_base, post_type in (("posts", "post"), ("pages", "page")):
        kind = {"post_type": post_type}
        table += [
            RestRoute(
                "wp/v2",
                f"/wp/v2/{rest_base}",
                {"GET": partial(posts.list_posts, **kind), "POST": partial(posts.create_post, **kind)},
            ),
            RestRoute(
                "wp/v2",
                f"/wp/v2/{rest_base}/{{id:wp_id}}",
                _edit(
                    partial(posts.get_post, **kind),
                    partial(posts.update_post, **kind),
                    partial(posts.delete_post, **kind),
                ),
            ),
        ]
    for rest_base, taxonomy in (("categories", "category"), ("tags", "post_tag")):
        kind = {"taxonomy": taxonomy}
        table += [
            RestRoute(
                "wp/v2",
                f"/wp/v2/{rest_base}",
                {"GET": partial(terms.list_terms, **kind), "POST": partial(terms.create_term, **kind)},
            ),
            RestRoute(
                "wp/v2",
                f"/wp/v2/{rest_base}/{{id:wp_id}}",
                _edit(
                    partial(terms.get_term, **kind),
                    partial(terms.update_term, **kind),
                    partial(terms.delete_term, **kind),
                ),
            ),
        ]
    passwords = "/wp/v2/users/{user_id:wp_user}/application-passwords"
    table += [
        RestRoute("wp/v2", "/wp/v2/media", {"GET": media.list_media, "POST": media.create_media}),
        RestRoute("wp/v2", "/wp/v2/media/{id:wp_id}", _edit(media.get_media, media.update_media, media.delete_media)),
        RestRoute("wp/v2", "/wp/v2/users/me", {"GET": users.users_me}),
        RestRoute("wp/v2", "/wp/v2/users/{id:wp_id}", {"GET": users.get_user}),
        RestRoute("wp/v2", passwords, {"GET": users.list_app_passwords, "POST": users.create_app_password}),
        RestRoute("wp/v2", passwords + "/introspect", {"GET": users.introspect_app_password}),
        RestRoute(
            "wp/v2",
            passwords + "/{uuid:wp_uuid}",
            {"GET": users.get_app_password, "DELETE": users.delete_app_password},
        ),
    ]
    return table


CORE_ROUTES = _core_routes()
COMPANION_ROUTES = [
    RestRoute("marketing-mcp/v1", "/marketing-mcp/v1", {"GET": namespace_index}),
    RestRoute("marketing-mcp/v1", "/marketing-mcp/v1/seo", {"GET": companion_seo}),
]


def routes(site: WordPressSite) -> list[RestRoute]:
    """The site's routes in registration order, as the index's ``routes`` map lists them."""
    return CORE_ROUTES + COMPANION_ROUTES if site.companion_plugin else CORE_ROUTES


def _router(table: list[RestRoute]) -> VendorRouter:
    # WP_REST_Server tries every route whose pattern matches until one serves the method, and
    # answers a request no route serves with rest_no_route, whatever the reason.
    return VendorRouter(
        [route.vendor_route() for route in table],
        not_found=lambda method, path: WPError(
            "rest_no_route", "No route was found matching the URL and request method.", 404
        ),
        fall_through=True,
    )


_ROUTERS = {False: _router(CORE_ROUTES), True: _router(CORE_ROUTES + COMPANION_ROUTES)}


def dispatch(ctx: Ctx) -> Result:
    route = ctx.route if ctx.route.startswith("/") else "/" + ctx.route
    if len(route) > 1:
        route = route.rstrip("/")
    handler, arguments = _ROUTERS[ctx.site.companion_plugin].resolve(ctx.method, route)
    return handler(ctx, **arguments)
