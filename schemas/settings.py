"""The one settings class: every knob is a `WPFLOW_*` environment variable (or `.env`)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# The checkout, or the site-packages folder once installed: templates/ and projects/ ship as
# package data beside schemas/ (pyproject.toml), so ROOT finds them either way.
ROOT = Path(__file__).resolve().parents[1]
# Outputs go beside the code in a checkout (`make demo`), to the working folder once installed:
# never into site-packages.
DEFAULT_OUTPUTS = ROOT / "outputs" if (ROOT / "pyproject.toml").is_file() else Path("outputs")


class Settings(BaseSettings):
    """wpflow settings. Defaults run everything embedded: SQLite, outbox folder, ephemeral Prefect."""

    model_config = SettingsConfigDict(env_prefix="WPFLOW_", env_file=".env", extra="forbid")

    project: Path = Field(
        ROOT / "projects" / "baltmet-inno",
        description="Project folder holding project.yaml: the project of a command or run that names none",
    )
    projects: Path | None = Field(
        None,
        description="Folder of projects (each subfolder with a project.yaml is one) that `wpflow serve`, "
        "the daily ladder and --all-projects cover; default the checkout's projects/, or only "
        "WPFLOW_PROJECT when that alone is set",
    )
    inbox: Path | None = Field(
        None,
        description="Root of the partners' watched folders of WPFLOW_PROJECT only (other projects keep "
        "their own); default <project>/inbox",
    )
    inboxes: Path | None = Field(
        None,
        description="A folder holding every project's inbox as <inboxes>/<project-slug>/ (a shared drive); "
        "default each project's own <project>/inbox",
    )
    outputs: Path = Field(
        DEFAULT_OUTPUTS,
        description="Where archive, reports, outbox, receipts go; default outputs/ in the checkout, "
        "or in the working folder when wpflow is installed",
    )
    templates: Path = Field(ROOT / "templates", description="Report, e-mail and Excel templates")
    database_url: str | None = Field(None, description="SQLAlchemy URL; default a SQLite file under outputs/")
    prefect_database_url: str | None = Field(
        None,
        description="Database of the Prefect server `wpflow serve --workers N` starts (postgresql+asyncpg://…); "
        "default: beside a PostgreSQL store, database <store's>_prefect; Prefect's SQLite file otherwise",
    )
    mail_transport: Literal["outbox", "smtp"] = Field("outbox", description="Where e-mails go")
    smtp_host: str = Field("127.0.0.1", description="SMTP server host")
    smtp_port: int = Field(25, description="SMTP server port")
    smtp_security: Literal["none", "starttls", "ssl"] = Field("none", description="TLS mode")
    smtp_user: str | None = Field(None, description="SMTP user name")
    smtp_password: SecretStr | None = Field(None, description="SMTP password")
    smtp_timeout: float = Field(10.0, description="SMTP connect/command timeout in seconds")
    max_file_mb: float = Field(50.0, description="Largest partner file accepted, in MB")
    max_unpacked_mb: float = Field(
        100.0,
        gt=0,
        description="Most a partner's XLSX, XLSM, DOCX or ODS file may unpack to, in MB, all its parts together",
    )
    max_rows: int = Field(
        10_000,
        ge=1,
        description="Most data rows a partner file's sheet, CSV, JSON list or Word table may have under its header",
    )
    stable_seconds: float = Field(1.0, description="A file must be unchanged this long before it is read")
    report_delay_seconds: float = Field(
        60.0,
        ge=0,
        description="Quiet time after a milestone's last upload before the watcher starts its "
        "pipeline: a burst of files gives one report version, not one per file",
    )
    receipt_retry_seconds: float = Field(
        2.0,
        gt=0,
        description="The watcher retries a failed receipt (SMTP down, the Prefect API busy) after this "
        "many seconds, doubling per failed attempt up to receipt_retry_max_seconds; the queue is kept in the store",
    )
    receipt_retry_max_seconds: float = Field(
        60.0, gt=0, description="Longest wait between two attempts at a failed receipt"
    )
    rescan_seconds: float = Field(
        300.0,
        gt=0,
        description="The watcher rescans the whole inbox this often for files it has not received "
        "(an event lost by inotify, a file copied in while it was busy), besides watching it",
    )
    serve_port: int = Field(
        4200, ge=1, le=65535, description="Port of the Prefect server (and its UI) that `wpflow serve` starts"
    )
    reports_port: int = Field(
        4280,
        ge=1,
        le=65535,
        description="Loopback port on which `wpflow serve` serves outputs/reports/ for the Prefect UI's report links",
    )
    reports_url: str | None = Field(
        None,
        description="Base URL of outputs/reports/ as browsers reach it (e.g. behind a reverse proxy), for the "
        "report links in the Prefect UI; default http://127.0.0.1:<reports_port>, empty for file:// links",
    )
    partner_port: int = Field(
        4290, ge=1, le=65535, description="Port on which `wpflow serve` serves the partners' pages (docs/partners.md)"
    )
    partner_host: str = Field(
        "127.0.0.1",
        description="Address the partners' pages listen on: loopback by default, reached through a TLS reverse proxy",
    )
    partner_url: str | None = Field(
        None,
        description="Public base URL of the partners' pages (https://…, the reverse proxy's): when set, "
        "`wpflow partners links` prints links under it and every reminder, receipt and report e-mail links "
        "to the partner's page",
    )
    partner_secret: SecretStr | None = Field(
        None,
        description="Key from which each partner's link is derived with the random value kept in the store (only "
        "the link's hash is kept): needed to print or e-mail the links; changing it changes every link",
    )
    partner_requests_per_minute: float = Field(
        30.0, gt=0, description="Requests one partner link may make per minute (a burst of as many), then 429"
    )
    server_hosts: str = Field(
        "",
        description="Host names, comma-separated, besides 127.0.0.1, localhost and ::1 (and the host of "
        "WPFLOW_REPORTS_URL), by which browsers reach the Prefect UI and the reports that wpflow starts — a reverse "
        "proxy's name; a request naming any other host, or sent by a page of another origin, is refused",
    )
    report_pdf: bool = Field(
        True, description="Also write a PDF beside each DOCX report when LibreOffice (soffice) is installed"
    )
    milestone_workers: int = Field(
        1,
        ge=1,
        description="Milestone pipelines that `all-milestones` (`wpflow run --all` through Prefect) runs at "
        "once; above 1 each runs in a thread of its own, where Prefect does not enforce the tasks' timeouts",
    )
    dask_address: str | None = Field(
        None,
        pattern=r"^(local|(tcp|tls)://\S+)$",
        description="Where a milestone run's validation fans out, one task per partner batch: unset, threads of the "
        "run's own process; `local`, a Dask LocalCluster of worker processes started by that process; "
        "`tcp://host:port`, the scheduler of a running Dask cluster (docs/performance.md says what its workers need)",
    )
    dask_workers: int = Field(
        2, ge=1, description="Worker processes, one thread each, of the LocalCluster WPFLOW_DASK_ADDRESS=local starts"
    )

    imap_host: str | None = Field(
        None, description="IMAP server of the intake mailbox that `wpflow serve` polls; unset, no e-mail intake"
    )
    imap_port: int = Field(993, ge=1, le=65535, description="IMAP server port (993 for ssl, 143 for none/starttls)")
    imap_security: Literal["none", "starttls", "ssl"] = Field("ssl", description="TLS mode of the IMAP connection")
    imap_user: str | None = Field(None, description="IMAP user name of the intake mailbox")
    imap_password: SecretStr | None = Field(None, description="IMAP password of the intake mailbox")
    imap_folder: str = Field("INBOX", description="Mailbox folder the intake reads partners' messages from")
    imap_processed_folder: str = Field(
        "wpflow-processed", description="Folder a message goes to once its attachments are in the inbox folders"
    )
    imap_held_folder: str = Field(
        "wpflow-held",
        description="Folder for the coordinator: messages not taken in (unknown sender, no attachment, no milestone)",
    )
    imap_poll_seconds: float = Field(60.0, gt=0, description="How often `wpflow serve` looks for new messages")
    imap_timeout: float = Field(30.0, gt=0, description="IMAP connect/command timeout in seconds")
    imap_max_message_mb: float = Field(
        80.0, gt=0, description="Largest message read, in MB (attachments grow by a third in a message)"
    )
    imap_sender_limit_per_hour: int = Field(
        30, ge=1, description="Messages per sender per hour taken in; more are held for the coordinator, unanswered"
    )
    intake_address: str | None = Field(
        None,
        description="The address partners mail files to (the intake mailbox's); a `+WP4-M3` sub-address of it "
        "names the milestone",
    )

    @model_validator(mode="after")
    def _smtp_login_is_a_pair(self) -> Settings:
        """A user without a password (or the reverse) is a typo, said when the settings are read,
        not when the first e-mail fails."""
        if (self.smtp_user is None) != (self.smtp_password is None):
            given, missing = (
                ("WPFLOW_SMTP_USER", "WPFLOW_SMTP_PASSWORD")
                if self.smtp_user
                else ("WPFLOW_SMTP_PASSWORD", "WPFLOW_SMTP_USER")
            )
            raise ValueError(f"{given} is set but {missing} is not: set both to log in, or neither")
        return self

    @model_validator(mode="after")
    def _partner_links_need_the_secret(self) -> Settings:
        """Links in e-mails are derived with the secret: a URL without it would send none."""
        if self.partner_url and self.partner_secret is None:
            raise ValueError("WPFLOW_PARTNER_URL is set but WPFLOW_PARTNER_SECRET is not: set both (docs/partners.md)")
        return self

    @model_validator(mode="after")
    def _imap_login_is_complete(self) -> Settings:
        """An intake mailbox needs its login: said when the settings are read, not at the first poll."""
        if self.imap_host is not None and (self.imap_user is None or self.imap_password is None):
            raise ValueError("WPFLOW_IMAP_HOST is set: set WPFLOW_IMAP_USER and WPFLOW_IMAP_PASSWORD too")
        return self

    @property
    def partner_base_url(self) -> str:
        """Where partner links point: WPFLOW_PARTNER_URL, else the loopback address serve listens on."""
        return (self.partner_url or f"http://{self.partner_host}:{self.partner_port}").rstrip("/")

    @property
    def max_file_bytes(self) -> int:
        """`max_file_mb` in bytes, as the gate compares it with a file's size."""
        return int(self.max_file_mb * 1024 * 1024)

    def for_project(self, folder: Path) -> Settings:
        """These settings for the project in `folder`. WPFLOW_INBOX is the inbox of the
        configured project (WPFLOW_PROJECT) alone: another project keeps its own inbox."""
        folder = folder.resolve()
        if folder == self.project.resolve():
            return self
        return self.model_copy(update={"project": folder, "inbox": None})

    @property
    def project_slug(self) -> str:
        """The project's short name in folder names, deployment names, tags, run names and
        artifact keys: its folder's name, lower case (`baltmet-inno`)."""
        return project_slug(self.project)

    @property
    def inbox_root(self) -> Path:
        if self.inbox is not None:
            return self.inbox
        return self.inboxes / self.project_slug if self.inboxes is not None else self.project / "inbox"

    @property
    def archive_dir(self) -> Path:
        """Shared by every project: a file is kept once by its content, whoever sent it."""
        return self.outputs / "archive"

    @property
    def reports_root(self) -> Path:
        """Every project's reports, a folder per project: what `wpflow serve` serves over HTTP."""
        return self.outputs / "reports"

    @property
    def reports_dir(self) -> Path:
        return self.reports_root / self.project_slug

    @property
    def quarantine_dir(self) -> Path:
        """Receipts of invalid files, per partner and milestone (partner ids repeat across projects)."""
        return self.outputs / "quarantine" / self.project_slug

    @property
    def reports_base_url(self) -> str:
        """Where report links point: WPFLOW_REPORTS_URL, else what `wpflow serve` serves."""
        return self.reports_url if self.reports_url is not None else f"http://127.0.0.1:{self.reports_port}"

    @property
    def outbox_dir(self) -> Path:
        return self.outputs / "outbox" / self.project_slug

    @property
    def db_url(self) -> str:
        return self.database_url or f"sqlite:///{self.outputs / 'wpflow.db'}"


def project_slug(folder: Path) -> str:
    """`baltmet-inno` for projects/baltmet-inno: lower-case letters, digits and dashes only, as
    Prefect's artifact keys require (and deployment names, which must not hold a '/')."""
    return re.sub(r"[^a-z0-9]+", "-", folder.resolve().name.lower()).strip("-") or "project"
