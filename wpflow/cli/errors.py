"""One place that turns a command's failure into one line on stderr and the documented exit
code (0 ok, 1 input or project invalid, 2 unreadable, unreachable or unwritable), for every
command of the Typer app; `--verbose` (anywhere on the command line) adds the traceback.

Commands raise what they meet — a PermissionError from a read-only outputs folder, a full disk,
SQLAlchemy's OperationalError for a store that cannot be reached, a store at another schema
(`wpflow.db.SchemaMismatch`), an SMTP error — and this maps it, instead of a try/except in
each command.
"""

from __future__ import annotations

import errno
import os
import select
import smtplib
import socket
import sys
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NoReturn

import typer
from typer.core import TyperGroup
from typer.exceptions import Abort, Exit, TyperException

from wpflow.cli.options import EXIT_INVALID, EXIT_UNREADABLE, VERBOSE_KEY
from wpflow.file_names import first_few, shown_name

VERBOSE_FLAG = "--verbose"
WRITE_ERRNOS = frozenset({errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOSPC, errno.EDQUOT, errno.ENOTDIR})


class ErrorMappingGroup(TyperGroup):
    """The app's root group: strips `--verbose` wherever it stands, and maps any exception a
    command lets through to `error: <one line>` and exit 1 or 2."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:  # a click Context
        if VERBOSE_FLAG in args:
            ctx.meta[VERBOSE_KEY] = True
            args = [a for a in args if a != VERBOSE_FLAG]
        return super().parse_args(ctx, args)

    def invoke(self, ctx: Any) -> Any:  # a click Context
        try:
            return super().invoke(ctx)
        except (Exit, TyperException, Abort):  # usage errors and deliberate exits: Typer's own handling
            raise
        except Exception as exc:
            if isinstance(exc, BrokenPipeError) and stdout_closed():
                exit_quietly_on_closed_stdout()
            if ctx.meta.get(VERBOSE_KEY):
                traceback.print_exc(file=sys.stderr)
            code, line = describe_failure(exc)
            hint = "" if ctx.meta.get(VERBOSE_KEY) else f" (run with {VERBOSE_FLAG} for details)"
            typer.echo(f"error: {line}{hint}", err=True)
            raise Exit(code) from None


STDOUT_CLOSED_EXIT = 141  # 128 + SIGPIPE: what a shell shows for a writer whose reader left


def stdout_closed() -> bool:
    """True when stdout is a pipe whose reader has gone (`wpflow init --help | head`): poll
    reports an error on the write end of such a pipe. A broken pipe to a mail server is not
    this, and stays a mail error."""
    try:
        fd = sys.stdout.fileno()
        poller = select.poll()
        poller.register(fd, select.POLLOUT)
        return any(event & select.POLLERR for _, event in poller.poll(0))
    except (AttributeError, OSError, ValueError):  # no real stdout (a test's capture): not closed
        return False


def exit_quietly_on_closed_stdout() -> NoReturn:
    """The Python documentation's recipe for a closed pipe: stdout pointed at /dev/null (so the
    interpreter's last flush does not fail again), then exit without a word."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    raise Exit(STDOUT_CLOSED_EXIT)


def causes(exc: BaseException) -> Iterator[BaseException]:
    """The exception and what caused it, outermost first (a task's error wraps the OSError)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def describe_failure(exc: BaseException) -> tuple[int, str]:
    """(exit code, one line) for a failure: 2 for what the machine or a service refused — a file
    or folder not writable or readable, a full disk, a database or mail server not reachable, a
    store at another schema than the code — else 1 with the exception's own words."""
    for cause in causes(exc):
        environmental = environmental_line(cause)
        if environmental is not None:
            return EXIT_UNREADABLE, environmental
    return EXIT_INVALID, one_line(exc)


def environmental_line(exc: BaseException) -> str | None:
    """The one line for a failure of the environment, or None if `exc` is not one."""
    if is_api_outage(exc):  # before the mail: its cause is a refused connection too
        return f"cannot reach the Prefect API: {one_line(exc)}"
    if is_mail_outage(exc):
        return mail_line(exc)
    if is_schema_mismatch(exc):  # its message is the one line: what the database is at, what to run
        return str(exc)
    if type(exc).__module__.startswith("sqlalchemy") and type(exc).__name__ in ("OperationalError", "InterfaceError"):
        return f"cannot open the store: {one_line(getattr(exc, 'orig', None) or exc)}"
    if isinstance(exc, OSError):
        return os_error_line(exc)
    return None


