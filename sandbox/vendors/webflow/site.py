"""State of the simulated Webflow site: one site, its CMS collections, staged and live items.

Every item keeps a staged version (what the Designer and ``/items`` show) and,
once published, a separate live version (what ``/items/live`` and the
published site show). A staged edit leaves the live version alone until the
item or the whole site is published, the way the Webflow CMS behaves since
its 2024-2025 publishing changes: ``isDraft`` only keeps a staged edit out of
the next site publish, and only the unpublish endpoint takes an item off the
live site.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable

SLUG_RE = re.compile(r"^[a-z0-9_]+(?:-[a-z0-9_]+)*$")


class WebflowError(Exception):
    """An error body as the Data API v2 sends it."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        details: list[Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details or []
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "externalReference": None, "details": self.details}


def validation_error(details: list[dict[str, Any]]) -> WebflowError:
    return WebflowError(400, "validation_error", "Validation Error", details)


def not_found(what: str) -> WebflowError:
    return WebflowError(404, "resource_not_found", f"Requested resource not found: {what}")


def wf_time(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


@dataclass
class Field:
    id: str
    slug: str
    display_name: str
    type: str  # PlainText | RichText | Image | ...
    is_required: bool = False
    help_text: str | None = None
    validations: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        out = {
            "id": self.id,
            "isEditable": True,
            "isRequired": self.is_required,
            "type": self.type,
            "slug": self.slug,
            "displayName": self.display_name,
            "helpText": self.help_text,
        }
        if self.validations is not None:
            out["validations"] = self.validations
        return out


@dataclass
class Item:
    id: str
    cms_locale_id: str
    created_on: datetime
    last_updated: datetime
    field_data: dict[str, Any]
    is_draft: bool = True
    is_archived: bool = False
    last_published: datetime | None = None
    live_field_data: dict[str, Any] | None = None
    # Staged changes not yet on the live site (picked up by the next site publish unless isDraft).
    dirty: bool = True
    # Deleted from staging; the live version goes away with the next site publish.
    deleted: bool = False

    @property
    def live_data(self) -> dict[str, Any]:
        """The live field data of an item known to be live (``Collection.live_items`` lists only those)."""
        if self.live_field_data is None:
            raise LookupError(f"item {self.id} is not on the live site")
        return self.live_field_data

    def to_json(self, live: bool = False) -> dict[str, Any]:
        data = self.live_field_data if live else self.field_data
        return {
            "id": self.id,
            "cmsLocaleId": self.cms_locale_id,
            "lastPublished": wf_time(self.last_published),
            "lastUpdated": wf_time(self.last_updated),
            "createdOn": wf_time(self.created_on),
            "isArchived": self.is_archived,
            "isDraft": self.is_draft,
            "fieldData": copy.deepcopy(data),
        }


@dataclass
class Collection:
    id: str
    display_name: str
    singular_name: str
    slug: str
    created_on: datetime
    last_updated: datetime
    fields: list[Field] = field(default_factory=list)
    items: dict[str, Item] = field(default_factory=dict)  # insertion order = creation order

    def summary_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "displayName": self.display_name,
            "singularName": self.singular_name,
            "slug": self.slug,
            "createdOn": wf_time(self.created_on),
            "lastUpdated": wf_time(self.last_updated),
        }

    def to_json(self) -> dict[str, Any]:
        return {**self.summary_json(), "fields": [f.to_json() for f in self.fields]}

    def field(self, slug: str) -> Field | None:
        return next((f for f in self.fields if f.slug == slug), None)

    def staged_items(self) -> list[Item]:
        return [i for i in self.items.values() if not i.deleted]

    def live_items(self) -> list[Item]:
        return [i for i in self.items.values() if i.live_field_data is not None]

    def live_by_slug(self, slug: str) -> Item | None:
        return next((i for i in self.live_items() if i.live_data.get("slug") == slug), None)


@dataclass
class Domain:
    id: str
    url: str
    last_published: datetime | None = None


