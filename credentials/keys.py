"""The vault's master key: where it is found, how it is created, and the per-client keys derived from it.

Lookup order (`load_master_key`):

1. the environment variable `MARKETING_MCP_VAULT_KEY` (servers, CI, containers);
2. the OS keyring, service "marketing-mcp", user "vault-key:<data dir>" -- only a backend chosen
   explicitly (`MARKETING_MCP_KEYRING` = auto | none | module.Class), never keyring's own
   auto-detection, which picks keyrings.cryptfile when installed and that prompts on stdin;
3. the key file `<data dir>/vault.key`, which must be private (0600), as ssh demands of its keys.

Each client's vault file is encrypted with its own key, derived from the master key with
HKDF-SHA256, so a file copied under another client's name never opens.

This module also holds `VaultError`, the base of every vault error (store.py re-exports it), so
that key errors and store errors share one shape: `.message` (what is wrong) and `.hint` (what
to do next). No message ever contains a key or a secret.

`keyring`, `filelock` and `platformdirs` are imported inside functions: servers import this
module at start-up.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import os
import re
import secrets
import shlex
import threading
from pathlib import Path
from typing import Any, Callable, Literal, Mapping, Sequence, TypeVar

from credentials.paths import fsync_dir, locks_dir, make_private_dir, make_vault_dirs, vault_dir

log = logging.getLogger("credentials")

KEY_ENV = "MARKETING_MCP_VAULT_KEY"
KEYRING_ENV = "MARKETING_MCP_KEYRING"
KEYRING_SERVICE = "marketing-mcp"
KEY_FILE_NAME = "vault.key"
#: Native backends only, in this order. Anything else must be named in MARKETING_MCP_KEYRING.
AUTO_KEYRINGS: tuple[str, ...] = (
    "keyring.backends.macOS.Keyring",
    "keyring.backends.Windows.WinVaultKeyring",
    "keyring.backends.SecretService.Keyring",
    "keyring.backends.kwallet.DBusKeyring",
)
#: How long a keyring gets to answer; a D-Bus keyring with no unlock agent can block forever.
KEYRING_TIMEOUT = 2.0

KeySource = Literal["env", "keyring", "file"]

_KEY_BYTES = 32
_KEY_TEXT = re.compile(r"[A-Za-z0-9_-]{43}")
_HKDF_INFO = b"marketing-mcp vault v1 client:"
_VALID_KEY = (
    "A vault key is 43 characters of base64url (A-Z, a-z, 0-9, '-' and '_', no '=' padding) encoding 32 random bytes."
)
_CREATE_HINT = (
    "`marketing-mcp auth set PROVIDER --client C` or `marketing-mcp auth login PROVIDER --client C` "
    "creates one on first use. On a server or in CI, set " + KEY_ENV + " to your key."
)


# ---------------------------------------------------------------------------------------------
# Errors


class VaultError(Exception):
    """Base of every vault error: `.message` says what is wrong, `.hint` what to do next."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message, hint)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} {self.hint}" if self.hint else self.message


class VaultKeyMissing(VaultError):
    """No master key in any of the places looked, and none may be created."""


class InvalidKey(VaultError, ValueError):
    """A key value that is not 43 characters of base64url. The message never repeats the value."""


class KeyFileTooOpen(VaultError):
    """The key file can be read by other users; refused until it is chmod 600."""


class KeyringUnavailable(VaultError):
    """The keyring named in MARKETING_MCP_KEYRING (or passed in) cannot be used here."""


# ---------------------------------------------------------------------------------------------
# The key


def _hkdf_sha256(ikm: bytes, info: bytes, length: int = 32) -> bytes:
    """RFC 5869 HKDF with SHA-256 and no salt (= 32 zero bytes); stdlib only, so no cryptography import."""
    prk = hmac.new(b"\x00" * 32, ikm, hashlib.sha256).digest()
    out, block, counter = b"", b"", 1
    while len(out) < length:
        block = hmac.new(prk, block + info + bytes([counter]), hashlib.sha256).digest()
        out += block
        counter += 1
    return out[:length]


