"""The servers wpflow starts answer only whom they should: a web page of another origin cannot
drive the Prefect API (nor a page whose domain name was rebound to 127.0.0.1), and the reports
server serves reports, not the staging folder, dot-files or folder listings.

The Prefect server is a real one started as `wpflow serve` starts it (`prefect_server`, with
`orchestration.prefect_app`'s factory); the UI's own requests are checked in a real browser by
tests/orchestration/test_ui_browser.py."""

from __future__ import annotations

import httpx
import pytest

from tests.orchestration.serving import serving_prefect_server

EVIL = "https://evil.example"


@pytest.fixture(scope="module")
def api_url(tmp_path_factory, prefect_database):
    with serving_prefect_server(tmp_path_factory.mktemp("prefect-guard-home"), prefect_database) as url:
        yield url


def flow_runs(api: str) -> int:
    return httpx.post(f"{api}/flow_runs/count", json={}, timeout=10).json()


@pytest.mark.prefect_server
def test_a_page_of_another_origin_cannot_create_or_delete_a_flow_run(api_url):
    flow = httpx.post(f"{api_url}/flows/", json={"name": "guarded"}, timeout=10)
    assert flow.status_code in (200, 201), flow.text
    run = {"flow_id": flow.json()["id"], "name": "from-a-page", "state": {"type": "SCHEDULED"}}
    before = flow_runs(api_url)

    refused = httpx.post(f"{api_url}/flow_runs/", json=run, headers={"Origin": EVIL}, timeout=10)
    assert refused.status_code == 403 and "evil.example" in refused.text
    assert flow_runs(api_url) == before, "no flow run was created"
    preflight = httpx.options(
        f"{api_url}/flow_runs/",
        headers={
            "Origin": EVIL,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
        timeout=10,
    )
    assert preflight.status_code == 403 and "access-control-allow-origin" not in preflight.headers

    own = api_url.removesuffix("/api")  # the UI's own requests carry the server's origin
    created = httpx.post(f"{api_url}/flow_runs/", json=run, headers={"Origin": own}, timeout=10)
    assert created.status_code == 201, created.text
    assert flow_runs(api_url) == before + 1
    run_url = f"{api_url}/flow_runs/{created.json()['id']}"
    assert httpx.delete(run_url, headers={"Origin": EVIL}, timeout=10).status_code == 403
    assert httpx.get(run_url, timeout=10).json()["name"] == "from-a-page", "still there"
    assert httpx.delete(run_url, headers={"Origin": "null"}, timeout=10).status_code == 403
    assert httpx.delete(run_url, timeout=10).status_code == 204, "Prefect's client sends no Origin"


@pytest.mark.prefect_server
def test_a_request_naming_another_host_is_refused(api_url):
    port = httpx.URL(api_url).port
    rebound = httpx.get(f"{api_url}/health", headers={"Host": f"evil.example:{port}"}, timeout=10)
    assert rebound.status_code == 403 and "evil.example" in rebound.text
    assert (
        httpx.post(f"{api_url}/flow_runs/count", json={}, headers={"Host": "evil.example"}, timeout=10).status_code
        == 403
    )
    for name in (f"localhost:{port}", f"127.0.0.1:{port}"):
        assert httpx.get(f"{api_url}/health", headers={"Host": name}, timeout=10).status_code == 200
    page = httpx.get(api_url.removesuffix("/api") + "/", timeout=10)
    assert page.status_code == 200 and "<html" in page.text.lower(), "the UI itself is served"


# -- the reports server --------------------------------------------------------------------
@pytest.fixture
def reports(settings):
    from wpflow.report.http_server import served_hosts, start_reports_server

    folder = settings.reports_dir
    for name in ("WP4-M3.docx", "history/WP4-M3.v1.docx", "drafts/WP5-M1.docx", ".rendering/WP4-M3.x/WP4-M3.v2.docx"):
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(f"bytes of {name}".encode())
    (folder / ".hidden").write_text("secret")
    (settings.reports_root / ".env").write_text("WPFLOW_SMTP_PASSWORD=secret")
    (folder / "notes.txt").write_text("not a report")
    proxied = settings.model_copy(
        update={"reports_url": "https://wpflow.example.org/reports", "server_hosts": "ui.lan"}
    )
    server = start_reports_server(settings.reports_root, 0, hosts=served_hosts(proxied))
    try:
        yield server.url
    finally:
        server.stop()


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/baltmet-inno/WP4-M3.docx", 200),
        ("/baltmet-inno/history/WP4-M3.v1.docx", 200),  # the UI links each run to the version it issued
        ("/baltmet-inno/drafts/WP5-M1.docx", 200),
        ("/baltmet-inno/.rendering/WP4-M3.x/WP4-M3.v2.docx", 404),
        ("/baltmet-inno/.rendering/", 404),
        ("/baltmet-inno/.hidden", 404),
        ("/.env", 404),
        ("/.hidden", 404),
        ("/baltmet-inno/notes.txt", 404),
        ("/baltmet-inno/", 404),
        ("/baltmet-inno/history/", 404),
        ("/", 404),
    ],
)
def test_the_reports_server_serves_reports_only(reports, path, status):
    answer = httpx.get(reports + path, timeout=5)
    assert answer.status_code == status
    if status == 200:
        assert answer.content == f"bytes of {path.removeprefix('/baltmet-inno/')}".encode()


@pytest.mark.parametrize(
    ("host", "status"),
    [("evil.example", 403), ("wpflow.example.org", 200), ("ui.lan:4280", 200), ("localhost", 200)],
)
def test_the_reports_server_answers_its_own_host_names_only(reports, host, status):
    assert httpx.get(f"{reports}/baltmet-inno/WP4-M3.docx", headers={"Host": host}, timeout=5).status_code == status
