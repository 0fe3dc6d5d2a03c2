"""The per-client encrypted store: round trips, versions, isolation, damage, crashes, locks, caching."""

from __future__ import annotations

import asyncio
import json
import os
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from pydantic import SecretStr

from credentials.keys import MasterKey
from credentials.records import ApiKey, BearerToken, OAuthToken, Password, Record, ServiceAccountKey
from credentials.store import (
    AccessDenied,
    ClientStore,
    LockTimeout,
    NotStored,
    VaultCorrupt,
    VaultError,
    VersionConflict,
    WrongKey,
    stored_clients,
)

REPO = Path(__file__).resolve().parents[2]

SECRETS = {
    "oauth2": ["ya29.ACCESS-Zq81xk", "1//REFRESH-Pw93mv", "GOCSPX-CLIENTSECRET-k2"],
    "api_key": ["0123456789abcdef0123456789abcdef-us21"],
    "password": ["abcd EFGH ijkl MNOP qrst UVWX"],
    "bearer": ["wf-site-token-7d1e55c0ffee"],
    "service_account": ['{"private_key": "-----BEGIN PRIVATE KEY-----\\nMIIEvSERVICE\\n"}'],
}
ALL_SECRETS = [s for values in SECRETS.values() for s in values]


def secret_of(kind: str):
    s = SECRETS[kind]
    if kind == "oauth2":
        return OAuthToken(
            access_token=SecretStr(s[0]),
            refresh_token=SecretStr(s[1]),
            client_secret=SecretStr(s[2]),
            expires_at=2_000_000_000.0,
            scopes=("analytics.readonly",),
            token_url="https://oauth2.googleapis.com/token",
            client_id="cid.apps",
        )
    if kind == "api_key":
        return ApiKey(key=SecretStr(s[0]), extra={"dc": "us21"})
    if kind == "password":
        return Password(username="editor", password=SecretStr(s[0]), extra={"site_url": "http://127.0.0.1:8080"})
    if kind == "bearer":
        return BearerToken(token=SecretStr(s[0]))
    return ServiceAccountKey(client_email="sa@p.iam.gserviceaccount.com", info=SecretStr(s[0]))


PROVIDER = {
    "oauth2": "google",
    "api_key": "mailchimp",
    "password": "wordpress",
    "bearer": "webflow",
    "service_account": "google-sa",
}


def record(kind: str = "api_key", *, client: str = "acme", account: str = "main", label: str = "") -> Record:
    return Record(client=client, provider=PROVIDER[kind], account=account, secret=secret_of(kind), label=label)


@pytest.fixture
def key() -> MasterKey:
    return MasterKey.generate()


@pytest.fixture
def acme(tmp_path, key) -> ClientStore:
    return ClientStore(tmp_path, "acme", key)


def mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def run_child(tmp_path: Path, key: MasterKey, code: str, **kw) -> subprocess.Popen:
    """The venv's python running `code` with `store` = ClientStore(tmp_path, "acme", key)."""
    prelude = (
        "import os, sys\n"
        "from pathlib import Path\n"
        "from credentials.keys import MasterKey\n"
        "from credentials.store import ClientStore\n"
        "key = MasterKey.from_text(os.environ['MARKETING_MCP_VAULT_KEY'])\n"
        "store = ClientStore(Path(sys.argv[1]), 'acme', key)\n"
    )
    env = {
        **os.environ,
        "MARKETING_MCP_VAULT_KEY": key.to_text(),
        "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
    }
    return subprocess.Popen(
        [sys.executable, "-c", prelude + code, str(tmp_path)],
        cwd=REPO,
        env=env,
        text=True,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        **kw,
    )


# -- round trips and versions -------------------------------------------------------------------------


@pytest.mark.parametrize("kind", list(SECRETS))
def test_round_trip_per_kind(tmp_path, key, acme, kind):
    original = record(kind)
    stored = acme.put(original)
    assert stored.version == 1
    fresh = ClientStore(tmp_path, "acme", key)  # no cache: read from the file
    got = fresh.get(original.provider, "main")
    assert got == stored
    assert got.to_storage() == stored.to_storage()
    assert fresh.records() == {stored.key: stored}
    assert fresh.find(original.provider) == [stored]


def test_versions_grow_and_updated_at_is_set(tmp_path, key):
    ticks = iter([100.0, 200.0, 300.0])
    acme = ClientStore(tmp_path, "acme", key, clock=lambda: next(ticks))
    first = acme.put(record(label="one"))
    second = acme.put(record(label="two"))
    other = acme.put(record(account="second"))
    assert (first.version, first.updated_at) == (1, 100.0)
    assert (second.version, second.updated_at, second.label) == (2, 200.0, "two")
    assert (other.version, other.updated_at) == (1, 300.0)
    assert [r.account for r in acme.find("mailchimp")] == ["main", "second"]
    assert acme.find("webflow") == []


