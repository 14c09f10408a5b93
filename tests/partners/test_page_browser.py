"""Riga's page in headless Chromium against a real `wpflow serve`: WP4-M3 missing, the file with
errors uploaded and refused on the page by row and column, the corrected file uploaded and
accepted — and the receipts (real SMTP) and the archive those of files dropped in the folder.

Chromium is Debian's (`scripts/install-browser.sh`), driven by Playwright from PyPI."""

from __future__ import annotations

from importlib.util import find_spec
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from schemas.settings import ROOT, Settings
from tests.orchestration.serving import serving_prefect_server, started_serve
from tests.settings_env import child_env
from tests.smtp import SmtpSink, running_smtp
from tests.uploads import put
from tests.waiting import wait_for

CHROMIUM = Path("/usr/bin/chromium")
SAMPLES = ROOT / "projects" / "baltmet-inno" / "inbox" / "riga" / "WP4-M3"
WITH_ERRORS, CORRECTED = SAMPLES / "seed_funding_riga_v1.csv", SAMPLES / "seed_funding_riga.csv"
SCREENSHOT = Path("/tmp/wpflow-partner-page.png")  # docs/images/partner-page.png is taken from it
RIGA = "baltmet-inno@riga.example.org"

pytestmark = [
    pytest.mark.system,
    pytest.mark.prefect_server,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"no Chromium at {CHROMIUM}: scripts/install-browser.sh"),
    pytest.mark.skipif(find_spec("playwright") is None, reason="Playwright is not installed: make install"),
]


@pytest.fixture(scope="module")
def prefect_server_url(tmp_path_factory, prefect_database):
    with serving_prefect_server(tmp_path_factory.mktemp("prefect-partner-home"), prefect_database) as api_url:
        yield api_url


def served_settings(tmp_path: Path, port: int, smtp_port: int) -> Settings:
    return Settings(
        _env_file=None,
        project=ROOT / "projects" / "baltmet-inno",
        outputs=tmp_path / "outputs",
        inbox=tmp_path / "inbox",
        stable_seconds=0.3,
        report_delay_seconds=3600,  # no pipeline during the test: the receipts are what it is about
        reports_port=_free_port(),
        partner_port=port,
        partner_secret=SecretStr("a test secret"),
        partner_requests_per_minute=600,
        mail_transport="smtp",
        smtp_port=smtp_port,
    )


def _free_port() -> int:
    from orchestration.serve import free_port

    return free_port()


def dropped_receipts(tmp_path: Path) -> list:
    """The receipts of the same two files dropped in Riga's folder and received without the page."""
    from tests.conftest import parse_eml
    from wpflow.inbox.receive import receive_file
    from wpflow.milestone.collect import InboxFile
    from wpflow.workspace import Workspace

    ws = Workspace(Settings(_env_file=None, outputs=tmp_path / "dropped", inbox=tmp_path / "dropped-inbox"))
    for sample in (WITH_ERRORS, CORRECTED):
        path = put(ws.settings.inbox_root, "riga", "WP4-M3", sample.name, sample.read_bytes())
        receive_file(ws, InboxFile("riga", "WP4-M3", path))
    return [parse_eml(p) for p in sorted(ws.settings.outbox_dir.glob("*.eml"), key=lambda p: p.stat().st_mtime_ns)]


def text_of(msg) -> str:
    return msg.get_body(("plain",)).get_content()


