"""mcp.json: validation messages, lookup order, and servers that refuse to start."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from suite.config import CONFIG_ENV, ConfigError, find_config, load_config, parse_config
from suite.wiring import create_server

ROOT = Path(__file__).resolve().parents[2]


def test_the_checked_in_mcp_json_is_valid_and_has_a_demo_client():
    config = load_config(ROOT / "mcp.json")
    assert config.client("demo").enabled() == [
        "wordpress",
        "webflow",
        "ga4",
        "search-console",
        "page-analysis",
        "mailchimp",
        "customerio",
    ]
    assert config.client("demo").sandbox is not None  # signs in at the sandbox's OAuth servers
    assert not config.mcpServers  # absolute, machine-specific paths: `marketing-mcp hosts export` writes them
    assert "acme" in config.clients  # the documented real-client example


def test_errors_name_the_file_the_json_path_and_what_was_expected(tmp_path):
    path = tmp_path / "mcp.json"
    path.write_text(
        json.dumps(
            {
                "clients": {
                    "acme": {
                        "servers": {
                            "wordpress": {
                                "settings": {"site_url": "not a url"},
                                "credentials": {"source": "env", "env": "X"},
                                "rate_limits": {"default": "fast"},
                            },
                            "wix": {},
                        }
                    }
                }
            }
        )
    )
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    message = str(caught.value)
    assert str(path) in message
    assert "$.clients.acme.servers.wordpress.settings.site_url: input should be a valid URL" in message
    assert "$.clients.acme.servers.wordpress.credentials.source: credentials now live in the vault" in message
    assert "$.clients.acme.servers.wordpress.rate_limits.default: expected a positive rate like '60/min'" in message
    assert "$.clients.acme.servers.wix: unknown server" in message


def test_broken_json_names_line_and_column(tmp_path):
    path = tmp_path / "mcp.json"
    path.write_text('{"clients": {,}}')
    with pytest.raises(ConfigError, match=r"not valid JSON at line 1, column 14"):
        load_config(path)


def test_lookup_order_is_flag_then_environment_then_working_directory(tmp_path, monkeypatch):
    flag, env, cwd = (tmp_path / n for n in ("flag.json", "env.json", "mcp.json"))
    for p in (flag, env, cwd):
        p.write_text("{}")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(CONFIG_ENV, str(env))
    assert find_config(flag) == flag
    assert find_config() == env
    monkeypatch.delenv(CONFIG_ENV)
    assert find_config() == cwd
    with pytest.raises(ConfigError, match="does not exist"):
        find_config(tmp_path / "missing.json")


def test_a_server_refuses_to_start_for_an_unknown_client_or_one_that_does_not_enable_it():
    config = parse_config(
        {
            "clients": {
                "solo": {"servers": {"wordpress": {"settings": {"site_url": "http://127.0.0.1:9", "username": "u"}}}}
            }
        }
    )
    with pytest.raises(ConfigError, match="no client 'nobody'"):
        create_server(config, "nobody", "wordpress")
    with pytest.raises(ConfigError, match="does not enable the webflow server.*It enables: wordpress"):
        create_server(config, "solo", "webflow")


def test_rate_limits_for_tools_that_do_not_exist_are_refused():
    config = parse_config(
        {
            "clients": {
                "solo": {
                    "servers": {
                        "wordpress": {
                            "settings": {"site_url": "http://127.0.0.1:9", "username": "u"},
                            "rate_limits": {"tools": {"publsh": "1/min"}},
                        }
                    }
                }
            }
        }
    )
    with pytest.raises(ConfigError, match="unknown tools publsh"):
        create_server(config, "solo", "wordpress")


def test_the_command_line_refuses_with_a_message_and_exit_code_2(tmp_path):
    run = subprocess.run(
        [sys.executable, "-m", "suite", "serve", "webflow", "--client", "nobody", "--config", str(ROOT / "mcp.json")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 2
    assert "no client 'nobody'" in run.stderr and run.stdout == ""


def test_oauth_apps_must_name_a_provider_with_a_sign_in_flow():
    with pytest.raises(ConfigError, match=r"\$.oauth_apps: .*unknown OAuth provider wordpress"):
        parse_config({"oauth_apps": {"wordpress": {"client_id": "x"}}})
    config = parse_config(
        {
            "oauth_apps": {
                "google": {"client_id": "abc.apps.googleusercontent.com", "token_url": "http://127.0.0.1:9/token"}
            }
        }
    )
    from credentials.providers import PROVIDERS

    google = config.oauth_apps["google"].apply(PROVIDERS["google"])
    assert google.endpoints is not None and PROVIDERS["google"].endpoints is not None  # Google signs in by OAuth
    assert google.endpoints.token == "http://127.0.0.1:9/token"
    assert google.endpoints.authorize == PROVIDERS["google"].endpoints.authorize
