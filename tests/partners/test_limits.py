"""The upload's size limit before and while the body is read, and the rate limit per link."""

from __future__ import annotations

import socket
from urllib.parse import urlsplit

import pytest

from wpflow.partners.limits import RateLimit
from wpflow.partners.links import partner_links


@pytest.fixture
def small(partner_settings):
    """Files of at most about 10 KB; three requests a minute per link."""
    return partner_settings.model_copy(update={"max_file_mb": 0.01, "partner_requests_per_minute": 3})


@pytest.fixture
def ws(small):
    from wpflow.workspace import Workspace

    return Workspace(small)


def riga_path(ws) -> str:
    return urlsplit(partner_links(ws)["riga"]).path


def test_an_oversize_upload_is_refused_before_its_body_is_read(ws, server) -> None:
    """Headers announcing 100 MB and not one byte of body: the answer comes at once."""
    host, port = urlsplit(server.url).hostname, urlsplit(server.url).port
    head = (
        f"POST {riga_path(ws)}/WP4-M3/upload HTTP/1.1\r\nHost: {host}\r\n"
        "Content-Type: multipart/form-data; boundary=x\r\nContent-Length: 100000000\r\n\r\n"
    )
    with socket.create_connection((host, port), timeout=20) as sock:
        sock.sendall(head.encode())
        answer = b""
        while b"</html>" not in answer:
            block = sock.recv(65536)
            if not block:
                break
            answer += block
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert b"larger than the limit of 0.01 MB" in answer
    assert not (ws.settings.inbox_root / "riga" / "WP4-M3").exists()
    [refusal] = [a for a in ws.store.partner_accesses(ws.project.name, "riga") if a.action == "refused"]
    assert refusal.detail == "WP4-M3: an upload of 100000000 bytes, over the limit"


def test_a_body_without_its_length_is_counted_and_stopped_at_the_limit(ws, client) -> None:
    boundary = "b0undary"
    sent: list[int] = []

    def body():
        yield f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="big.csv"\r\n\r\n'.encode()
        for n in range(1000):
            sent.append(n)
            yield b"x" * 1000
        yield f"\r\n--{boundary}--\r\n".encode()

    answer = client.post(
        f"{riga_path(ws)}/WP4-M3/upload",
        content=body(),
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    assert answer.status_code == 413 and "larger than the limit" in answer.text
    assert not (ws.settings.inbox_root / "riga" / "WP4-M3").exists() or not any(
        (ws.settings.inbox_root / "riga" / "WP4-M3").iterdir()
    )


def test_a_file_over_the_limit_is_refused_and_the_others_taken(ws, client) -> None:
    answer = client.post(
        f"{riga_path(ws)}/WP4-M3/upload",
        files=[("files", ("big.csv", b"x" * 20_000)), ("files", ("ok.csv", b"a;b\n"))],
    )
    assert answer.status_code == 303  # the body is within the form's slack: each file is counted
    assert [p.name for p in (ws.settings.inbox_root / "riga" / "WP4-M3").iterdir()] == ["ok.csv"]
    page = client.get(riga_path(ws)).text
    assert "Not taken: big.csv is larger than the limit of 0.01 MB." in page and "ok.csv received" in page


def test_each_key_has_its_bucket() -> None:
    limit = RateLimit(3, clock=lambda: 0.0)
    assert [limit.allow("a") for _ in range(4)] == [True, True, True, False]
    assert limit.allow("b")
    later = RateLimit(60, clock=iter([0.0] * 61 + [1.0]).__next__)
    assert all(later.allow("a") for _ in range(60)) and not later.allow("a") and later.allow("a")


def test_too_many_requests_on_one_link_answer_429(ws, client) -> None:
    path = riga_path(ws)
    answers = [client.get(path) for _ in range(6)]  # a refill of one takes 20 s
    assert [a.status_code for a in answers] == [200, 200, 200, 429, 429, 429]
    assert "Too many requests" in answers[-1].text
