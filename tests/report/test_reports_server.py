"""The reports over HTTP (`wpflow serve`): a report link the Prefect UI shows opens in a browser
and returns the DOCX itself; the server stops within two seconds."""

from __future__ import annotations

import time

import httpx
import pytest

from wpflow.report.http_server import report_link, start_reports_server


@pytest.fixture
def report(settings):
    """A real Word file where the pipeline writes reports."""
    from docx import Document

    path = settings.reports_dir / "WP4-M3.docx"
    path.parent.mkdir(parents=True)
    doc = Document()
    doc.add_paragraph("WP4-M3 Public seed-funding schemes")
    doc.save(str(path))
    return path


def test_the_report_link_fetches_the_docx_bytes_over_http(settings, report):
    server = start_reports_server(settings.reports_root, 0)  # every project's reports, a folder each
    try:
        port = int(server.url.rsplit(":", 1)[1])
        link = report_link(settings.model_copy(update={"reports_port": port}), report)
        assert link == f"http://127.0.0.1:{port}/baltmet-inno/WP4-M3.docx"
        response = httpx.get(link, timeout=5)
        assert response.status_code == 200 and response.content == report.read_bytes()
        assert httpx.get(f"{server.url}/WP9-M9.docx", timeout=5).status_code == 404
    finally:
        started = time.monotonic()
        server.stop()
    assert not server.thread.is_alive() and time.monotonic() - started < 2.5
    with pytest.raises(httpx.ConnectError):
        httpx.get(link, timeout=2)


def test_links_follow_the_settings_and_fall_back_to_the_file(settings, report, tmp_path):
    assert (
        report_link(settings, report) == "http://127.0.0.1:4280/baltmet-inno/WP4-M3.docx"
    )  # what `wpflow serve` serves
    proxied = settings.model_copy(update={"reports_url": "https://wpflow.example.org/reports/"})
    assert report_link(proxied, report) == "https://wpflow.example.org/reports/baltmet-inno/WP4-M3.docx"
    assert report_link(settings.model_copy(update={"reports_url": ""}), report) == report.resolve().as_uri()
    elsewhere = tmp_path / "WP4-M3 final.docx"  # not in the served folder: only the file can be linked
    assert report_link(settings, elsewhere) == elsewhere.resolve().as_uri()


def test_a_busy_port_is_a_clear_error(settings):
    server = start_reports_server(settings.reports_root, 0)  # every project's reports, a folder each
    try:
        port = int(server.url.rsplit(":", 1)[1])
        with pytest.raises(RuntimeError, match=f"127.0.0.1:{port}.*WPFLOW_REPORTS_PORT"):
            start_reports_server(settings.reports_dir, port)
    finally:
        server.stop()
