"""`auth set google --file KEY.json`: a key google-auth cannot use is refused then, with the field named, and
nothing is stored; a good key is stored whole."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import cast

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from credentials.google import BadServiceAccountKey, check_service_account_key, credentials_for
from credentials.records import ServiceAccountKey
from credentials.store import NotStored
from credentials.vault import Vault

from ..helpers import cli

# A service-account key is used as it is: credentials_for never asks the vault for it.
NO_VAULT = cast(Vault, None)
BROKEN_PEM = "-----BEGIN PRIVATE KEY-----\nMIIEvSERVICEaccountKEYthatISnotREALLYbase64DER\n-----END PRIVATE KEY-----\n"


@pytest.fixture(scope="module")
def pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def key_file(tmp_path: Path, name: str, **fields) -> Path:
    info = {
        "type": "service_account",
        "project_id": "northwind",
        "private_key_id": "abc123",
        "client_email": "reporting@northwind.iam.gserviceaccount.com",
        "client_id": "1234567890",
        "token_uri": "https://oauth2.googleapis.com/token",
        **fields,
    }
    path = tmp_path / name
    path.write_text(json.dumps({k: v for k, v in info.items() if v is not None}))
    return path


@pytest.fixture
def client(request, tmp_path) -> tuple[str, Path]:
    name = "sa" + str(abs(hash(request.node.nodeid)) % 10**9)
    config = tmp_path / "mcp.json"
    config.write_text(json.dumps({"clients": {name: {"servers": {}}}}))
    return name, config


def vault_files(name: str) -> dict[str, bytes]:
    home = Path(os.environ["MARKETING_MCP_HOME"])
    return {str(p): p.read_bytes() for p in home.rglob(f"{name}.vault*") if p.is_file()}


def test_a_key_whose_private_key_is_not_pem_is_refused_and_nothing_is_stored(client, tmp_path, pem):
    name, config = client
    code, out, err = cli(
        "auth",
        "set",
        "google",
        "--client",
        name,
        "--config",
        str(config),
        "--file",
        str(key_file(tmp_path, "bad.json", private_key=BROKEN_PEM)),
    )
    assert code != 0 and "private_key" in err and "PEM" in err and "Nothing was stored" in err
    assert "MIIEvSERVICE" not in err + out and "internal" not in err.lower()
    assert vault_files(name) == {}  # not even an empty vault

    good = key_file(tmp_path, "good.json", private_key=pem)
    assert cli("auth", "set", "google", "--client", name, "--config", str(config), "--file", str(good))[0] == 0
    before = vault_files(name)
    code, _, err = cli(
        "auth",
        "set",
        "google",
        "--client",
        name,
        "--config",
        str(config),
        "--file",
        str(key_file(tmp_path, "bad.json", private_key=BROKEN_PEM)),
    )
    assert code != 0 and "private_key" in err
    assert vault_files(name) == before  # the stored key is untouched
    rec = Vault.open(name).record("google")
    assert isinstance(rec.secret, ServiceAccountKey)
    assert json.loads(rec.secret.info.get_secret_value())["private_key"] == pem


@pytest.mark.parametrize(
    "fields, named",
    [
        ({"private_key": None}, "private_key"),
        ({"client_email": ""}, "client_email"),
        ({"token_uri": None}, "token_uri"),
        ({"type": "authorized_user"}, "service_account"),
        ({"private_key": "not a key at all"}, "private_key"),
    ],
)
def test_every_missing_or_broken_field_is_named(client, tmp_path, pem, fields, named):
    name, config = client
    fields = {"private_key": pem, **fields}
    code, _, err = cli(
        "auth",
        "set",
        "google",
        "--client",
        name,
        "--config",
        str(config),
        "--file",
        str(key_file(tmp_path, "k.json", **fields)),
    )
    assert code != 0 and named in err and "Nothing was stored" in err
    with pytest.raises(NotStored):
        Vault.open(name, create=True).store.get("google", "reporting@northwind.iam.gserviceaccount.com")


def test_a_good_key_passes_the_check_and_makes_sdk_credentials(tmp_path, pem):
    info = json.loads(key_file(tmp_path, "k.json", private_key=pem).read_text())
    assert check_service_account_key(info) == "reporting@northwind.iam.gserviceaccount.com"
    with pytest.raises(BadServiceAccountKey):
        check_service_account_key({**info, "private_key": BROKEN_PEM})
    from google.oauth2 import service_account
    from pydantic import SecretStr

    from credentials.records import Record

    rec = Record(
        client="c",
        provider="google",
        account=info["client_email"],
        secret=ServiceAccountKey(client_email=info["client_email"], info=SecretStr(json.dumps(info))),
    )
    creds = credentials_for(NO_VAULT, rec, ("https://www.googleapis.com/auth/analytics.readonly",))
    assert isinstance(creds, service_account.Credentials)
    assert creds.service_account_email == info["client_email"]


def test_a_broken_key_stored_before_the_check_is_an_auth_error_with_the_fix(tmp_path):
    from pydantic import SecretStr

    from adapters.errors import AuthError
    from credentials.records import Record

    info = json.loads(key_file(tmp_path, "k.json", private_key=BROKEN_PEM).read_text())
    rec = Record(
        client="acme",
        provider="google",
        account=info["client_email"],
        secret=ServiceAccountKey(client_email=info["client_email"], info=SecretStr(json.dumps(info))),
    )
    with pytest.raises(AuthError) as caught:
        credentials_for(NO_VAULT, rec, ())
    assert "auth set google --client acme --file" in caught.value.hint and "MIIEv" not in caught.value.message
