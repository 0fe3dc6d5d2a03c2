"""The ``wp/v2/users`` endpoints: the current user, a user by ID, and a user's application passwords."""

from __future__ import annotations

import re
from typing import Any

from .params import Params
from .shapes import Ctx, Result, user_json, wp_date
from .site import ApplicationPassword, User, WPError, chunk_password


def users_me(ctx: Ctx) -> Result:
    p = Params(ctx.params)
    context = ctx.context(p)
    p.check()
    if ctx.user is None:
        raise WPError("rest_not_logged_in", "You are not currently logged in.", 401)
    return Result(user_json(ctx, ctx.user, context))


def get_user(ctx: Ctx, id: int) -> Result:
    p = Params(ctx.params)
    context = ctx.context(p)
    p.check()
    user = ctx.site.users.get(id)
    if user is None:
        raise WPError("rest_user_invalid_id", "Invalid user ID.", 404)
    if context == "edit" and ctx.user is None:
        raise WPError("rest_user_cannot_view", "Sorry, you are not allowed to list users.", 401)
    return Result(user_json(ctx, user, context))


# -- application passwords -------------------------------------------------


def _app_password_owner(ctx: Ctx, user_id: int | str, denied_code: str, denied_message: str) -> User:
    """``get_user`` then the permission check of core's application-passwords controller."""
    if user_id == "me":
        if ctx.user is None:
            raise WPError("rest_not_logged_in", "You are not currently logged in.", 401)
        return ctx.user
    owner = ctx.site.users.get(int(user_id))
    if owner is None:
        raise WPError("rest_user_invalid_id", "Invalid user ID.", 404)
    if ctx.user is None or ctx.user.id != owner.id and "administrator" not in ctx.user.roles:
        raise WPError(denied_code, denied_message, 401 if ctx.user is None else 403)
    return owner


def _app_password_json(
    ctx: Ctx, owner: User, record: ApplicationPassword, password: str | None = None
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "uuid": record.uuid,
        "app_id": record.app_id,
        "name": record.name,
        "created": wp_date(record.created),
        "last_used": wp_date(record.last_used) if record.last_used else None,
        "last_ip": record.last_ip,
    }
    if password is not None:
        data["password"] = chunk_password(password)  # shown once, when created
    data["_links"] = {"self": [{"href": ctx.rest_url(f"/wp/v2/users/{owner.id}/application-passwords/{record.uuid}")}]}
    return data


def _app_password(owner: User, uuid: str) -> ApplicationPassword:
    for record in owner.application_passwords:
        if record.uuid == uuid:
            return record
    raise WPError("application_password_not_found", "Application password not found.", 404)


def list_app_passwords(ctx: Ctx, user_id: int | str) -> Result:
    owner = _app_password_owner(
        ctx,
        user_id,
        "rest_cannot_list_application_passwords",
        "Sorry, you are not allowed to list application passwords for this user.",
    )
    return Result([_app_password_json(ctx, owner, r) for r in owner.application_passwords])


def create_app_password(ctx: Ctx, user_id: int | str) -> Result:
    p = Params(ctx.params)
    name = p.str("name")
    app_id = p.str("app_id", default="")
    p.check()
    if name is None:
        raise WPError("rest_missing_callback_param", "Missing parameter(s): name", 400, params=["name"])
    owner = _app_password_owner(
        ctx,
        user_id,
        "rest_cannot_create_application_passwords",
        "Sorry, you are not allowed to create application passwords for this user.",
    )
    if app_id and not re.fullmatch(
        r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}", app_id
    ):
        raise WPError(
            "rest_invalid_param", "Invalid parameter(s): app_id", 400, params={"app_id": "app_id is not a valid UUID."}
        )
    record, password = ctx.site.create_application_password(owner, name, ctx.now, app_id=app_id or "")
    return Result(
        _app_password_json(ctx, owner, record, password),
        status=201,
        headers={"Location": ctx.rest_url(f"/wp/v2/users/{owner.id}/application-passwords/{record.uuid}")},
    )


def get_app_password(ctx: Ctx, user_id: int | str, uuid: str) -> Result:
    owner = _app_password_owner(
        ctx,
        user_id,
        "rest_cannot_read_application_password",
        "Sorry, you are not allowed to read this application password.",
    )
    return Result(_app_password_json(ctx, owner, _app_password(owner, uuid)))


def introspect_app_password(ctx: Ctx, user_id: int | str) -> Result:
    owner = _app_password_owner(
        ctx,
        user_id,
        "rest_cannot_introspect_app_password_for_non_authenticated_user",
        "The authenticated application password can only be introspected for the current user.",
    )
    if ctx.user is None or owner.id != ctx.user.id or ctx.application_password is None:
        raise WPError(
            "application_password_not_found", "The authenticated application password could not be found.", 404
        )
    return Result(_app_password_json(ctx, owner, ctx.application_password))


def delete_app_password(ctx: Ctx, user_id: int | str, uuid: str) -> Result:
    owner = _app_password_owner(
        ctx,
        user_id,
        "rest_cannot_delete_application_password",
        "Sorry, you are not allowed to delete this application password.",
    )
    previous = _app_password_json(ctx, owner, _app_password(owner, uuid))
    ctx.site.delete_application_password(owner, uuid)
    return Result({"deleted": True, "previous": previous})
