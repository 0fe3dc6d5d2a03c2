"""The master key: text form, derivation, where it is found and created, and keyring selection.

No test depends on an OS keyring: the selection logic runs against fake backends defined here
(named by dotted path, as MARKETING_MCP_KEYRING would name them).
"""

from __future__ import annotations

import base64
import logging
import os
import pickle
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from credentials import keys
from credentials.keys import (
    AUTO_KEYRINGS,
    KEY_ENV,
    KEYRING_ENV,
    InvalidKey,
    KeyFileTooOpen,
    KeyringUnavailable,
    MasterKey,
    VaultError,
    VaultKeyMissing,
    keyring_username,
    load_master_key,
    select_keyring,
)

REPO = Path(__file__).resolve().parents[2]
NO_KEYRING = {KEYRING_ENV: "none"}


# -- fake keyring backends ------------------------------------------------------------------------


class MemoryKeyring:
    """A working keyring."""

    priority = 1
    entries: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.entries.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.entries[(service, username)] = password


class _RaisingPriority:
    def __get__(self, obj, owner):
        raise RuntimeError("Unable to initialize: no D-Bus session")


class NoPriorityKeyring(MemoryKeyring):
    """Its `priority` raises, as keyring's own backends do when they cannot work on this machine."""

    priority = _RaisingPriority()


class RaisingKeyring(MemoryKeyring):
    def get_password(self, service: str, username: str) -> str | None:
        raise RuntimeError("keyring is locked")


HANG = threading.Event()


class HangingKeyring(MemoryKeyring):
    """A D-Bus keyring with no unlock agent: the read never answers (until the test ends)."""

    def get_password(self, service: str, username: str) -> str | None:
        HANG.wait()
        return None


class ReadOnlyKeyring(MemoryKeyring):
    def set_password(self, service: str, username: str, password: str) -> None:
        raise RuntimeError("the collection is read-only")


def dotted(cls: type) -> str:
    return f"{__name__}.{cls.__name__}"


@pytest.fixture(autouse=True)
def _fresh_fakes():
    MemoryKeyring.entries = {}
    HANG.clear()
    yield
    HANG.set()  # lets any probe thread left waiting finish


def mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


# -- the key itself --------------------------------------------------------------------------------


def test_key_is_never_shown_and_not_picklable():
    key = MasterKey.generate()
    assert repr(key) == str(key) == "MasterKey(**********)"
    assert key.to_text() not in f"{key!r} {key} {[key]}"
    with pytest.raises(TypeError):
        pickle.dumps(key)


def test_text_round_trip():
    key = MasterKey.generate()
    text = key.to_text()
    assert len(text) == 43 and "=" not in text
    assert MasterKey.from_text(text) == key
    assert MasterKey.from_text(f"  {text}\n") == key
    assert MasterKey.generate() != key


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "short",
        base64.urlsafe_b64encode(b"k" * 32).decode(),  # 44 chars, with '=' padding
        "A" * 42 + "!",  # not base64url
        base64.b64encode(b"\xfb" * 32).decode().rstrip("="),  # standard alphabet ('+', '/')
        "A" * 42 + "B",  # not a canonical ending for 32 bytes
    ],
)
def test_bad_text_is_refused_without_echo(bad):
    with pytest.raises(InvalidKey) as info:
        MasterKey.from_text(bad, origin="from the test")
    text = str(info.value)
    assert "43 characters of base64url" in info.value.message
    assert "from the test" in info.value.message
    if len(bad) > 3:
        assert bad not in text
    assert isinstance(info.value, ValueError) and isinstance(info.value, VaultError)


def test_client_keys_are_hkdf_sha256_and_differ_per_client():
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    key = MasterKey.generate()
    raw = base64.urlsafe_b64decode(key.to_text() + "=")
    expected = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"marketing-mcp vault v1 client:acme").derive(
        raw
    )
    assert key.client_key("acme") == expected
    assert key.client_key("acme") != key.client_key("beta")
    assert len(key.client_key("beta")) == 32


def test_check_value_tells_keys_apart():
    key = MasterKey.generate()
    kcv = key.check_value("acme")
    assert kcv == key.check_value("acme")
    assert len(base64.b64decode(kcv)) == 8
    assert kcv != key.check_value("beta")
    assert kcv != MasterKey.generate().check_value("acme")


# -- where the key is found ---------------------------------------------------------------------------


def test_env_key_wins_over_keyring_and_file(tmp_path):
    file_key, _ = load_master_key(tmp_path, create=True, environ=NO_KEYRING)
    env_key = MasterKey.generate()
    MemoryKeyring.entries[("marketing-mcp", keyring_username(tmp_path))] = MasterKey.generate().to_text()
    environ = {KEY_ENV: env_key.to_text(), KEYRING_ENV: dotted(MemoryKeyring)}
    key, source = load_master_key(tmp_path, create=True, environ=environ)
    assert (key, source) == (env_key, "env")
    assert KEY_ENV in key.origin
    assert key != file_key


