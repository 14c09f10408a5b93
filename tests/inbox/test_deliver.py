"""Delivering a file into the watched folder (the partner page's upload, the e-mail intake):
the file lands under its escaped name in the partner's milestone folder, whole or not at all."""

from __future__ import annotations

import io

import pytest

from schemas.settings import Settings
from wpflow.inbox.deliver import DeliveryRefused, deliver_file, safe_file_name
from wpflow.milestone.collect import list_inbox


@pytest.fixture
def settings(settings: Settings, tmp_path) -> Settings:
    """The harness's settings with an inbox of the test's own."""
    return settings.model_copy(update={"inbox": tmp_path / "inbox"})


def test_a_delivered_file_is_a_file_in_the_folder(settings) -> None:
    path = deliver_file(settings, "riga", "WP4-M3", "seed.csv", b"a;b\n1;2\n")
    assert path == settings.inbox_root / "riga" / "WP4-M3" / "seed.csv"
    assert path.read_bytes() == b"a;b\n1;2\n"
    assert [f.path.name for f in list_inbox(settings.inbox_root, ["riga"], "WP4-M3")] == ["seed.csv"]
    assert sorted(p.name for p in path.parent.iterdir()) == ["seed.csv"]  # no part file left


def test_a_second_file_of_one_name_replaces_the_first_as_in_the_folder(settings) -> None:
    first = deliver_file(settings, "riga", "WP4-M3", "seed.csv", io.BytesIO(b"one\n"))
    second = deliver_file(settings, "riga", "WP4-M3", "seed.csv", [b"tw", b"o\n"])
    assert second == first and first.read_bytes() == b"two\n"
    assert [p.name for p in first.parent.iterdir()] == ["seed.csv"]


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("../../etc/passwd.csv", "passwd.csv"),
        ("..\\..\\x.xlsx", "x.xlsx"),
        ("evil\nline.csv", "evilline.csv"),
        (".hidden.csv", "hidden.csv"),
        ("Tallinn – seed  ü.xlsx", "Tallinn – seed ü.xlsx"),
        ("a\u202egpj.csv", "agpj.csv"),
        ("~$seed.xlsx", "renamed seed.xlsx"),  # a lock file's name: the watcher would never read it
        ("seed.tmp", "renamed seed.tmp.txt"),
        ("arrivals.yaml", "renamed arrivals.yaml"),
        ("..", "attachment"),
        ("/", "attachment"),
    ],
)
def test_names_are_escaped_into_the_folder(settings, given: str, kept: str) -> None:
    assert safe_file_name(given) == kept
    path = deliver_file(settings, "riga", "WP4-M3", given, b"x\n")
    assert path.parent == settings.inbox_root / "riga" / "WP4-M3"
    assert [f.path.name for f in list_inbox(settings.inbox_root, ["riga"], "WP4-M3")] == [kept]  # the watcher reads it


@pytest.mark.parametrize(("partner", "milestone"), [("..", "WP4-M3"), ("riga", "../x"), ("a/b", "WP4-M3")])
def test_ids_that_are_not_folder_names_are_refused(settings, partner: str, milestone: str) -> None:
    with pytest.raises(DeliveryRefused, match=r"is not a .* folder name"):
        deliver_file(settings, partner, milestone, "seed.csv", b"x\n")


def test_an_oversize_file_stops_at_the_limit_and_leaves_nothing(settings) -> None:
    small = settings.model_copy(update={"max_file_mb": 0.001})  # 1048 bytes
    read: list[int] = []

    def blocks():
        for n in range(1000):
            read.append(n)
            yield b"x" * 500

    with pytest.raises(DeliveryRefused, match=r"larger than the limit of 0\.001 MB"):
        deliver_file(small, "riga", "WP4-M3", "big.csv", blocks())
    assert len(read) == 3  # stopped at the block past the limit, the rest never read
    assert list((settings.inbox_root / "riga" / "WP4-M3").iterdir()) == []