def test_compare_and_swap(acme):
    stored = acme.put(record(label="v1"))
    swapped = acme.compare_and_swap(stored.model_copy(update={"label": "refreshed"}), expected_version=1)
    assert swapped.version == 2 and acme.get("mailchimp", "main").label == "refreshed"
    with pytest.raises(VersionConflict) as info:
        acme.compare_and_swap(stored.model_copy(update={"label": "stale"}), expected_version=1)
    assert "version 2" in info.value.message and info.value.hint
    assert acme.get("mailchimp", "main").label == "refreshed"
    created = acme.compare_and_swap(record(account="new"), expected_version=0)
    assert created.version == 1
    with pytest.raises(VersionConflict):
        acme.compare_and_swap(record(account="new"), expected_version=0)


def test_delete_and_not_stored_hint(acme):
    acme.put(record("oauth2", account="me@example.com"))
    acme.put(record("api_key"))
    removed = acme.delete("mailchimp", "main")
    assert removed.provider == "mailchimp"
    with pytest.raises(NotStored) as info:
        acme.get("mailchimp", "main")
    hint = info.value.hint
    assert "google/me@example.com" in hint
    assert "marketing-mcp auth login mailchimp --client acme" in hint
    assert "marketing-mcp auth set mailchimp --client acme" in hint
    with pytest.raises(NotStored):
        acme.delete("mailchimp", "main")
    with pytest.raises(NotStored) as info:
        ClientStore(acme.path.parents[1], "empty", MasterKey.generate()).get("google", "x")
    assert "nothing" in info.value.hint


# -- isolation ------------------------------------------------------------------------------------------


def test_access_denied_for_another_clients_record(acme):
    with pytest.raises(AccessDenied) as info:
        acme.put(record(client="beta"))
    assert "'acme'" in info.value.message and "'beta'" in info.value.message
    with pytest.raises(AccessDenied):
        acme.compare_and_swap(record(client="beta"), expected_version=0)
    assert not acme.path.exists()


def test_file_copied_from_another_client_does_not_open(tmp_path, key):
    beta = ClientStore(tmp_path, "beta", key)
    beta.put(record(client="beta"))
    acme = ClientStore(tmp_path, "acme", key)
    acme.path.write_bytes(beta.path.read_bytes())
    before = acme.path.read_bytes()
    with pytest.raises(AccessDenied) as info:
        acme.records()
    assert "'beta'" in info.value.message and "'acme'" in info.value.message
    with pytest.raises(AccessDenied):
        acme.put(record())
    assert acme.path.read_bytes() == before

    # The header edited to claim "acme" does not help: the key and the associated data are acme's own.
    envelope = json.loads(before)
    envelope["client"] = "acme"
    acme.path.write_text(json.dumps(envelope))
    with pytest.raises((WrongKey, VaultCorrupt)):
        acme.records()


def test_edited_header_fails(acme):
    acme.put(record())
    envelope = json.loads(acme.path.read_bytes())
    envelope["version"] = 2
    acme.path.write_text(json.dumps(envelope))
    with pytest.raises(VaultCorrupt):
        ClientStore(acme.path.parents[1], "acme", MasterKey.generate()).records()


def test_bad_client_name_is_refused(tmp_path, key):
    for bad in ["../etc", "a/b", "", ".hidden", "x" * 65, "acme\n"]:
        with pytest.raises(ValueError):
            ClientStore(tmp_path, bad, key)


# -- wrong key, damage, crashes -----------------------------------------------------------------------------


def test_wrong_key_reads_and_writes_change_nothing(tmp_path, acme):
    acme.put(record())
    before = acme.path.read_bytes()
    other_key = MasterKey.from_text(MasterKey.generate().to_text(), origin="from X-SOURCE")
    intruder = ClientStore(tmp_path, "acme", other_key)
    with pytest.raises(WrongKey) as info:
        intruder.get("mailchimp", "main")
    assert "X-SOURCE" in info.value.message
    assert "MARKETING_MCP_VAULT_KEY" in info.value.hint and "untouched" in info.value.hint
    with pytest.raises(WrongKey):
        intruder.put(record(label="overwrite"))
    with pytest.raises(WrongKey):
        intruder.delete("mailchimp", "main")
    assert acme.path.read_bytes() == before
    assert not acme.backup_path.exists()
    assert acme.get("mailchimp", "main").label == ""