def test_bad_env_key_is_a_clear_error_without_the_value(tmp_path):
    bad = "my-password-is-not-a-key"
    with pytest.raises(InvalidKey) as info:
        load_master_key(tmp_path, create=True, environ={KEY_ENV: bad, **NO_KEYRING})
    assert bad not in str(info.value) and bad not in repr(info.value)
    assert KEY_ENV in info.value.message
    assert "43 characters" in info.value.message
    assert not (tmp_path / "vault.key").exists()


def test_created_in_a_private_key_file_with_one_warning(tmp_path, caplog):
    home = tmp_path / "home"
    with caplog.at_level(logging.INFO, logger="credentials"):
        key, source = load_master_key(home, create=True, environ=NO_KEYRING)
    assert source == "file"
    path = home / "vault.key"
    assert mode(path) == 0o600
    assert mode(home) == 0o700 and mode(home / "vault") == 0o700
    assert path.read_text().strip() == key.to_text()
    assert str(path) in key.origin
    warnings = [r for r in caplog.records if r.name == "credentials" and r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert KEY_ENV in warnings[0].getMessage() and "keyring" in warnings[0].getMessage()
    assert key.to_text() not in caplog.text
    assert not list(home.glob(".*.tmp"))

    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="credentials"):
        again, source = load_master_key(home, create=True, environ=NO_KEYRING)
    assert (again, source) == (key, "file")
    assert not caplog.records


def test_missing_key_names_the_three_places_and_the_command(tmp_path):
    with pytest.raises(VaultKeyMissing) as info:
        load_master_key(tmp_path, create=False, environ=NO_KEYRING)
    message, hint = info.value.message, info.value.hint
    assert KEY_ENV in message and "keyring" in message and str(tmp_path / "vault.key") in message
    assert "marketing-mcp auth set" in hint and "marketing-mcp auth login" in hint
    assert not (tmp_path / "vault.key").exists()


def test_no_new_key_when_vault_files_exist(tmp_path):
    (tmp_path / "vault").mkdir()
    (tmp_path / "vault" / "acme.vault").write_text("{}")
    with pytest.raises(VaultKeyMissing) as info:
        load_master_key(tmp_path, create=True, environ=NO_KEYRING)
    assert "acme.vault" in info.value.message
    assert not (tmp_path / "vault.key").exists()


@pytest.mark.parametrize("loose", [0o644, 0o640, 0o604])
def test_open_key_file_is_refused_with_the_chmod_fix(tmp_path, loose):
    load_master_key(tmp_path, create=True, environ=NO_KEYRING)
    path = tmp_path / "vault.key"
    os.chmod(path, loose)
    with pytest.raises(KeyFileTooOpen) as info:
        load_master_key(tmp_path, create=False, environ=NO_KEYRING)
    assert f"chmod 600 {path}" in info.value.hint
    assert path.read_text().strip() not in str(info.value)
    os.chmod(path, 0o600)
    load_master_key(tmp_path, create=False, environ=NO_KEYRING)


def test_damaged_key_file_is_an_invalid_key(tmp_path):
    path = tmp_path / "vault.key"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    os.write(fd, b"\xff\xfe not a key")
    os.close(fd)
    with pytest.raises(InvalidKey) as info:
        load_master_key(tmp_path, create=True, environ=NO_KEYRING)
    assert str(path) in info.value.message


# -- keyring selection ----------------------------------------------------------------------------


def test_keyring_none_never_touches_a_keyring(tmp_path, monkeypatch):
    monkeypatch.setattr(keys, "_probe", lambda *a: pytest.fail("probed a keyring"))
    choice = select_keyring("u", {KEYRING_ENV: "none"})
    assert choice.name is None
    _, source = load_master_key(tmp_path, create=True, environ={KEYRING_ENV: "none"})
    assert source == "file"


def test_dotted_path_keyring_stores_and_finds_the_key(tmp_path, caplog):
    environ = {KEYRING_ENV: dotted(MemoryKeyring)}
    with caplog.at_level(logging.WARNING, logger="credentials"):
        key, source = load_master_key(tmp_path, create=True, environ=environ)
    assert source == "keyring"
    assert not (tmp_path / "vault.key").exists()
    assert not caplog.records
    assert MemoryKeyring.entries == {("marketing-mcp", f"vault-key:{tmp_path.resolve()}"): key.to_text()}
    again, source = load_master_key(tmp_path, create=False, environ=environ)
    assert (again, source) == (key, "keyring")
    assert "MemoryKeyring" in again.origin


