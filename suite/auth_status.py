"""`marketing-mcp auth list` and `auth status`: what each client has stored, and what is wrong with it.

Nothing here prints a secret: records are described by kind, account, label, expiry and scopes.
"""

from __future__ import annotations

import argparse
import time
from typing import Callable, TextIO

from credentials.providers import PROVIDERS

from .config import ConfigError, McpConfig, load_config
from .registry import REGISTRY, entry, providers_of


def _client_names() -> list[str]:
    from credentials.paths import data_dir
    from credentials.store import stored_clients

    return stored_clients(data_dir())


def _records(client: str | None) -> list:
    records, unreadable = _readable(client)
    for exc in unreadable.values():
        raise exc
    return records


def _readable(client: str | None) -> tuple[list, dict]:
    """Every stored record of `client` (or of every client), and the clients whose vault could not be read:
    one damaged file must not hide the others' state."""
    from credentials.store import VaultError
    from credentials.vault import Vault

    found, unreadable = [], {}
    for name in [client] if client else _client_names():
        try:
            found += sorted(Vault.open(name).store.records().values(), key=lambda r: r.key)
        except VaultError as exc:
            unreadable[name] = exc
    return found, unreadable


def list_credentials(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    records = _records(args.client)
    if not records:
        out.write("No credentials stored" + (f" for client '{args.client}'" if args.client else "") + ".\n")
        return 0
    out.write(f"{'CLIENT':<14} {'PROVIDER':<10} {'KIND':<16} {'ACCOUNT':<36} LABEL\n")
    for rec in records:
        out.write(f"{rec.client:<14} {rec.provider:<10} {rec.secret.kind:<16} {rec.account:<36} {rec.label}\n")
    return 0


def show_status(args: argparse.Namespace, out: TextIO, err: TextIO, now: Callable[[], float] = time.time) -> int:
    config = _optional_config(args)
    records, unreadable = _readable(args.client)
    configured = set(config.clients) if config is not None and not args.client else set()
    clients = sorted(
        {r.client for r in records} | configured | set(unreadable) | ({args.client} if args.client else set())
    )
    problems = 0
    for name in clients:
        out.write(f"{name}\n")
        if name in unreadable:
            exc = unreadable[name]
            out.write(f"  ! {exc.message}" + (f" {exc.hint}" if exc.hint else "") + "\n")
            problems += 1
            continue
        mine = [r for r in records if r.client == name]
        enabled = _enabled(config, name)
        for rec in mine:
            facts, warnings = describe(rec, enabled, now())
            out.write(f"  {rec.provider} {rec.account}: {facts}\n")
            for w in warnings:
                out.write(f"    ! {w}\n")
            problems += bool(warnings)
        for server in enabled:
            for wanted in providers_of(server):
                if not any(r.provider == wanted for r in mine):
                    out.write(
                        f"  ! the {server} server has no {wanted} credentials: run `marketing-mcp auth "
                        f"{'login' if PROVIDERS[wanted].oauth else 'set'} {wanted} --client {name}`\n"
                    )
                    problems += 1
        if not mine and not any(providers_of(s) for s in enabled):
            out.write("  no credentials stored, none needed\n")
    if not clients:
        out.write("No credentials stored.\n")
    return 1 if problems else 0


def describe(rec, enabled: list[str], now: float) -> tuple[str, list[str]]:
    """One line of facts and the warnings for one credential."""
    from credentials.records import OAuthToken

    secret = rec.secret
    warnings: list[str] = []
    if rec.last_refresh_error:
        warnings.append(
            f"refresh failing: {rec.last_refresh_error} Run "
            f"`marketing-mcp auth login {rec.provider} --client {rec.client}`."
        )
    if not isinstance(secret, OAuthToken):
        return f"{secret.kind}, does not expire", warnings
    facts = [
        f"expires {_when(secret.expires_at, now)}" if secret.expires_at else "does not expire",
        "refreshable" if secret.refresh_token else "not refreshable",
    ]
    if secret.expires_at and secret.expires_at <= now and not secret.refresh_token:
        warnings.append(f"expired: run `marketing-mcp auth login {rec.provider} --client {rec.client}`")
    if secret.refresh_expires_at:
        facts.append(f"refresh token dies {_when(secret.refresh_expires_at, now)}")
        p = PROVIDERS.get(rec.provider)
        days = (secret.refresh_expires_at - rec.updated_at) / 86400
        if p and p.testing_refresh_lifetime_days and days <= p.testing_refresh_lifetime_days + 0.01:
            warnings.append(
                f"{p.title}: this OAuth app is in Testing status, so its refresh tokens die "
                f"{p.testing_refresh_lifetime_days} days after sign-in. Publish the app (OAuth consent "
                "screen > Publish app) and sign in again."
            )
    granted = set(secret.scopes)
    for server in enabled:
        needed = entry(server).credentials.get(rec.provider, ()) if server in REGISTRY else ()
        missing = [s for s in needed if s not in granted]
        if missing:
            warnings.append(
                f"the {server} server needs {', '.join(missing)}: run "
                f"`marketing-mcp auth login {rec.provider} --client {rec.client}`"
            )
    facts.append("scopes: " + (" ".join(secret.scopes) or "none"))
    return ", ".join(facts), warnings


def _when(at: float, now: float) -> str:
    delta = at - now
    span = abs(delta)
    text = (
        f"{span / 86400:.0f} d"
        if span >= 172800
        else f"{span / 3600:.0f} h"
        if span >= 7200
        else f"{span / 60:.0f} min"
    )
    return f"in {text}" if delta > 0 else f"{text} ago"


def _optional_config(args) -> McpConfig | None:
    if getattr(args, "config", None):  # asked for by name: a broken file is an error, not silence
        return load_config(args.config)
    try:
        return load_config(None)
    except ConfigError:
        return None


def _enabled(config: McpConfig | None, client: str) -> list[str]:
    if config is None or client not in config.clients:
        return []
    return config.clients[client].enabled()
