"""`wpflow serve` with WPFLOW_IMAP_HOST set polls the intake mailbox beside its watcher, against
a real Prefect server: a reply from Malmö becomes a receipt (the watcher's own flow run), and
Ctrl-C stops the intake with everything else."""

from __future__ import annotations

import signal

import pytest

from orchestration.serve import free_port
from tests.intake.mails import partner_mail, sample
from tests.orchestration.serving import serving_prefect_server, started_serve
from tests.settings_env import child_env
from tests.waiting import wait_for


@pytest.fixture(scope="module")
def prefect_server_url(tmp_path_factory, prefect_database):
    with serving_prefect_server(tmp_path_factory.mktemp("prefect-server-home"), prefect_database) as api_url:
        yield api_url


@pytest.mark.system
@pytest.mark.prefect_server
def test_serve_takes_a_mailed_file_in_and_stops_on_ctrl_c(
    prefect_server_url, intake_settings, dovecot, smtp_server, tmp_path
):
    settings = intake_settings(stable_seconds=0.3, report_delay_seconds=3600, reports_port=free_port())
    env = child_env(
        settings,
        PREFECT_API_URL=prefect_server_url,
        PREFECT_UI_API_URL=prefect_server_url,
        PREFECT_HOME=str(tmp_path / "home"),
    )
    dovecot.append(partner_mail(files=[sample("malmo", "seed_funding_malmo.csv")]))
    log = tmp_path / "serve.log"

    with started_serve(["--milestone", "WP4-M3"], env, log) as served:
        receipts = wait_for(
            lambda: [m for m in smtp_server.messages if "receipt — seed_funding_malmo.csv" in m["Subject"]],
            what="Malmö's receipt from wpflow serve",
            timeout=120,
            details=lambda: log.read_text(errors="replace")[-3000:],
        )
        # Ctrl-C once serve is up (its signal handling starts with the runner)
        wait_for(lambda: "being served" in log.read_text(errors="replace"), what="serve's runner", timeout=60)
        served.send_signal(signal.SIGINT)
        served.wait(60)

    assert served.returncode == 0, log.read_text(errors="replace")[-3000:]
    assert receipts[0]["To"].addresses[0].addr_spec == "baltmet-inno@malmo.example.org"
    assert dovecot.messages("INBOX") == [] and len(dovecot.messages(settings.imap_processed_folder)) == 1
    text = log.read_text(errors="replace")
    assert "intake: <" in text and "processed (by subject) → malmo/WP4-M3/seed_funding_malmo.csv" in text
    assert "intake poller stopped" in text
