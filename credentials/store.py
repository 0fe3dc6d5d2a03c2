"""The encrypted credential store: one file per client, and a `ClientStore` that can open only its own.

File `<data dir>/vault/<client>.vault` is a small JSON envelope

    {"format": "marketing-mcp-vault", "version": 1, "client": "acme", "kcv": "...",
     "nonce": "...", "ciphertext": "..."}

with AES-256-GCM under the client's key (HKDF of the master key), a fresh 12-byte nonce per
write, and the canonical JSON of format/version/client/kcv as associated data, so an edited
header or a file renamed from another client does not open. `kcv` is a public fingerprint of the
client key: a mismatch means "wrong key" (WrongKey), a failed tag means "damaged file"
(VaultCorrupt). The plaintext is `{"records": {"provider/account": record.to_storage()}}`.

Writes are read-modify-write under the client's file lock: the current file must decrypt (a file
that does not is never overwritten), the current good file is copied to `<client>.vault.bak`, and
the new content goes to a 0600 temp file that is fsynced and renamed over the vault. Reads are
cached: a read that finds the file unchanged does not decrypt again.

Nothing here logs; messages name files, clients and record keys, never secret values or file
contents.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import json
import os
import re
import secrets
import threading
import time
from collections.abc import AsyncGenerator, Callable, Generator
from pathlib import Path
from typing import Any

from adapters.json_values import is_object
from credentials.keys import InvalidKey, KeyFileTooOpen, KeyringUnavailable, MasterKey, VaultError, VaultKeyMissing
from credentials.paths import fsync_dir, locks_dir, make_vault_dirs, vault_dir
from credentials.records import Record, record_key

__all__ = [
    "AccessDenied",
    "ClientStore",
    "InvalidKey",
    "KeyFileTooOpen",
    "KeyringUnavailable",
    "LockTimeout",
    "NotStored",
    "VaultCorrupt",
    "VaultError",
    "VaultKeyMissing",
    "VersionConflict",
    "WrongKey",
    "stored_clients",
]

FORMAT = "marketing-mcp-vault"
FORMAT_VERSION = 1
NONCE_BYTES = 12
_CLIENT = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")  # the same rule as Record.client
#: A file whose mtime/ctime is this close to "now" may be rewritten within the same timestamp tick,
#: so its stat signature alone cannot prove it unchanged (the "racy git" problem).
_RACY_SECONDS = 2.0


class WrongKey(VaultError):
    """The key in use is not the one the file was written with. The file is left untouched."""


class VaultCorrupt(VaultError):
    """The file is not a vault, or was damaged (failed authentication). The file is left untouched."""


class VersionConflict(VaultError):
    """compare_and_swap lost: the record changed since it was read. Re-read it and use the newer one."""


class AccessDenied(VaultError):
    """A record, or a file, of another client than the store's own."""


class NotStored(VaultError):
    """No such record for this client; the hint lists what is stored and how to add it."""


class LockTimeout(VaultError):
    """A vault lock was not acquired within the store's lock timeout."""


_aesgcm_class: Any = None


def _aesgcm(key: bytes) -> Any:
    """cryptography is imported on the first encryption or decryption, not with this module."""
    global _aesgcm_class
    if _aesgcm_class is None:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        _aesgcm_class = AESGCM
    return _aesgcm_class(key)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: Any) -> bytes:
    if not isinstance(text, str):
        raise ValueError("not a string")
    return base64.b64decode(text.encode("ascii"), validate=True)


def _associated_data(client: str, kcv: str) -> bytes:
    header = {"format": FORMAT, "version": FORMAT_VERSION, "client": client, "kcv": kcv}
    return json.dumps(header, sort_keys=True, separators=(",", ":")).encode("utf-8")


def _safe_lock_name(name: str) -> str:
    """A readable, collision-free file name part for a lock name like "refresh google/me@x.com"."""
    readable = re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("._")[:60]
    digest = hashlib.sha256(name.encode("utf-8")).hexdigest()[:10]
    return f"{readable}-{digest}" if readable else digest


def stored_clients(directory: Path) -> list[str]:
    """The clients that have a vault file under `directory` (names only; nothing is opened)."""
    folder = vault_dir(directory)
    if not folder.is_dir():
        return []
    names = (p.name[: -len(".vault")] for p in folder.glob("*.vault"))
    return sorted(name for name in names if _CLIENT.fullmatch(name))


class _Cached:
    """One decoded snapshot of the vault file (a plain class: dataclasses cost import time)."""

    __slots__ = ("signature", "trusted", "data", "records")

    def __init__(
        self, signature: tuple[int, int, int, int], trusted: bool, data: bytes, records: dict[str, Record]
    ) -> None:
        self.signature = signature  # st_mtime_ns, st_size, st_ino, st_ctime_ns
        self.trusted = trusted  # the signature alone proves "unchanged" (the file is not racily new)
        self.data = data  # the envelope bytes (no secret in clear)
        self.records = records


