"""The one place that relies on mailchimp-marketing's internals (3.0.x), and the SDK's untyped classes.

The SDK ships no type information: its classes reach the rest of the adapter as `Any` from here,
and its exception as `SdkError`, a typed copy of what it carries.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@functools.cache
def _sdk_classes() -> tuple[type[Any], type[Exception]]:
    """`ApiClient` and `ApiClientError`; the SDK is imported on first use."""
    from mailchimp_marketing.api_client import ApiClient, ApiClientError  # pyright: ignore[reportMissingTypeStubs]  # no type information

    return ApiClient, ApiClientError


@dataclass(frozen=True)
class SdkError:
    """What an `ApiClientError` carries. A transport failure has no `status` and the requests exception as
    `text`; an error document is usually left as a JSON string. `headers` are those `sdk_seam` kept."""

    status: int | None
    text: object
    headers: Mapping[str, str] | None


def sdk_error(exc: Exception) -> SdkError | None:
    """`exc` as an `SdkError` when it is the SDK's `ApiClientError`, else None."""
    if not isinstance(exc, _sdk_classes()[1]):
        return None
    error: Any = exc  # ApiClientError sets `text` and `status_code` without annotations
    status = error.status_code
    return SdkError(None if status is None else int(status), error.text, getattr(error, "headers", None))


def sdk_seam(client: Any) -> Any:
    """SDK seam (mailchimp-marketing 3.0.x): make each call's timeout reach requests, and keep the
    response headers of a failed call (Retry-After) on the `ApiClientError` as `.headers`.

    The SDK has no public hook for either: `_request_timeout` and `_preload_content` are accepted
    by every method and ignored by `ApiClient.call_api`, requests is called module-level with
    `self.timeout` (no session to give it), and `ApiClientError` keeps only text and status. So the
    client's ApiClient becomes a subclass that reads the timeout per thread and records headers in
    `request`. This is the only place that relies on the SDK's internals (`call_api` calling
    `self.request`, which reads `self.timeout`); tests/adapters/test_mailchimp_edge.py's seam
    tests fail with a clear message when the SDK changes them.
    """
    api_client: Any = getattr(client, "api_client", None)  # the SDK's ApiClient, untyped
    if type(api_client) is _sdk_classes()[0]:
        default = api_client.__dict__.pop("timeout", 120)
        api_client.__class__ = _per_call_timeout_client()
        api_client.timeout = default
    return client


@functools.cache
def _per_call_timeout_client() -> type[Any]:
    """The ApiClient subclass of `sdk_seam`, built once (the SDK is imported on first use)."""
    api_client, api_client_error = _sdk_classes()
    local = threading.local()

    class PerCallTimeout(api_client):
        @property
        def timeout(self) -> float:
            return getattr(local, "timeout", None) or self.__dict__.get("_default_timeout", 120)

        @timeout.setter
        def timeout(self, value: float) -> None:
            self.__dict__["_default_timeout"] = value

        def request(self, *args: Any, **kwargs: Any) -> Any:
            sdk: Any = super()  # ApiClient's methods are unannotated
            response = sdk.request(*args, **kwargs)
            local.headers = response.headers
            return response

        def call_api(self, *args: Any, **kwargs: Any) -> Any:
            local.timeout, local.headers = kwargs.get("_request_timeout"), None
            try:
                sdk: Any = super()  # ApiClient's methods are unannotated
                return sdk.call_api(*args, **kwargs)
            except api_client_error as exc:
                error: Any = exc  # ApiClientError has no `headers`; this adds them
                error.headers = local.headers  # the SDK drops them; Retry-After lives there
                raise
            finally:
                local.timeout = local.headers = None

    return PerCallTimeout