def test_flipped_byte_is_corrupt_and_the_backup_still_opens(tmp_path, key, acme):
    acme.put(record(label="old"))
    acme.put(record(label="new"))
    envelope = json.loads(acme.path.read_bytes())
    raw = bytearray(__import__("base64").b64decode(envelope["ciphertext"]))
    raw[len(raw) // 2] ^= 0x01
    envelope["ciphertext"] = __import__("base64").b64encode(bytes(raw)).decode()
    acme.path.write_text(json.dumps(envelope))
    damaged = acme.path.read_bytes()

    fresh = ClientStore(tmp_path, "acme", key)
    with pytest.raises(VaultCorrupt) as info:
        fresh.records()
    assert f"cp {acme.backup_path} {acme.path}" in info.value.hint
    with pytest.raises(VaultCorrupt):
        fresh.put(record(label="on top of damage"))
    assert acme.path.read_bytes() == damaged

    acme.path.write_bytes(acme.backup_path.read_bytes())  # the `cp` of the hint
    assert ClientStore(tmp_path, "acme", key).get("mailchimp", "main").label == "old"


@pytest.mark.parametrize(
    "content",
    [b"", b"\x00\xff garbage", b'{"format": "marketing-mcp-vault", "vers', b'{"format": "something-else"}', b"[1, 2]"],
)
def test_truncated_or_garbage_file_is_corrupt(tmp_path, key, content):
    acme = ClientStore(tmp_path, "acme", key)
    acme.put(record())
    acme.path.write_bytes(content)
    with pytest.raises(VaultCorrupt) as info:
        acme.records()
    assert isinstance(info.value, VaultError)
    assert acme.path.read_bytes() == content


def test_truncated_ciphertext_is_corrupt_without_backup(tmp_path, key, acme):
    acme.put(record())
    envelope = json.loads(acme.path.read_bytes())
    envelope["ciphertext"] = envelope["ciphertext"][:24]
    acme.path.write_text(json.dumps(envelope))
    with pytest.raises(VaultCorrupt) as info:
        ClientStore(tmp_path, "acme", key).records()
    assert "no backup" in info.value.hint


def test_a_crash_during_put_leaves_the_old_file(tmp_path, key, acme, monkeypatch):
    acme.put(record(label="before"))
    acme.put(record(label="before, twice"))
    before = acme.path.read_bytes()

    def crash(src, dst):
        raise OSError("simulated power cut")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="power cut"):
        acme.put(record(label="after"))
    monkeypatch.undo()
    assert acme.path.read_bytes() == before
    assert ClientStore(tmp_path, "acme", key).get("mailchimp", "main").label == "before, twice"
    assert [p.name for p in acme.path.parent.iterdir() if p.name.endswith(".tmp")] == []


def test_a_crash_after_the_backup_leaves_the_old_file(tmp_path, key, acme, monkeypatch):
    acme.put(record(label="before"))
    real_replace = os.replace

    def crash_on_vault(src, dst):
        if str(dst).endswith(".vault"):
            raise OSError("simulated crash")
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", crash_on_vault)
    with pytest.raises(OSError):
        acme.put(record(label="after"))
    monkeypatch.undo()
    assert ClientStore(tmp_path, "acme", key).get("mailchimp", "main").label == "before"
    assert not [p for p in acme.path.parent.iterdir() if p.name.endswith(".tmp")]


# -- files on disk --------------------------------------------------------------------------------------


def test_permissions(tmp_path, key):
    home = tmp_path / "home"
    acme = ClientStore(home, "acme", key)
    acme.put(record())
    acme.put(record(label="again"))
    with acme.lock("refresh mailchimp/main"):
        pass
    assert mode(acme.path) == 0o600
    assert mode(acme.backup_path) == 0o600
    assert mode(home) == 0o700
    assert mode(home / "vault") == 0o700
    assert mode(home / "vault" / "locks") == 0o700
    assert all(mode(p) == 0o600 for p in (home / "vault").rglob("*") if p.is_file())


def test_no_secret_in_clear_on_disk(tmp_path, acme):
    for kind in SECRETS:
        acme.put(record(kind))
    acme.put(record("bearer", label="second write, so a backup exists"))
    for path in (acme.path, acme.backup_path):
        data = path.read_bytes()
        for secret in ALL_SECRETS:
            assert secret.encode() not in data, (path, secret)
            assert secret.encode("utf-16-le") not in data
    envelope = json.loads(acme.path.read_bytes())
    assert set(envelope) == {"format", "version", "client", "kcv", "nonce", "ciphertext"}
    assert (envelope["format"], envelope["version"], envelope["client"]) == ("marketing-mcp-vault", 1, "acme")