def _signature(st: os.stat_result) -> tuple[int, int, int, int]:
    return (st.st_mtime_ns, st.st_size, st.st_ino, st.st_ctime_ns)


def _trusted(st: os.stat_result) -> bool:
    newest = max(st.st_mtime_ns, st.st_ctime_ns) / 1e9
    return time.time() - newest > _RACY_SECONDS


class ClientStore:
    """The credentials of ONE client: the only vault object a server holds.

    It opens only `directory/vault/<client>.vault`, and refuses (AccessDenied) any record of another
    client. Thread-safe, and safe across processes: writes are serialized by a file lock.
    """

    def __init__(
        self,
        directory: Path,
        client: str,
        key: MasterKey,
        *,
        lock_timeout: float = 30.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not _CLIENT.fullmatch(client):
            raise ValueError(
                "A client name is 1-64 characters of letters, digits, '_', '.' and '-', "
                "starting with a letter or digit."
            )
        self._directory = Path(directory)
        self._client = client
        self._key_bytes = key.client_key(client)
        self._kcv = key.check_value(client)
        self._key_origin = key.origin
        self._lock_timeout = lock_timeout
        self._clock = clock
        self._cache: _Cached | None = None
        self._locks: dict[str, Any] = {}
        self._locks_guard = threading.Lock()

    def __repr__(self) -> str:
        return f"ClientStore(client={self._client!r}, path={str(self.path)!r})"

    # -- where ---------------------------------------------------------------------------------

    @property
    def client(self) -> str:
        return self._client

    @property
    def path(self) -> Path:
        return vault_dir(self._directory) / f"{self._client}.vault"

    @property
    def backup_path(self) -> Path:
        return vault_dir(self._directory) / f"{self._client}.vault.bak"

    # -- reading -------------------------------------------------------------------------------

    def records(self) -> dict[str, Record]:
        """Every record of this client, keyed by `record_key(provider, account)`."""
        return dict(self._load())

    def get(self, provider: str, account: str) -> Record:
        records = self._load()
        record = records.get(record_key(provider, account))
        if record is None:
            raise self._not_stored(provider, account, records)
        return record

    def find(self, provider: str) -> list[Record]:
        """This client's records for one provider, by account name."""
        return sorted((r for r in self._load().values() if r.provider == provider), key=lambda r: r.account)

    def _load(self) -> dict[str, Record]:
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            self._cache = None
            return {}
        cached = self._cache
        if cached is not None and cached.trusted and cached.signature == _signature(st):
            return cached.records
        try:
            with open(self.path, "rb") as f:
                st = os.fstat(f.fileno())
                data = f.read()
        except FileNotFoundError:
            self._cache = None
            return {}
        return self._remember(st, data).records

    def _remember(self, st: os.stat_result, data: bytes) -> _Cached:
        """Cache decoded `data`; bytes equal to the cached ones are not decrypted again."""
        cached = self._cache
        records = cached.records if cached is not None and cached.data == data else self._decode(data)
        fresh = _Cached(_signature(st), _trusted(st), data, records)
        self._cache = fresh
        return fresh

    # -- writing -------------------------------------------------------------------------------

    def put(self, record: Record) -> Record:
        """Insert or replace. The stored version is the previous one + 1 (1 when new)."""
        self._own(record)

        def change(records: dict[str, Record]) -> Record:
            previous = records.get(record.key)
            return self._stamp(record, (previous.version if previous else 0) + 1)

        return self._write(record.key, change)

    def compare_and_swap(self, record: Record, expected_version: int) -> Record:
        """Write only if the stored version still equals `expected_version` (0 = must not exist yet).

        Raises VersionConflict otherwise: another task, thread or process wrote first (e.g. it
        refreshed the same token), so re-read and use the newer record.
        """
        self._own(record)

        def change(records: dict[str, Record]) -> Record:
            previous = records.get(record.key)
            current = previous.version if previous else 0
            if current != expected_version:
                now = f"version {current}" if previous else "deleted"
                raise VersionConflict(
                    f"{record.key} of client '{self._client}' changed since version {expected_version} was read "
                    f"(it is now {now}).",
                    "Re-read the record and use (or retry with) the newer one.",
                )
            return self._stamp(record, expected_version + 1)

        return self._write(record.key, change)

    def delete(self, provider: str, account: str) -> Record:
        """Remove a record; returns what was removed."""
        key = record_key(provider, account)
        removed: list[Record] = []

        def change(records: dict[str, Record]) -> None:
            if key not in records:
                raise self._not_stored(provider, account, records)
            removed.append(records[key])
            return None

        self._write(key, change)
        return removed[0]

    def _stamp(self, record: Record, version: int) -> Record:
        return record.model_copy(update={"version": version, "updated_at": self._clock()})

    def _write(self, key: str, change: Callable[[dict[str, Record]], Record | None]) -> Any:
        """Read-modify-write under the client's file lock. `change` returns the new record (None = delete)."""
        folder = make_vault_dirs(self._directory)
        with self._hold(folder / f"{self._client}.vault.lock", "vault file"):
            try:
                with open(self.path, "rb") as f:
                    current: bytes | None = f.read()
            except FileNotFoundError:
                current = None
            cached = self._cache
            if current is None:
                records: dict[str, Record] = {}
            elif cached is not None and cached.data == current:
                records = dict(cached.records)
            else:
                records = dict(self._decode(current))  # a file that does not open is never overwritten
            result = change(records)
            if result is None:
                records.pop(key, None)
            else:
                records[key] = result
            data = self._encode(records)
            if current is not None:
                self._replace(self.backup_path, current)
            st = self._replace(self.path, data)
            self._cache = _Cached(_signature(st), _trusted(st), data, records)
        return result

    def _replace(self, target: Path, data: bytes) -> os.stat_result:
        """Atomically make `target` hold `data`: 0600 temp file, fsync, rename, fsync the folder."""
        tmp = target.with_name(f".{target.name}.{secrets.token_hex(6)}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o600)
        try:
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view) :]
                os.fsync(fd)
                st = os.fstat(fd)
            finally:
                os.close(fd)
            os.replace(tmp, target)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        fsync_dir(target.parent)
        return st

    # -- encryption ----------------------------------------------------------------------------

    def _encode(self, records: dict[str, Record]) -> bytes:
        plaintext = json.dumps(
            {"records": {k: r.to_storage() for k, r in sorted(records.items())}}, separators=(",", ":")
        ).encode("utf-8")
        nonce = secrets.token_bytes(NONCE_BYTES)
        ciphertext = _aesgcm(self._key_bytes).encrypt(nonce, plaintext, _associated_data(self._client, self._kcv))
        envelope = {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "client": self._client,
            "kcv": self._kcv,
            "nonce": _b64(nonce),
            "ciphertext": _b64(ciphertext),
        }
        return (json.dumps(envelope, indent=1) + "\n").encode("utf-8")

    def _decode(self, data: bytes) -> dict[str, Record]:
        try:
            envelope = json.loads(data)
        except ValueError:  # includes UnicodeDecodeError
            raise self._corrupt("is not a vault file (not JSON)") from None
        if not is_object(envelope) or envelope.get("format") != FORMAT:
            raise self._corrupt("is not a marketing-mcp vault file")
        version = envelope.get("version")
        if version != FORMAT_VERSION:
            if isinstance(version, int) and version > FORMAT_VERSION:
                raise VaultCorrupt(
                    f"{self.path} was written by a newer marketing-mcp (vault format {version}).",
                    "Upgrade marketing-mcp to open it; the file was not modified.",
                )
            raise self._corrupt("has an unknown format version")
        client = envelope.get("client")
        if client != self._client:
            if isinstance(client, str) and _CLIENT.fullmatch(client):
                raise AccessDenied(
                    f"{self.path} holds the credentials of client '{client}', not of client '{self._client}'.",
                    f"Each client's file opens only under its own name. Move the file back to {client}.vault, "
                    f"or log in for client '{self._client}' (`marketing-mcp auth login|set PROVIDER "
                    f"--client {self._client}`) after moving it aside.",
                )
            raise self._corrupt("has no valid client name")
        kcv = envelope.get("kcv")
        if not isinstance(kcv, str) or not secrets.compare_digest(kcv.encode("utf-8"), self._kcv.encode("ascii")):
            raise WrongKey(
                f"The vault key in use ({self._key_origin}) is not the key {self.path} was written with.",
                "Set MARKETING_MCP_VAULT_KEY to the original key, or move the file aside and log in again "
                f"(`marketing-mcp auth login|set PROVIDER --client {self._client}`). The file was left untouched.",
            )
        try:
            nonce = _unb64(envelope.get("nonce"))
            ciphertext = _unb64(envelope.get("ciphertext"))
        except (ValueError, binascii.Error):
            raise self._corrupt("has a damaged nonce or ciphertext") from None
        if len(nonce) != NONCE_BYTES:
            raise self._corrupt("has a damaged nonce")
        from cryptography.exceptions import InvalidTag

        try:
            plaintext = _aesgcm(self._key_bytes).decrypt(
                nonce, ciphertext, _associated_data(self._client, kcv)
            )  # the file's client, checked above
        except InvalidTag:
            raise self._corrupt("failed its integrity check (damaged or edited)") from None
        try:
            stored = json.loads(plaintext)["records"]
            if not is_object(stored):
                raise TypeError
            records = {key: Record.model_validate(value) for key, value in stored.items()}
        except Exception:
            raise self._corrupt("holds records that do not validate") from None
        for key, record in records.items():
            if key != record.key or record.client != self._client:
                raise self._corrupt("holds a record filed under the wrong key or client")
        return records

    def _corrupt(self, what: str) -> VaultCorrupt:
        bak = self.backup_path
        if bak.exists():
            hint = (
                f"The file was not modified. The last good copy is {bak}: restore it with "
                f"`cp {bak} {self.path}` if it opens; otherwise move {self.path} aside and log in again "
                f"(`marketing-mcp auth login|set PROVIDER --client {self._client}`)."
            )
        else:
            hint = (
                f"The file was not modified, and there is no backup copy. Move {self.path} aside and log in "
                f"again (`marketing-mcp auth login|set PROVIDER --client {self._client}`)."
            )
        return VaultCorrupt(f"The vault file {self.path} {what}.", hint)

    # -- checks --------------------------------------------------------------------------------

    def _own(self, record: Record) -> None:
        if record.client != self._client:
            raise AccessDenied(
                f"This store holds the credentials of client '{self._client}'; the record is for client "
                f"'{record.client}'.",
                f"Use the store of client '{record.client}' (a server is started for one client: "
                f"--client {record.client}).",
            )

    def _not_stored(self, provider: str, account: str, records: dict[str, Record]) -> NotStored:
        stored = ", ".join(sorted(records)) or "nothing"
        return NotStored(
            f"No credential {record_key(provider, account)} is stored for client '{self._client}'.",
            f"Stored for '{self._client}': {stored}. Add it with `marketing-mcp auth login {provider} --client "
            f"{self._client}` (OAuth) or `marketing-mcp auth set {provider} --client {self._client}` "
            f"(API key, password or token).",
        )

    # -- locks ---------------------------------------------------------------------------------

    def _lock_path(self, name: str) -> Path:
        return locks_dir(self._directory) / f"{self._client}.{_safe_lock_name(name)}.lock"

    def _file_lock(self, path: Path) -> Any:
        """One thread-local FileLock per path and store: threads exclude each other, a thread re-enters."""
        with self._locks_guard:
            lock = self._locks.get(str(path))
            if lock is None:
                import filelock

                lock = self._locks[str(path)] = filelock.FileLock(
                    path, timeout=self._lock_timeout, mode=0o600, thread_local=True
                )
            return lock

    @contextlib.contextmanager
    def _hold(self, path: Path, what: str) -> Generator[None]:
        import filelock

        lock = self._file_lock(path)
        try:
            lock.acquire()
        except filelock.Timeout:
            raise self._timeout(what, path) from None
        try:
            yield
        finally:
            lock.release()

    def _timeout(self, what: str, path: Path) -> LockTimeout:
        return LockTimeout(
            f"Timed out after {self._lock_timeout:g} s waiting for the lock '{what}' of client '{self._client}' "
            f"({path}).",
            f"Another marketing-mcp process may be stuck holding it; find it with `fuser {path}` (or lsof) and "
            f"stop it, then retry.",
        )

    def lock(self, name: str) -> contextlib.AbstractContextManager[None]:
        """An exclusive lock across processes and threads, e.g. `lock(f"refresh {provider}/{account}")`.

        Re-entrant within one thread. Tasks on one event loop share a thread: use `alock` there.
        """
        make_vault_dirs(self._directory)
        return self._hold(self._lock_path(name), name)

    @contextlib.asynccontextmanager
    async def alock(self, name: str) -> AsyncGenerator[None]:
        """`lock` for asyncio: waits in a worker thread, so the loop keeps running; excludes other tasks too."""
        import asyncio

        import filelock

        make_vault_dirs(self._directory)
        path = self._lock_path(name)
        # A fresh lock object per acquisition (not thread-local): it may be released from the loop thread,
        # and two tasks of one loop exclude each other like two processes do.
        lock = filelock.FileLock(path, timeout=self._lock_timeout, mode=0o600, thread_local=False)
        waiting = asyncio.ensure_future(asyncio.to_thread(lock.acquire))
        try:
            await asyncio.shield(waiting)
        except filelock.Timeout:
            raise self._timeout(name, path) from None
        except asyncio.CancelledError:
            # The worker thread may still get the lock after we stop waiting: release it then.
            waiting.add_done_callback(lambda t: None if t.cancelled() or t.exception() is not None else lock.release())
            raise
        try:
            yield
        finally:
            lock.release()
