"""The Prefect UI tells the same story as the e-mails, checked in headless Chromium against a real
`wpflow serve`: a milestone where nothing arrived is not shown Completed (nor Failed), and an
upload whose receipt the mail server first put off is shown Completed once its retry went out.

Chromium is Debian's (`scripts/install-browser.sh`, which `.ci/run` calls), driven by Playwright
from PyPI: Playwright's own browser download is not reachable from the CI machines."""

from __future__ import annotations

import os
import signal
import time
from importlib.util import find_spec
from pathlib import Path

import pytest

from schemas.settings import ROOT
from tests.orchestration.serving import serving_prefect_server, started_serve
from tests.smtp import SmtpSink, running_smtp
from tests.uploads import put, seed_csv
from tests.waiting import wait_for

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOT = Path("/tmp/wpflow-ui-flow-runs.png")
RIGA_RUN = "baltmet-inno · 1 upload · riga · WP4-M3"

pytestmark = [
    pytest.mark.system,
    pytest.mark.prefect_server,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"no Chromium at {CHROMIUM}: scripts/install-browser.sh"),
    pytest.mark.skipif(find_spec("playwright") is None, reason="Playwright is not installed: make install"),
]


class PutOffOnce(SmtpSink):
    """A mail server that answers the first message "451 try again later", then takes them all."""

    def __init__(self) -> None:
        super().__init__(host="127.0.0.1", port=0)
        self.put_off = 0

    async def handle_DATA(self, server, session, envelope):
        if not self.put_off:
            self.put_off += 1
            return "451 4.3.0 try again later"
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture(scope="module")
def prefect_server_url(tmp_path_factory, prefect_database):
    with serving_prefect_server(tmp_path_factory.mktemp("prefect-ui-home"), prefect_database) as api_url:
        yield api_url


def flow_runs_page(ui: str, names: list[str]) -> dict[str, dict[str, str]]:
    """The UI's flow-runs page in headless Chromium: per run named in `names`, its state badge's
    text and CSS class as shown (after the page's data loaded); a screenshot in SCREENSHOT."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.goto(f"{ui}/runs", wait_until="networkidle")
            shown: dict[str, dict[str, str]] = {}
            for name in names:
                row = page.locator(".flow-run-list-item", has_text=name).first
                row.wait_for(timeout=30_000)
                badge = row.locator(".state-badge").first
                shown[name] = {"text": badge.inner_text().strip(), "class": badge.get_attribute("class") or ""}
            page.screenshot(path=str(SCREENSHOT), full_page=True)
            return shown
        finally:
            browser.close()


def test_the_ui_shows_an_incomplete_milestone_grey_and_a_retried_receipt_completed(prefect_server_url, tmp_path):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowFilter, FlowFilterName
    from prefect.deployments import run_deployment
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from orchestration.serve import free_port

    started = time.monotonic()
    api, inbox, outputs = prefect_server_url, tmp_path / "inbox", tmp_path / "outputs"
    inbox.mkdir()
    sink = PutOffOnce()
    with running_smtp(sink) as smtp_port:
        env = {
            **os.environ,
            "PREFECT_API_URL": api,
            "PREFECT_UI_API_URL": api,
            "PREFECT_HOME": str(tmp_path / "home"),
            "PREFECT_RUNNER_POLL_FREQUENCY": "1",
            "WPFLOW_OUTPUTS": str(outputs),
            "WPFLOW_PROJECT": str(ROOT / "projects" / "baltmet-inno"),
            "WPFLOW_INBOX": str(inbox),
            "WPFLOW_STABLE_SECONDS": "0.3",
            "WPFLOW_REPORT_DELAY_SECONDS": "3600",  # no pipeline of the watcher's during the test
            "WPFLOW_REPORTS_PORT": str(free_port()),
            "WPFLOW_MAIL_TRANSPORT": "smtp",
            "WPFLOW_SMTP_PORT": str(smtp_port),
        }
        with (
            started_serve(
                ["--project", env["WPFLOW_PROJECT"], "--milestone", "WP3-M2"], env, tmp_path / "serve.log"
            ) as served,
            temporary_settings({PREFECT_API_URL: api}),
            get_client(sync_client=True) as client,
        ):

            def receiving_runs() -> list:
                return client.read_flow_runs(flow_filter=FlowFilter(name=FlowFilterName(any_=["receive-uploads"])))

            def serve_log() -> str:
                return (tmp_path / "serve.log").read_text(errors="replace")[-4000:]

            wait_for(
                lambda: "inbox scan" in serve_log(), timeout=90, interval=0.5, what="the watcher", details=serve_log
            )
            # Riga's file: its receipt is put off once, the task's retry sends it, the run is Completed
            put(inbox, "riga", "WP4-M3", "seed_funding_riga.csv", seed_csv("Riga seed fund"))
            [riga] = wait_for(
                lambda: [r for r in receiving_runs() if r.name == RIGA_RUN and r.state and r.state.is_final()],
                timeout=60,
                interval=0.5,
                what="Riga's receive-uploads run to end",
                details=serve_log,
            )
            assert riga.state.is_completed(), riga.state
            assert sink.put_off == 1 and len(sink.messages) == 1  # the first attempt failed, the retry sent it

            # WP3-M2: nothing arrived; the coordinator and the lead are told, the run is "Incomplete"
            run = run_deployment(
                "milestone-pipeline/baltmet-inno-wp3-m2",
                parameters={"milestone_id": "WP3-M2"},
                timeout=120,
                poll_interval=1,
            )
            incomplete = wait_for(
                lambda: client.read_flow_run(run.id),
                until=lambda r: r.state is not None and r.state.name == "Incomplete",
                timeout=30,
                interval=0.5,
                what="WP3-M2's Incomplete state",
            )
            assert incomplete.state.is_cancelled() and "nothing usable arrived" in (incomplete.state.message or "")

            shown = flow_runs_page(api.removesuffix("/api"), [incomplete.name, RIGA_RUN])
            assert served.poll() is None, "serve exited early:\n" + serve_log()
            served.send_signal(signal.SIGINT)
            served.wait(30)
    # the badge's words and colour (Prefect's UI colours a state by its type: state--<type>)
    assert shown[incomplete.name]["text"] == "Incomplete", shown
    assert "state--cancelled" in shown[incomplete.name]["class"], shown
    assert not {"state--completed", "state--failed", "state--crashed"} & set(shown[incomplete.name]["class"].split())
    assert shown[RIGA_RUN]["text"] == "Completed" and "state--completed" in shown[RIGA_RUN]["class"], shown
    assert SCREENSHOT.stat().st_size > 10_000
    assert time.monotonic() - started < 240
