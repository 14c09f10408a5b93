"""A command's Prefect API is handed to Prefect as settings, never written into the environment."""

from __future__ import annotations

import os
from pathlib import Path

from orchestration.ephemeral_api import PrefectApi, server_settings


def test_ready_points_prefect_at_the_api_started_here_for_the_block_only() -> None:
    from prefect.settings import get_current_settings

    environment = dict(os.environ)
    url = "http://127.0.0.1:9/api"
    defaults = {"PREFECT_SERVER_LOGGING_LEVEL": "CRITICAL", "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": 1234}
    with PrefectApi(defaults, url).ready():
        inside = get_current_settings()
        assert inside.api.url == url
        assert inside.server.ephemeral.startup_timeout_seconds == 1234  # a default nobody had set
    assert get_current_settings().api.url != url
    assert get_current_settings().server.ephemeral.startup_timeout_seconds != 1234
    assert dict(os.environ) == environment


def test_a_setting_a_person_made_wins_over_wpflows_default() -> None:
    from prefect.settings import get_current_settings, temporary_settings

    with temporary_settings(updates={"PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": 77}):
        with PrefectApi({"PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": 1234}).ready():
            assert get_current_settings().server.ephemeral.startup_timeout_seconds == 77


def test_the_servers_settings_keep_what_the_environment_says(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.delenv("PREFECT_HOME", raising=False)
    monkeypatch.setenv("PREFECT_SERVER_LOGGING_LEVEL", "DEBUG")
    settings = server_settings(tmp_path / "home")
    assert settings["PREFECT_HOME"] == str(tmp_path / "home")
    assert settings["PREFECT_SERVER_LOGGING_LEVEL"] == "DEBUG"
    assert settings["PREFECT_SERVER_SERVICES_TRIGGERS_ENABLED"] == "false"