def test_fresh_nonce_per_write(acme):
    acme.put(record())
    first = json.loads(acme.path.read_bytes())["nonce"]
    acme.put(record())
    assert json.loads(acme.path.read_bytes())["nonce"] != first


def test_errors_never_show_secrets(tmp_path, acme):
    acme.put(record("oauth2"))
    errors: list[VaultError] = []
    for attempt in (
        lambda: acme.get("google", "other"),
        lambda: acme.compare_and_swap(record("oauth2"), expected_version=7),
        lambda: acme.put(record("oauth2", client="beta")),
        lambda: ClientStore(tmp_path, "acme", MasterKey.generate()).records(),
    ):
        with pytest.raises(VaultError) as info:
            attempt()
        errors.append(info.value)
    text = " ".join(f"{e!s} {e!r} {e.hint}" for e in errors)
    assert not any(secret in text for secret in ALL_SECRETS)
    assert "ClientStore(client='acme'" in repr(acme)


def test_stored_clients(tmp_path, key):
    assert stored_clients(tmp_path) == []
    for name in ("beta", "acme"):
        ClientStore(tmp_path, name, key).put(record(client=name))
    assert stored_clients(tmp_path) == ["acme", "beta"]


# -- caching ------------------------------------------------------------------------------------------------


def test_warm_reads_do_not_decrypt(acme, monkeypatch):
    acme.put(record())
    calls = []
    real = ClientStore._decode
    monkeypatch.setattr(ClientStore, "_decode", lambda self, data: calls.append(1) or real(self, data))
    for _ in range(5):
        acme.get("mailchimp", "main")
        acme.records()
    assert calls == []
    acme.put(record(label="changed"))  # our own write refreshes the cache too
    assert acme.get("mailchimp", "main").label == "changed"
    assert calls == []


def test_cache_sees_a_change_made_by_another_process(tmp_path, key, acme):
    acme.put(record(label="mine"))
    assert acme.get("mailchimp", "main").label == "mine"  # cache warm
    child = run_child(
        tmp_path, key, ("r = store.get('mailchimp', 'main')\nstore.put(r.model_copy(update={'label': 'theirs'}))\n")
    )
    out, err = child.communicate(timeout=60)
    assert child.returncode == 0, err
    assert acme.get("mailchimp", "main").label == "theirs"
    assert acme.get("mailchimp", "main").version == 2


def test_cache_sees_a_same_size_rewrite_with_the_same_mtime(tmp_path, key, acme):
    """The racy case: another writer rewrites a just-written file in place, same size, same mtime."""
    acme.put(record(label="AAAA"))
    other = ClientStore(tmp_path, "acme", key)
    assert acme.get("mailchimp", "main").label == "AAAA"
    st = os.stat(acme.path)
    data = other._encode({"mailchimp/main": other.get("mailchimp", "main").model_copy(update={"label": "BBBB"})})
    assert len(data) == st.st_size
    with open(acme.path, "r+b") as f:  # same inode
        f.write(data)
    os.utime(acme.path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert acme.get("mailchimp", "main").label == "BBBB"


def test_a_racily_new_file_is_compared_not_trusted(tmp_path, key, acme, monkeypatch):
    """Same stat signature (inode reused, same size, same timestamp tick): only the bytes can tell."""
    from credentials import store as store_module

    monkeypatch.setattr(store_module, "_signature", lambda st: (0, 0, 0, 0))
    acme.put(record(label="AAAA"))
    assert acme.get("mailchimp", "main").label == "AAAA"
    ClientStore(tmp_path, "acme", key).put(record(label="BBBB"))
    assert acme.get("mailchimp", "main").label == "BBBB"  # just written, so not trusted: bytes compared

    monkeypatch.setattr(store_module, "_trusted", lambda st: True)  # an old file: the signature is enough
    acme.records()
    ClientStore(tmp_path, "acme", key).put(record(label="CCCC"))
    assert acme.get("mailchimp", "main").label == "BBBB"  # (only because the signature was faked)


def test_cache_follows_a_deleted_file(acme):
    acme.put(record())
    acme.records()
    acme.path.unlink()
    assert acme.records() == {}


# -- locks ---------------------------------------------------------------------------------------------

COUNTER_CHILD = (
    "print('ready', flush=True)\n"
    "sys.stdin.readline()\n"
    "for _ in range(20):\n"
    "    with store.lock('counter'):\n"
    "        r = store.get('mailchimp', 'main')\n"
    "        store.put(r.model_copy(update={'label': str(int(r.label) + 1)}))\n"
)


def test_two_processes_lose_no_update(tmp_path, key, acme):
    acme.put(record(label="0"))
    children = [run_child(tmp_path, key, COUNTER_CHILD) for _ in range(2)]
    for child in children:
        assert child.stdout is not None and child.stdout.readline().strip() == "ready"
    for child in children:  # both start together
        assert child.stdin is not None
        child.stdin.write("go\n")
        child.stdin.flush()
    for child in children:
        out, err = child.communicate(timeout=120)
        assert child.returncode == 0, err
    final = acme.get("mailchimp", "main")
    assert final.label == "40"
    assert final.version == 41


@pytest.mark.parametrize("shared", [True, False], ids=["one store", "a store each"])
def test_two_threads_lose_no_update(tmp_path, key, shared):
    stores = (
        [ClientStore(tmp_path, "acme", key)] * 2 if shared else [ClientStore(tmp_path, "acme", key) for _ in range(2)]
    )
    stores[0].put(record(label="0"))
    barrier = threading.Barrier(2)
    failures: list[BaseException] = []

    def work(store: ClientStore) -> None:
        try:
            barrier.wait()
            for _ in range(20):
                with store.lock("counter"):
                    r = store.get("mailchimp", "main")
                    store.put(r.model_copy(update={"label": str(int(r.label) + 1)}))
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=work, args=(s,)) for s in stores]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    assert stores[0].get("mailchimp", "main").label == "40"


