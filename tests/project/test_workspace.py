"""The context of a run is a value: (project folder, the process's settings) make one workspace,
another project or other settings — down to the SMTP password — make another."""

from __future__ import annotations

from email.message import EmailMessage
from pathlib import Path

import pytest
from pydantic import SecretStr

from schemas.settings import Settings
from tests.conftest import BUNDLED_PROJECT, SmtpSink, running_smtp


def test_two_projects_in_one_process_are_two_workspaces_with_their_own_folders(settings, other_project):
    from wpflow.workspace import workspace

    bundled = workspace(BUNDLED_PROJECT, settings=settings)
    other = workspace(str(other_project), settings=settings)
    assert bundled is not other
    assert (bundled.project.name, other.project.name) == ("BaltMet Inno", "Other Inno")
    assert bundled.settings.inbox_root == BUNDLED_PROJECT / "inbox"
    assert other.settings.inbox_root == other_project / "inbox"
    assert other.project_ref == str(other_project)  # outside the checkout: the absolute folder
    # one outputs folder and store for both, a reports and an outbox folder each
    assert other.settings.outputs == bundled.settings.outputs == settings.outputs
    assert other.settings.db_url == bundled.settings.db_url
    assert (bundled.settings.reports_dir, other.settings.reports_dir) == (
        settings.outputs / "reports" / "baltmet-inno",
        settings.outputs / "reports" / "other-inno",
    )


@pytest.mark.parametrize(
    "spelling",
    ["projects/baltmet-inno", str(BUNDLED_PROJECT), BUNDLED_PROJECT / "inbox" / "..", None],
    ids=["relative-to-the-checkout", "absolute", "unresolved", "the-settings-own"],
)
def test_every_spelling_of_a_project_is_one_workspace(settings, spelling):
    """A deployment's `projects/baltmet-inno`, the CLI's absolute folder and WPFLOW_PROJECT's
    default share one store engine and one mailer."""
    from wpflow.workspace import workspace

    ws = workspace(spelling, settings=settings)
    assert ws is workspace(BUNDLED_PROJECT, settings=settings)
    assert ws.project_ref == "projects/baltmet-inno"  # what prefect.yaml holds: no machine's path


def test_other_settings_for_the_same_project_are_another_workspace(settings, tmp_path):
    from wpflow.workspace import workspace

    first = workspace(settings=settings)
    second = workspace(settings=settings.model_copy(update={"outputs": tmp_path / "elsewhere"}))
    assert first is not second
    assert (first.settings.db_url, second.settings.db_url) == (
        f"sqlite:///{settings.outputs / 'wpflow.db'}",
        f"sqlite:///{tmp_path / 'elsewhere' / 'wpflow.db'}",
    )


def test_a_workspace_without_values_is_the_process_settings(configure, tmp_path):
    """What a task with the default project gets: this process's WPFLOW_* settings."""
    from wpflow.workspace import configured_project, workspace

    configure()
    assert workspace().settings.outputs == tmp_path / "outputs"
    assert workspace() is workspace(configured_project())
    assert configured_project() == "projects/baltmet-inno"


# -- the SMTP password is part of the key ---------------------------------------------------------
def smtp_settings(settings: Settings, port: int, password: str) -> Settings:
    return settings.model_copy(
        update={
            "mail_transport": "smtp",
            "smtp_port": port,
            "smtp_user": "secretariat",
            "smtp_password": SecretStr(password),
            "smtp_timeout": 5.0,
        }
    )


def test_settings_differing_only_in_the_smtp_password_get_two_mailers(settings):
    """The right password logs in and sends; the wrong one is refused by the server — not
    handed the other workspace's logged-in mailer. The key is a digest: no password in it."""
    from aiosmtpd.smtp import AuthResult, LoginPassword

    from wpflow.mail.transports import MailConfigError
    from wpflow.workspace import settings_key, workspace

    def only_the_right_password(server, session, envelope, mechanism, auth_data) -> AuthResult:
        ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
            b"secretariat",
            b"right-password",
        )
        return AuthResult(success=ok, handled=False)  # False: the server answers 535 itself

    sink = SmtpSink(host="127.0.0.1", port=0)
    with running_smtp(sink, authenticator=only_the_right_password, auth_require_tls=False) as port:
        right = workspace(settings=smtp_settings(settings, port, "right-password"))
        wrong = workspace(settings=smtp_settings(settings, port, "wrong-password"))
        assert right is not wrong and right.mailer is not wrong.mailer
        right.mailer.send(message("with the right password"))
        with pytest.raises(MailConfigError):
            wrong.mailer.send(message("with the wrong password"))
    assert [m["Subject"] for m in sink.messages] == ["with the right password"]
    keys = {settings_key(right.settings), settings_key(wrong.settings)}
    assert len(keys) == 2 and not any("password" in key for key in keys)


def message(subject: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "secretariat@example.org", "partner@example.org", subject
    msg["Message-ID"] = f"<{subject.replace(' ', '-')}@example.org>"
    msg.set_content("A test.")
    return msg


ENVIRON_WRITES = ("environ[", "environ.update", "environ.setdefault", "putenv")


def test_no_module_passes_wpflow_settings_through_the_environment():
    """The project travels as a value; the only os.environ writes left configure Prefect."""
    root = Path(__file__).resolve().parents[1]
    for folder in ("wpflow", "flows", "tasks", "schemas"):
        for path in (root / folder).rglob("*.py"):
            lines = path.read_text(encoding="utf-8").splitlines()
            writes = [line for line in lines if "WPFLOW_" in line and any(w in line for w in ENVIRON_WRITES)]
            assert not writes, path