def mail_line(exc: BaseException) -> str:
    """What the mail server answered when it answered (a 451 that outlasted the retries is not
    a server out of reach), else that it could not be reached."""
    if isinstance(exc, smtplib.SMTPResponseException):
        reply = exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) else str(exc.smtp_error)
        answer = f"it answered {exc.smtp_code} {' '.join(reply.split())}"
        if isinstance(exc, smtplib.SMTPConnectError):  # turned away before any e-mail
            return f"cannot reach the mail server: {answer}"[:300]
        return f"the mail server did not take the e-mail: {answer}"[:300]
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        answers = sorted({f"{code} {' '.join(str(text).split())}" for code, text in exc.recipients.values()})
        return f"the mail server refused the recipients: it answered {'; '.join(answers)}"[:300]
    return f"cannot reach the mail server: {one_line(exc)}"


def os_error_line(exc: OSError) -> str:
    """`cannot write the annotated copy <path>: no space left in <folder>`: the operation (a
    `WriteFailed` says it was a write and what was written; a full disk or a refused write is a
    write too), the path, and for a full disk or a folder that refuses writes, the folder to
    look at."""
    from wpflow.files import WriteFailed

    path = Path(os.fsdecode(exc.filename)) if exc.filename is not None else None
    what = exc.what if isinstance(exc, WriteFailed) else ""
    target = " ".join(filter(None, [what, shown_name(path) if path is not None else ""])) or "a file"
    verb = "write" if isinstance(exc, WriteFailed) or exc.errno in WRITE_ERRNOS else "read"
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        if path is None or path.is_dir():
            return f"cannot write {target}: no space left on its disk"
        return f"cannot write {target}: no space left in {shown_name(path.parent)}"
    if verb == "write" and exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS) and path is not None:
        refused = next((p for p in (path, *path.parents) if p.exists()), path)
        return f"cannot write {target}: {shown_name(refused)} is not writable ({exc.strerror})"
    return f"cannot {verb} {target}: {exc.strerror or one_line(exc)}"


def is_mail_outage(exc: BaseException) -> bool:
    """smtplib's and the socket's errors, and `wpflow.mail.transports.MailServerUnreachable` — looked up
    among the loaded modules like `is_schema_mismatch`: without the mailers loaded there is none."""
    mailers = sys.modules.get("wpflow.mail.transports")
    unreachable = mailers is not None and isinstance(exc, mailers.MailServerUnreachable)
    return unreachable or isinstance(exc, smtplib.SMTPException | socket.timeout | ConnectionError)


def is_api_outage(exc: BaseException) -> bool:
    """httpx's (and httpcore's) failure to connect: the Prefect API, the only HTTP service a run
    calls, is out of reach (its server stopped or died)."""
    return type(exc).__module__.split(".")[0] in ("httpx", "httpcore") and type(exc).__name__ in (
        "ConnectError",
        "ConnectTimeout",
    )


def mail_unreachable(exc: BaseException) -> bool:
    """True when the mail server was out of reach (the reports are written; the e-mails wait),
    not when the refused connection was the Prefect API's."""
    for cause in causes(exc):
        if is_api_outage(cause):
            return False
        if is_mail_outage(cause):
            return True
    return False


def failures_line(failures: dict[str, BaseException]) -> tuple[int, str]:
    """(exit code, one line) for the milestones that failed: 2 with what was out of reach (a
    mail server: the reports are written, the e-mails go on the next run), else 1 naming them."""
    mail = [i for i, exc in failures.items() if mail_unreachable(exc)]
    others = [i for i in failures if i not in mail]
    also = f"; also failed: {', '.join(others)}" if others else ""
    if mail:
        _, line = describe_failure(failures[mail[0]])
        return EXIT_UNREADABLE, (
            f"{line} — {len(mail)} milestone(s) not e-mailed ({first_few(mail, 4)}); their reports are written "
            f"and the e-mails go out on the next run{also}"
        )
    for i in others:
        code, line = describe_failure(failures[i])
        if code == EXIT_UNREADABLE:
            rest = [o for o in others if o != i]
            return code, f"{line} ({i}" + (f"; also failed: {', '.join(rest)})" if rest else ")")
    return EXIT_INVALID, f"{len(others)} milestone(s) failed: {', '.join(others)}"


def is_schema_mismatch(exc: BaseException) -> bool:
    """A store at another schema than the code (`wpflow.db.SchemaMismatch`). Looked up among the
    loaded modules: such an error exists only once wpflow.store.migrate is, and importing it (Alembic,
    about a second) only to check would slow every command down."""
    db = sys.modules.get("wpflow.store.migrate")
    return db is not None and isinstance(exc, db.SchemaMismatch)


def one_line(exc: BaseException) -> str:
    """`TypeName: message`, whitespace (newlines too) collapsed, at most 300 characters."""
    return shown_name(" ".join(f"{type(exc).__name__}: {exc}".split()))[:300]