@dataclass
class WebflowSite:
    id: str
    workspace_id: str
    display_name: str
    short_name: str
    time_zone: str
    created_on: datetime
    last_updated: datetime
    locale_id: str
    cms_locale_id: str
    last_published: datetime | None = None
    custom_domains: list[Domain] = field(default_factory=list)
    collections: dict[str, Collection] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "workspaceId": self.workspace_id,
            "createdOn": wf_time(self.created_on),
            "displayName": self.display_name,
            "shortName": self.short_name,
            "lastPublished": wf_time(self.last_published),
            "lastUpdated": wf_time(self.last_updated),
            "previewUrl": f"https://screenshots.webflow.com/sites/{self.id}/20261101000000_preview.png",
            "timeZone": self.time_zone,
            "parentFolderId": None,
            "customDomains": [
                {"id": d.id, "url": d.url, "lastPublished": wf_time(d.last_published)} for d in self.custom_domains
            ],
            "locales": {
                "primary": {
                    "id": self.locale_id,
                    "cmsLocaleId": self.cms_locale_id,
                    "enabled": True,
                    "displayName": "English (United States)",
                    "redirect": True,
                    "subdirectory": "",
                    "tag": "en-US",
                },
                "secondary": [],
            },
            "dataCollectionEnabled": False,
            "dataCollectionType": "optOut",
        }

    # -- field data --------------------------------------------------------

    def clean_field_data(
        self, collection: Collection, data: Any, *, item: Item | None, new_id: Callable[[], str]
    ) -> dict[str, Any]:
        """Validate ``fieldData`` against the collection schema; return it normalised.

        ``item`` is the item being patched (partial update) or None for a create.
        """
        if not isinstance(data, dict):
            raise validation_error([{"param": "fieldData", "description": "fieldData must be an object"}])
        details: list[dict[str, Any]] = []
        out: dict[str, Any] = {}
        for slug, value in data.items():
            fdef = collection.field(slug)
            if fdef is None:
                details.append({"param": slug, "description": "Field not described in schema: undefined"})
                continue
            if value is None:
                if fdef.is_required:
                    details.append({"param": slug, "description": "Field is required"})
                else:
                    out[slug] = None
                continue
            if fdef.type in ("PlainText", "RichText", "Link", "Email", "Phone", "Color", "VideoLink"):
                if not isinstance(value, str):
                    details.append({"param": slug, "description": f"Expected a string for {fdef.type} field"})
                    continue
                max_len = (fdef.validations or {}).get("maxLength")
                if max_len and len(value) > max_len:
                    details.append({"param": slug, "description": f"Must be at most {max_len} characters"})
                    continue
                if fdef.is_required and not value.strip():
                    details.append({"param": slug, "description": "Field is required"})
                    continue
                out[slug] = value
            elif fdef.type == "Image":
                image = _image_value(value, new_id)
                if image is None:
                    details.append({"param": slug, "description": "Expected an image object with a url or fileId"})
                    continue
                out[slug] = image
            else:
                out[slug] = value
        if "slug" in out and not SLUG_RE.match(out["slug"]):
            details.append(
                {
                    "param": "slug",
                    "description": "Slug must contain only lowercase letters, numbers, hyphens and underscores",
                }
            )
        if item is None:
            for fdef in collection.fields:
                if fdef.is_required and fdef.slug not in data:
                    details.append({"param": fdef.slug, "description": "Field is required"})
        if details:
            raise validation_error(details)
        slug = out.get("slug")
        if slug is not None:
            for other in collection.staged_items():
                if other is not item and other.field_data.get("slug") == slug:
                    raise validation_error(
                        [{"param": "slug", "description": f"Unique value is already in database: '{slug}'"}]
                    )
        return out

    # -- item operations ---------------------------------------------------

    def create_item(
        self,
        collection: Collection,
        body: dict[str, Any],
        now: datetime,
        new_id: Callable[[], str],
        *,
        live: bool = False,
    ) -> Item:
        data = self.clean_field_data(collection, body.get("fieldData"), item=None, new_id=new_id)
        is_draft = _bool(body, "isDraft", default=not live)
        is_archived = _bool(body, "isArchived", default=False)
        item = Item(
            id=new_id(),
            cms_locale_id=self.cms_locale_id,
            created_on=now,
            last_updated=now,
            field_data=data,
            is_draft=is_draft,
            is_archived=is_archived,
        )
        collection.items[item.id] = item
        collection.last_updated = now
        if live:
            self.publish_item(item, now)
        return item

    def update_item(
        self,
        collection: Collection,
        item: Item,
        body: dict[str, Any],
        now: datetime,
        new_id: Callable[[], str],
        *,
        live: bool = False,
    ) -> Item:
        data = self.clean_field_data(collection, body.get("fieldData", {}), item=item, new_id=new_id)
        if "isDraft" in body:
            item.is_draft = _bool(body, "isDraft", default=item.is_draft)
        if "isArchived" in body:
            item.is_archived = _bool(body, "isArchived", default=item.is_archived)
        item.field_data.update(data)
        item.last_updated = now
        item.dirty = True
        collection.last_updated = now
        if live:
            self.publish_item(item, now)
        return item

    def publish_item(self, item: Item, now: datetime) -> None:
        item.live_field_data = copy.deepcopy(item.field_data)
        item.last_published = now
        item.is_draft = False
        item.dirty = False

    def unpublish_item(self, item: Item, now: datetime) -> None:
        item.live_field_data = None
        item.last_published = None
        item.is_draft = True
        item.dirty = True

    def publish_site(self, now: datetime, domain_ids: list[str]) -> None:
        """Push every queued change live: non-draft items, archivals and deletions."""
        for collection in self.collections.values():
            for item in list(collection.items.values()):
                if item.deleted:
                    del collection.items[item.id]
                elif item.is_archived:
                    item.live_field_data = None
                elif not item.is_draft and (item.dirty or item.live_field_data is None):
                    self.publish_item(item, now)
        self.last_published = now
        for domain in self.custom_domains:
            if domain.id in domain_ids:
                domain.last_published = now


def _bool(body: dict[str, Any], key: str, *, default: bool) -> bool:
    value = body.get(key, default)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise validation_error([{"param": key, "description": f"{key} must be a boolean"}])
    return value


def _image_value(value: Any, new_id: Callable[[], str]) -> dict[str, Any] | None:
    if isinstance(value, str) and value:
        return {"fileId": new_id(), "url": value, "alt": None}
    if isinstance(value, dict) and (value.get("url") or value.get("fileId")):
        return {"fileId": value.get("fileId") or new_id(), "url": value.get("url"), "alt": value.get("alt")}
    return None