class MasterKey:
    """32 random bytes. Never shown: repr and str are `MasterKey(**********)`; it cannot be pickled.

    `origin` says where the key came from ("from the environment variable ...", "from the key
    file /path") so errors can name the source without naming the key.
    """

    __slots__ = ("_raw", "origin", "_client_keys")

    def __init__(self, raw: bytes, *, origin: str = "given by the caller") -> None:
        if len(raw) != _KEY_BYTES:
            raise ValueError(f"A master key is exactly {_KEY_BYTES} bytes.")
        self._raw = bytes(raw)
        self.origin = origin
        self._client_keys: dict[str, bytes] = {}

    @classmethod
    def generate(cls, *, origin: str = "newly generated") -> MasterKey:
        return cls(secrets.token_bytes(_KEY_BYTES), origin=origin)

    @classmethod
    def from_text(cls, text: str, *, origin: str = "given by the caller") -> MasterKey:
        """Parse base64url text (surrounding whitespace ignored). A bad value raises InvalidKey without echoing it."""
        value = text.strip()
        problem = None
        raw = b""
        if not value:
            problem = "it is empty"
        elif len(value) != 43:
            problem = f"it has {len(value)} characters" + (", with '=' padding" if value.endswith("=") else "")
        elif not _KEY_TEXT.fullmatch(value):
            problem = "it has characters outside base64url"
        else:
            raw = base64.urlsafe_b64decode(value + "=")
            if base64.urlsafe_b64encode(raw).rstrip(b"=").decode() != value:
                problem = "its last character is not a valid ending for 32 bytes"
        if problem:
            raise InvalidKey(
                f"The vault key {origin} is not valid ({problem}). {_VALID_KEY}",
                "Use the key this vault was created with; a new key cannot open files written with another. "
                'To make a new key for a new vault: python -c "from credentials.keys import MasterKey; '
                'print(MasterKey.generate().to_text())"',
            )
        return cls(raw, origin=origin)

    def to_text(self) -> str:
        """The key as 43 characters of base64url without padding. Only for storing the key."""
        return base64.urlsafe_b64encode(self._raw).rstrip(b"=").decode("ascii")

    def client_key(self, client: str) -> bytes:
        """The AES-256 key of one client's vault file: HKDF-SHA256(master, info = prefix + client name)."""
        key = self._client_keys.get(client)
        if key is None:
            key = self._client_keys[client] = _hkdf_sha256(self._raw, _HKDF_INFO + client.encode("utf-8"))
        return key

    def check_value(self, client: str) -> str:
        """A short public fingerprint of `client_key(client)`: tells "wrong key" apart from "damaged file"."""
        digest = hmac.new(self.client_key(client), b"key check", hashlib.sha256).digest()
        return base64.b64encode(digest[:8]).decode("ascii")

    def __repr__(self) -> str:
        return "MasterKey(**********)"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, MasterKey):
            return NotImplemented
        return hmac.compare_digest(self._raw, other._raw)

    __hash__ = None  # type: ignore[assignment]  # unhashable on purpose: a key is never a dict key or set member

    def __reduce__(self) -> Any:
        raise TypeError("A MasterKey is not picklable; pass its to_text() through the environment if you must.")


# ---------------------------------------------------------------------------------------------
# Keyring selection

T = TypeVar("T")


class _NoAnswer(Exception):
    pass