def test_riga_delivers_through_its_page_as_through_its_folder(prefect_server_url, tmp_path) -> None:
    from playwright.sync_api import sync_playwright

    from wpflow.partners.links import partner_links
    from wpflow.workspace import Workspace

    sink = SmtpSink(host="127.0.0.1", port=0)
    with running_smtp(sink) as smtp_port:
        settings = served_settings(tmp_path, _free_port(), smtp_port)
        link = partner_links(Workspace(settings))["riga"]  # `wpflow partners links`, before serve
        env = child_env(
            settings,
            PREFECT_API_URL=prefect_server_url,
            PREFECT_UI_API_URL=prefect_server_url,
            PREFECT_HOME=str(tmp_path / "home"),
            PREFECT_RUNNER_POLL_FREQUENCY="1",
        )
        log_path = tmp_path / "serve.log"
        with started_serve(["--project", str(settings.project), "--milestone", "WP4-M3"], env, log_path) as served:

            def serve_log() -> str:
                return log_path.read_text(errors="replace")[-4000:]

            wait_for(
                lambda: "inbox scan" in serve_log(), timeout=90, interval=0.5, what="the watcher", details=serve_log
            )
            wait_for(
                lambda: _status(link), until=lambda s: s == 200, timeout=30, what="the partner page", details=serve_log
            )

            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"]
                )
                try:
                    page = browser.new_page(viewport={"width": 430, "height": 932}, device_scale_factor=2)
                    page.goto(link)
                    section = page.locator("#WP4-M3")
                    assert "Public seed-funding schemes: missing" in section.inner_text()

                    def upload(sample: Path) -> None:
                        section.locator("input[type=file]").set_input_files(str(sample))
                        section.locator("button[type=submit]").click()
                        page.wait_for_load_state()

                    def shown(words: str) -> str:
                        def probe() -> str:
                            page.reload()
                            return page.locator("#WP4-M3").inner_text()

                        return wait_for(
                            probe, until=lambda t: words in t, timeout=60, interval=1, what=words, details=serve_log
                        )

                    upload(WITH_ERRORS)
                    assert "seed_funding_riga_v1.csv received" in page.content()
                    refused = shown("refused")
                    assert "seed_funding_riga_v1.csv, row 2, column C (level): 'city' must be one of" in refused
                    assert "row 2, column E (budget_eur): 'about 2 mio' is not a number" in refused

                    upload(CORRECTED)
                    accepted = shown("Public seed-funding schemes: received late")  # due in 2006
                    assert "seed_funding_riga.csv" in accepted and "accepted" in accepted
                    page.goto(link + "#WP4-M3")
                    page.screenshot(path=str(SCREENSHOT))
                finally:
                    browser.close()
            assert served.poll() is None, "serve exited early:\n" + serve_log()
        mails = wait_for(lambda: sink.messages, until=lambda m: len(m) >= 2, timeout=30, what="two receipts")

    # the receipts are those of the same files dropped in the folder: subjects and bodies
    dropped = dropped_receipts(tmp_path)
    assert [m["To"].addresses[0].addr_spec for m in mails] == [RIGA, RIGA]
    assert [str(m["Subject"]) for m in mails] == [str(m["Subject"]) for m in dropped]
    assert [text_of(m) for m in mails] == [text_of(m) for m in dropped]
    assert str(mails[0]["Subject"]).endswith("seed_funding_riga_v1.csv: 2 problems to fix")
    # and the archive and the store hold them as they hold dropped files
    ws = Workspace(settings)
    stored = ws.store.submissions(ws.project.name, milestone="WP4-M3", partner="riga")
    assert [(s.file_name, s.status.passed) for s in stored] == [(WITH_ERRORS.name, False), (CORRECTED.name, True)]
    for sample, sub in zip((WITH_ERRORS, CORRECTED), stored, strict=True):
        assert (settings.archive_dir / sub.sha256).read_bytes() == sample.read_bytes()
    assert sorted(p.name for p in (settings.inbox_root / "riga" / "WP4-M3").iterdir()) == sorted(
        [WITH_ERRORS.name, CORRECTED.name]
    )
    actions = [a.action for a in ws.store.partner_accesses(ws.project.name, "riga")]
    assert actions.count("upload") == 2 and "view" in actions
    assert SCREENSHOT.stat().st_size > 10_000


def _status(url: str) -> int | None:
    try:
        return httpx.get(url, timeout=5).status_code
    except httpx.HTTPError:
        return None
