"""A real IMAP server for the tests: Debian's Dovecot run in the foreground by the test, with a
configuration of its own in a temporary folder (Maildir, one passwd-file user with a plain
password, no TLS, loopback on a free port). `scripts/install-imap.sh` installs it."""

from __future__ import annotations

import grp
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

from imapclient import IMAPClient

from tests.smtp import free_port
from tests.waiting import wait_for

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
USER, PASSWORD = "intake", "intake-test-password"

CONFIG = """\
protocols = imap
listen = 127.0.0.1
base_dir = {root}/run
state_dir = {root}/state
instance_name = wpflow-test-{port}
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
log_path = {root}/dovecot.log
default_login_user = {user}
default_internal_user = {user}
default_internal_group = {group}
first_valid_uid = {uid}
mail_location = maildir:~/Maildir
mail_fsync = never
namespace inbox {{
  inbox = yes
  separator = /
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/home/%u
}}
"""


@dataclass
class Dovecot:
    """A running Dovecot: where it listens and the one user's login."""

    host: str
    port: int
    root: Path
    user: str = USER
    password: str = PASSWORD

    @contextmanager
    def client(self) -> Iterator[IMAPClient]:
        client = IMAPClient(self.host, port=self.port, ssl=False, timeout=10)
        client.login(self.user, self.password)
        try:
            yield client
        finally:
            client.logout()

    def append(self, raw: bytes, folder: str = "INBOX") -> None:
        with self.client() as client:
            client.append(folder, raw)

    def messages(self, folder: str = "INBOX") -> list[bytes]:
        """The messages of `folder` (none when it does not exist yet)."""
        with self.client() as client:
            if not client.folder_exists(folder):
                return []
            client.select_folder(folder, readonly=True)
            uids = client.search("ALL")
            return [bytes(d[b"BODY[]"]) for _, d in sorted(client.fetch(uids, ["BODY.PEEK[]"]).items())] if uids else []

    def log(self) -> str:
        path = self.root / "dovecot.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else "(no log)"


def mail_account() -> tuple[int, int, str, str]:
    """(uid, gid, user, group) the mail processes run as: ours, or `nobody` when we are root
    (Dovecot refuses mail access as root)."""
    if os.getuid() != 0:
        return os.getuid(), os.getgid(), pwd.getpwuid(os.getuid()).pw_name, grp.getgrgid(os.getgid()).gr_name
    nobody = pwd.getpwnam("nobody")
    return nobody.pw_uid, nobody.pw_gid, "nobody", grp.getgrgid(nobody.pw_gid).gr_name


@contextmanager
def running_dovecot() -> Iterator[Dovecot]:
    """Dovecot in the foreground (`dovecot -F -c conf`) until the block ends. Its folder is a
    short one under /tmp: Dovecot's UNIX sockets live there and their paths must stay short."""
    root = Path(tempfile.mkdtemp(prefix="wpdc-", dir="/tmp"))
    root.chmod(0o755)  # the login and mail processes run as another user when we are root
    uid, gid, user, group = mail_account()
    (root / "home").mkdir()
    os.chown(root / "home", uid, gid) if os.getuid() == 0 else None
    port = free_port()
    conf = root / "dovecot.conf"
    conf.write_text(CONFIG.format(root=root, port=port, uid=uid, gid=gid, user=user, group=group))
    (root / "passwd").write_text(f"{USER}:{{PLAIN}}{PASSWORD}\n")
    proc = subprocess.Popen(
        [DOVECOT, "-F", "-c", str(conf)],
        stdout=subprocess.DEVNULL,
        stderr=(root / "stderr.log").open("wb"),
        start_new_session=True,
    )
    server = Dovecot("127.0.0.1", port, root)
    try:
        wait_for(lambda: listening(port, proc), what=f"Dovecot on 127.0.0.1:{port}", details=server.log, timeout=30)
        yield server
    finally:
        with_group(proc, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with_group(proc, signal.SIGKILL)
            proc.wait(timeout=10)
        shutil.rmtree(root, ignore_errors=True)


def listening(port: int, proc: subprocess.Popen[bytes]) -> bool:
    if proc.poll() is not None:
        raise AssertionError(f"dovecot exited with code {proc.returncode}")
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
            return sock.recv(64).startswith(b"* OK")
    except OSError:
        return False


def with_group(proc: subprocess.Popen[bytes], sig: int) -> None:
    with suppress(ProcessLookupError):  # gone already
        os.killpg(proc.pid, sig)
