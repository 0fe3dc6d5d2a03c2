"""A deterministic simulated marketing world behind vendor-shaped HTTP APIs on loopback.

``World`` is importable without the web stack; ``create_app``, ``running`` and
``serve`` load Starlette and uvicorn on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .world import World

if TYPE_CHECKING:
    from .app import create_app
    from .runner import Sandbox, running, serve

__all__ = ["World", "Sandbox", "create_app", "running", "serve"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from .app import create_app

        return create_app
    if name in ("running", "serve", "Sandbox"):
        from . import runner

        return getattr(runner, name)
    raise AttributeError(f"module 'sandbox' has no attribute {name!r}")