def _call_with_timeout(fn: Callable[[], T], timeout: float, what: str) -> T:
    """Run `fn` in a daemon thread; give up (raise _NoAnswer) after `timeout` seconds, leaving it behind."""
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["value"] = fn()
        except BaseException as exc:
            box["error"] = exc

    thread = threading.Thread(target=run, name=f"marketing-mcp {what}", daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        raise _NoAnswer(f"no answer within {timeout:g} s (locked, waiting for an unlock prompt?)")
    if "error" in box:
        raise box["error"]
    return box["value"]


def _reason(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text if len(text) <= 160 else text[:157] + "..."


def _short(path: str) -> str:
    return path.removeprefix("keyring.backends.")


class KeyringChoice:
    """The outcome of choosing a keyring: a usable backend (or None) and what its probe found.

    `value` is what `get_password` returned for the probed user name (the stored key, if any);
    it is kept out of repr. `tried` lists the backends that were not usable, and why.
    """

    __slots__ = ("name", "backend", "value", "tried", "timeout")

    def __init__(
        self,
        name: str | None,
        backend: Any = None,
        value: str | None = None,
        tried: list[str] | None = None,
        timeout: float = KEYRING_TIMEOUT,
    ) -> None:
        self.name = name
        self.backend = backend
        self.value = value
        self.tried = tried if tried is not None else []
        self.timeout = timeout

    def __repr__(self) -> str:
        return f"KeyringChoice(name={self.name!r}, tried={self.tried!r})"

    def get(self, username: str) -> str | None:
        return _call_with_timeout(
            lambda: self.backend.get_password(KEYRING_SERVICE, username), self.timeout, "keyring read"
        )

    def set(self, username: str, value: str) -> None:
        _call_with_timeout(
            lambda: self.backend.set_password(KEYRING_SERVICE, username, value), self.timeout, "keyring write"
        )

    def describe(self) -> str:
        if self.name:
            return f"the OS keyring ({_short(self.name)})"
        return "the OS keyring: none usable (" + ("; ".join(self.tried) or "none tried") + ")"


def _import_class(path: str) -> type:
    import importlib

    module_name, _, class_name = path.rpartition(".")
    if not module_name or not class_name:
        raise ValueError("not a dotted module.Class path")
    return getattr(importlib.import_module(module_name), class_name)


def _probe(cls: type[Any], username: str, timeout: float) -> tuple[Any, str | None]:
    """Instantiate a backend and read the key's entry, all within `timeout`. Raises if unusable."""

    def run() -> tuple[Any, str | None]:
        cls.priority  # noqa: B018 - keyring's backends raise here when they cannot work on this machine
        backend = cls()
        return backend, backend.get_password(KEYRING_SERVICE, username)

    return _call_with_timeout(run, timeout, "keyring probe")


def select_keyring(
    username: str,
    environ: Mapping[str, str] = os.environ,
    *,
    candidates: Sequence[str] | None = None,
    timeout: float = KEYRING_TIMEOUT,
) -> KeyringChoice:
    """Choose the keyring by `MARKETING_MCP_KEYRING`: "none", "auto" (default: the first usable of
    `candidates`, default AUTO_KEYRINGS) or a dotted `module.Class` path (an error if that one is not usable).

    Never calls `keyring.get_keyring()`. A backend is usable when its `priority` does not raise and a
    `get_password(service, username)` probe returns within `timeout`; the probe's answer is kept in
    the result, so choosing the keyring also looks the key up.
    """
    setting = environ.get(KEYRING_ENV, "").strip() or "auto"
    if setting.lower() == "none":
        return KeyringChoice(None, tried=[f"{KEYRING_ENV}=none"], timeout=timeout)
    explicit = setting.lower() != "auto"
    tried: list[str] = []
    for path in [setting] if explicit else AUTO_KEYRINGS if candidates is None else candidates:
        try:
            cls = _import_class(path)
            backend, value = _probe(cls, username, timeout)
        except Exception as exc:
            tried.append(f"{_short(path)}: {_reason(exc)}")
            log.debug("keyring %s not usable: %s", path, _reason(exc))
            continue
        return KeyringChoice(path, backend, value, tried, timeout)
    if explicit:
        raise KeyringUnavailable(
            f"{KEYRING_ENV}={setting} names a keyring that cannot be used here ({tried[-1].partition(': ')[2]}).",
            f"Unlock or fix that keyring, set {KEYRING_ENV}=auto (native keyrings, else a key file) or "
            f"{KEYRING_ENV}=none, or provide the key in {KEY_ENV}.",
        )
    return KeyringChoice(None, tried=tried or ["no candidates"], timeout=timeout)


class _Auto:
    def __repr__(self) -> str:
        return "AUTO"


#: `keyring_backend=AUTO` (the default) chooses by MARKETING_MCP_KEYRING; None disables the keyring.
AUTO: Any = _Auto()


def _given_backend(backend: Any, username: str, timeout: float) -> KeyringChoice:
    name = f"{type(backend).__module__}.{type(backend).__qualname__}"
    choice = KeyringChoice(name, backend, None, [], timeout)
    try:
        choice.value = choice.get(username)
    except Exception as exc:
        raise KeyringUnavailable(
            f"The keyring {name} cannot be used here ({_reason(exc)}).",
            f"Unlock or fix it, or provide the key in {KEY_ENV}.",
        ) from None
    return choice


def keyring_username(directory: Path) -> str:
    """The keyring user name under which a data directory's master key is stored."""
    return f"vault-key:{Path(directory).resolve()}"


# ---------------------------------------------------------------------------------------------
# The key file


def key_file_path(directory: Path) -> Path:
    return Path(directory) / KEY_FILE_NAME


def _read_key_file(path: Path) -> MasterKey | None:
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
    except FileNotFoundError:
        return None
    try:
        mode = os.fstat(fd).st_mode & 0o777
        if os.name != "nt" and mode & 0o077:
            raise KeyFileTooOpen(
                f"The vault key file {path} is accessible to other users (permissions {mode:04o}); "
                f"it must be readable by you only.",
                f"Run `chmod 600 {shlex.quote(str(path))}` and try again.",
            )
        data = os.read(fd, 4096)
    finally:
        os.close(fd)
    origin = f"from the key file {path}"
    try:
        text = data.decode("ascii")
    except UnicodeDecodeError:
        text = ""
    return MasterKey.from_text(text, origin=origin)


def _write_key_file(path: Path, key: MasterKey) -> None:
    """Create the key file 0600 from the start, complete or not at all; never overwrite one (FileExistsError)."""
    make_private_dir(path.parent)
    data = (key.to_text() + "\n").encode("ascii")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")

    def create(target: Path) -> None:  # 0600 from the first byte, never chmod-ed afterwards
        fd = os.open(target, flags, 0o600)
        try:
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)

    try:
        create(tmp)
        try:
            os.link(tmp, path)  # atomic, and refuses to replace an existing key
        except FileExistsError:
            raise
        except OSError:  # no hard links on this file system: create the final file directly
            create(path)
    finally:
        tmp.unlink(missing_ok=True)
    fsync_dir(path.parent)


# ---------------------------------------------------------------------------------------------
# Loading


def _existing_vault_files(directory: Path) -> list[Path]:
    folder = vault_dir(directory)
    return sorted(folder.glob("*.vault")) if folder.is_dir() else []


def _missing(directory: Path, choice: KeyringChoice, *, existing: list[Path], create: bool) -> VaultKeyMissing:
    if choice.name:
        keyring_part = (
            f"{choice.describe()}: no entry for service '{KEYRING_SERVICE}', user '{keyring_username(directory)}'"
        )
    else:
        keyring_part = choice.describe()
    message = (
        f"No vault key found. Looked in (1) the environment variable {KEY_ENV}: not set; "
        f"(2) {keyring_part}; (3) the key file {key_file_path(directory)}: absent."
    )
    if existing:
        names = ", ".join(p.name for p in existing[:5]) + (", ..." if len(existing) > 5 else "")
        message += (
            f" But {vault_dir(directory)} already holds vault files ({names}), written with a key that is "
            f"in none of these places; a new key could not open them" + (", so none was created." if create else ".")
        )
        hint = (
            f"Restore the original key (set {KEY_ENV}, unlock the OS keyring, or put vault.key back), or "
            f"move {vault_dir(directory)} aside to start a new vault and log in again."
        )
    else:
        hint = _CREATE_HINT
    return VaultKeyMissing(message, hint)


def load_master_key(
    directory: Path,
    *,
    create: bool,
    environ: Mapping[str, str] = os.environ,
    keyring_backend: Any = AUTO,
    keyring_timeout: float = KEYRING_TIMEOUT,
) -> tuple[MasterKey, KeySource]:
    """Find the master key of the data directory `directory`: env var, then OS keyring, then key file.

    Returns `(key, source)` with source "env", "keyring" or "file"; `key.origin` names the place.
    With `create=True` and no key anywhere, generates one and stores it in the keyring when a usable
    one exists, else in `directory/vault.key` (0600, with one WARNING). It refuses to create a key
    when vault files already exist, since a new key could never open them. With `create=False`,
    raises VaultKeyMissing naming the places looked.

    `keyring_backend`: AUTO (choose by MARKETING_MCP_KEYRING), None (no keyring), or a backend object.
    """
    directory = Path(directory)
    text = environ.get(KEY_ENV, "")
    if text.strip():
        return MasterKey.from_text(text, origin=f"from the environment variable {KEY_ENV}"), "env"

    username = keyring_username(directory)
    if keyring_backend is AUTO:
        choice = select_keyring(username, environ, timeout=keyring_timeout)
    elif keyring_backend is None:
        choice = KeyringChoice(None, tried=["disabled by the caller"], timeout=keyring_timeout)
    else:
        choice = _given_backend(keyring_backend, username, keyring_timeout)

    found = _from_keyring_or_file(directory, choice, choice.value)
    if found:
        return found
    existing = _existing_vault_files(directory)
    if not create or existing:
        raise _missing(directory, choice, existing=existing, create=create)
    return _create(directory, choice, username)


def _from_keyring_or_file(
    directory: Path, choice: KeyringChoice, keyring_value: str | None
) -> tuple[MasterKey, KeySource] | None:
    if keyring_value:
        origin = f"from {choice.describe()}"
        return MasterKey.from_text(keyring_value, origin=origin), "keyring"
    key = _read_key_file(key_file_path(directory))
    return (key, "file") if key else None


def _create(directory: Path, choice: KeyringChoice, username: str) -> tuple[MasterKey, KeySource]:
    """Create the key under a lock, re-checking first, so two first runs never make two keys."""
    import filelock

    make_vault_dirs(directory)
    lock_path = locks_dir(directory) / "vault-key.lock"
    try:
        with filelock.FileLock(lock_path, timeout=30.0, mode=0o600):
            try:
                again = choice.get(username) if choice.name else None
            except Exception as exc:
                raise KeyringUnavailable(
                    f"{choice.describe()} stopped answering ({_reason(exc)}).",
                    f"Unlock or fix it and retry, or provide the key in {KEY_ENV}.",
                ) from None
            found = _from_keyring_or_file(directory, choice, again)
            if found:
                return found
            existing = _existing_vault_files(directory)
            if existing:
                raise _missing(directory, choice, existing=existing, create=True)
            key = MasterKey.generate()
            failure = ""
            if choice.name:
                try:
                    choice.set(username, key.to_text())
                except Exception as exc:
                    failure = f" (storing it in {choice.describe()} failed: {_reason(exc)})"
                else:
                    key.origin = f"from {choice.describe()}"
                    log.info("Created the vault key and stored it in %s.", choice.describe())
                    return key, "keyring"
            path = key_file_path(directory)
            try:
                _write_key_file(path, key)
            except FileExistsError:  # someone outside our lock wrote one: use theirs
                found = _from_keyring_or_file(directory, choice, None)
                assert found is not None
                return found
            key.origin = f"from the key file {path}"
            log.warning(
                "Created the vault key in the file %s, next to the vault%s. Anyone who can read that file "
                "can read every stored credential; an OS keyring is safer. On servers and in CI, set %s "
                "(keep the key in your secret manager) instead.",
                path,
                failure or " (no usable OS keyring)",
                KEY_ENV,
            )
            return key, "file"
    except filelock.Timeout:
        raise VaultError(
            f"Timed out waiting for the key-creation lock {lock_path}.",
            "Another marketing-mcp process may be stuck creating the vault key; stop it and retry.",
        ) from None
