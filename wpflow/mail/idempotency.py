"""Idempotency keys: each computed here once, used by the store and for the Message-ID.

An e-mail or a pipeline run happens once per key. The same milestone, recipient and content
give the same key in every process and on every day, so a retry, a re-run or a second machine
never sends twice — and a new content (a report version, a file, a ladder rung) is a new key.

Each project is a namespace of its own: a key is its in-project key hashed with the project's
name (the store's `project` column), so one person in two projects gets each project's
reminder, and two projects' e-mails never share a Message-ID. Migration 0006 moved the keys
stored before into their project's namespace the same way (`in_project`).
"""

from __future__ import annotations

import hashlib


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()


def in_project(project: str, key: str) -> str:
    """A key within `project` (its name) as the store and the Message-ID hold it."""
    return _digest(project, key)


def _key(project: str, *parts: str) -> str:
    return in_project(project, _digest(*parts))


def _address(email: str) -> str:
    return email.strip().lower()


def report_key(project: str, milestone: str, email: str, fingerprint: str) -> str:
    """One report e-mail per (milestone, recipient, content fingerprint)."""
    return _key(project, "report", milestone, _address(email), fingerprint)


def final_report_key(project: str, report: str, email: str, fingerprint: str) -> str:
    """One WP final report ("WP4") or joint final report ("final") e-mail per recipient and content."""
    return _key(project, "final-report", report, _address(email), fingerprint)


def empty_key(project: str, milestone: str, email: str, inputs_digest: str) -> str:
    """'Nothing has arrived' to the coordinator or lead, once per state of the inputs."""
    return _key(project, "empty", milestone, _address(email), inputs_digest)


def receipt_key(project: str, milestone: str, email: str, sha256: str) -> str:
    """One receipt per distinct file (its bytes' hash) to its partner."""
    return _key(project, "receipt", milestone, _address(email), sha256)


def ladder_key(project: str, milestone: str, email: str, action: str, rung: str) -> str:
    """One reminder, notice or escalation per ladder rung ("T-14") and recipient."""
    return _key(project, action, milestone, _address(email), rung)


def partner_link_key(project: str, partner: str, email: str, link_id: str) -> str:
    """One e-mail per partner page link (`link_id`: the random value it is derived from) and address."""
    return _key(project, "partner-link", partner, _address(email), link_id)


def run_key(milestone: str, inputs_digest: str) -> str:
    """One pipeline run per distinct content of a milestone's inputs (`versions.inputs_digest`),
    within its project: the ladder's actions carry it, `chase.run_once` claims it `in_project`."""
    return f"run:{milestone}:{inputs_digest}"