def test_auto_tries_only_its_allowlist_in_order_and_skips_broken_ones(monkeypatch):
    import keyring

    monkeypatch.setattr(keyring, "get_keyring", lambda: pytest.fail("auto-detection used"))
    candidates = [
        dotted(NoPriorityKeyring),
        dotted(RaisingKeyring),
        "no.such.module.Keyring",
        dotted(MemoryKeyring),
        dotted(ReadOnlyKeyring),
    ]
    MemoryKeyring.entries[("marketing-mcp", "vault-key:/x")] = "stored"
    choice = select_keyring("vault-key:/x", {}, candidates=candidates, timeout=1.0)
    assert choice.name == dotted(MemoryKeyring)
    assert choice.value == "stored"
    assert "stored" not in repr(choice)
    assert [t.split(":")[0] for t in choice.tried] == candidates[:3]
    assert "no D-Bus session" in choice.tried[0] and "locked" in choice.tried[1]


def test_default_allowlist_is_the_native_backends():
    assert AUTO_KEYRINGS == (
        "keyring.backends.macOS.Keyring",
        "keyring.backends.Windows.WinVaultKeyring",
        "keyring.backends.SecretService.Keyring",
        "keyring.backends.kwallet.DBusKeyring",
    )


def test_auto_gives_up_on_a_hanging_keyring_within_the_timeout():
    started = time.monotonic()
    choice = select_keyring("u", {KEYRING_ENV: "auto"}, candidates=[dotted(HangingKeyring)], timeout=0.2)
    assert time.monotonic() - started < 2.0
    assert choice.name is None
    assert "no answer within 0.2 s" in choice.tried[0]


def test_explicit_hanging_keyring_is_an_error_within_the_timeout(tmp_path):
    started = time.monotonic()
    with pytest.raises(KeyringUnavailable) as info:
        load_master_key(tmp_path, create=True, environ={KEYRING_ENV: dotted(HangingKeyring)}, keyring_timeout=0.2)
    assert time.monotonic() - started < 2.0
    assert KEYRING_ENV in info.value.message and "no answer" in info.value.message
    assert not (tmp_path / "vault.key").exists()


@pytest.mark.parametrize("cls", [NoPriorityKeyring, RaisingKeyring])
def test_explicit_raising_keyring_is_an_error(tmp_path, cls):
    with pytest.raises(KeyringUnavailable) as info:
        load_master_key(tmp_path, create=True, environ={KEYRING_ENV: dotted(cls)})
    assert f"{KEYRING_ENV}={dotted(cls)}" in info.value.message
    assert "none" in info.value.hint and KEY_ENV in info.value.hint


def test_explicit_bad_path_is_an_error():
    with pytest.raises(KeyringUnavailable):
        select_keyring("u", {KEYRING_ENV: "nonsense"})


def test_auto_with_no_usable_keyring_falls_back_to_the_file(tmp_path, monkeypatch):
    monkeypatch.setattr(keys, "AUTO_KEYRINGS", (dotted(NoPriorityKeyring), dotted(RaisingKeyring)))
    key, source = load_master_key(tmp_path, create=True, environ={})
    assert source == "file"
    with pytest.raises(VaultKeyMissing) as info:
        load_master_key(tmp_path / "other", create=False, environ={})
    assert "NoPriorityKeyring" in info.value.message


def test_keyring_that_refuses_the_write_falls_back_to_the_file(tmp_path, caplog):
    with caplog.at_level(logging.WARNING, logger="credentials"):
        key, source = load_master_key(tmp_path, create=True, environ={KEYRING_ENV: dotted(ReadOnlyKeyring)})
    assert source == "file"
    assert (tmp_path / "vault.key").read_text().strip() == key.to_text()
    assert "read-only" in caplog.text


def test_backend_object_can_be_passed_in(tmp_path):
    key, source = load_master_key(tmp_path, create=True, environ={}, keyring_backend=MemoryKeyring())
    assert source == "keyring"
    assert load_master_key(tmp_path, create=False, environ={}, keyring_backend=MemoryKeyring())[0] == key
    assert load_master_key(tmp_path, create=True, environ={}, keyring_backend=None)[1] == "file"


def test_a_bad_key_in_the_keyring_is_not_echoed(tmp_path):
    MemoryKeyring.entries[("marketing-mcp", keyring_username(tmp_path))] = "hunter2-not-a-key"
    with pytest.raises(InvalidKey) as info:
        load_master_key(tmp_path, create=True, environ={KEYRING_ENV: dotted(MemoryKeyring)})
    assert "hunter2" not in str(info.value)
    assert "keyring" in info.value.message


def test_importing_the_vault_loads_no_heavy_dependency():
    code = (
        "import sys, credentials.keys, credentials.store, credentials.paths; "
        "print(sorted(m for m in ('keyring', 'cryptography', 'filelock', 'platformdirs', 'asyncio') "
        "if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_two_first_runs_create_one_key(tmp_path):
    barrier = threading.Barrier(4)
    results: list[MasterKey] = []

    def first_run() -> None:
        barrier.wait()
        results.append(load_master_key(tmp_path, create=True, environ=NO_KEYRING)[0])

    threads = [threading.Thread(target=first_run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 4 and all(k == results[0] for k in results)