def test_lock_is_reentrant_in_a_thread_and_excludes_others(tmp_path, key):
    holder = ClientStore(tmp_path, "acme", key)
    waiter = ClientStore(tmp_path, "acme", key, lock_timeout=0.1)
    with holder.lock("refresh google/me"):
        with holder.lock("refresh google/me"):
            pass
        with pytest.raises(LockTimeout) as info:
            with waiter.lock("refresh google/me"):
                pass
        assert "refresh google/me" in info.value.message and "another marketing-mcp process" in info.value.hint.lower()
        with waiter.lock("refresh google/other"):  # another name, another lock
            pass
    with waiter.lock("refresh google/me"):
        pass


def test_lock_names_map_to_distinct_safe_files(tmp_path, key):
    store = ClientStore(tmp_path, "acme", key)
    paths = {store._lock_path(n) for n in ("refresh google/a", "refresh google_a", "../../x", "é")}
    assert len(paths) == 4
    assert all(p.parent == tmp_path / "vault" / "locks" and p.name.startswith("acme.") for p in paths)


async def test_alock_excludes_tasks_without_blocking_the_loop(tmp_path, key):
    store = ClientStore(tmp_path, "acme", key)
    store.put(record(label="0"))

    async def bump() -> None:
        for _ in range(10):
            async with store.alock("counter"):
                r = store.get("mailchimp", "main")
                await asyncio.sleep(0)  # let the other task run while we hold the lock
                store.put(r.model_copy(update={"label": str(int(r.label) + 1)}))

    await asyncio.gather(bump(), bump())
    assert store.get("mailchimp", "main").label == "20"

    # While another thread holds the lock, a task waiting for it does not stall the loop.
    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        with store.lock("counter"):
            held.set()
            release.wait()

    holder = threading.Thread(target=hold)
    holder.start()
    held.wait()
    waiting = asyncio.ensure_future(_enter(store, "counter"))
    for _ in range(5):
        await asyncio.sleep(0)  # the loop keeps turning
    assert not waiting.done()
    release.set()
    await waiting
    holder.join()


async def _enter(store: ClientStore, name: str) -> None:
    async with store.alock(name):
        pass


async def test_alock_timeout_and_cancellation_release(tmp_path, key):
    store = ClientStore(tmp_path, "acme", key, lock_timeout=0.1)
    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        with ClientStore(tmp_path, "acme", key).lock("x"):
            held.set()
            release.wait()

    holder = threading.Thread(target=hold)
    holder.start()
    held.wait()
    with pytest.raises(LockTimeout):
        await _enter(store, "x")

    patient = ClientStore(tmp_path, "acme", key)
    task = asyncio.ensure_future(_enter(patient, "x"))
    await asyncio.sleep(0)
    task.cancel()
    release.set()
    with pytest.raises(asyncio.CancelledError):
        await task
    holder.join()
    # If the cancelled wait got the lock after all, it was released: the lock is free now.
    await asyncio.to_thread(_enter_sync, ClientStore(tmp_path, "acme", key, lock_timeout=5), "x")


def _enter_sync(store: ClientStore, name: str) -> None:
    with store.lock(name):
        pass
