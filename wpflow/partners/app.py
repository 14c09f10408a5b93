"""The partners' pages as an ASGI app (Starlette, installed with Prefect's server; pages from
`templates/partners/*.html`, escaped by jinja2):

- `GET /p/<token>`: the partner's page (`wpflow.partners.status`);
- `POST /p/<token>/<milestone>/upload`: files (`multipart/form-data`, field `files`, several at
  once) into the partner's milestone folder through `wpflow.inbox.deliver`, then back to the page;
- `GET /p/<token>/templates/<file>`: a template the partner fills in;
- `GET /p/<token>/reports/<file>`: a report version e-mailed to the partner.

Anything else — an unknown, wrong or revoked token, another partner's milestone or file, any
other path — is the same 404 page. The size limit is applied before the body is read (its
Content-Length) and while it is read (a counter); every request is logged and kept in the
store's access log; each link (and each address presenting wrong tokens) has a rate limit.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException, MultiPartParser
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from wpflow.file_names import shown_name
from wpflow.inbox.deliver import DeliveryRefused, deliver_file
from wpflow.partners.limits import RateLimit
from wpflow.partners.status import partner_milestones, partner_page, partner_templates, report_file
from wpflow.store.partner_links import token_hash
from wpflow.workspace import Workspace

log = logging.getLogger(__name__)

MAX_FILES = 20  # files in one upload
MULTIPART_SLACK = 64 * 1024  # the form's own bytes around the files
MAX_TOKEN_CHARS = 100
SAFE_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",  # the token is in the URL: never pass it on
    "X-Robots-Tag": "noindex",
    "X-Content-Type-Options": "nosniff",
}
TEMPLATE_TYPES = {
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".md": "text/markdown; charset=utf-8",
}


class TooLarge(Exception):
    pass


@dataclass(frozen=True)
class Visitor:
    """A request whose link is in force: its project's workspace and its partner."""

    ws: Workspace
    partner: str
    key: str  # the token's hash: rate limit and messages between requests
    token: str  # as presented: the page's own links (never logged)


class PartnerSite:
    """The app's state: the served projects' workspaces (one store for all), the rate limit,
    the page templates and the messages an upload leaves for the next view of the page."""

    def __init__(self, workspaces: list[Workspace]) -> None:
        self.workspaces = {ws.project.name: ws for ws in workspaces}
        first = workspaces[0]
        self.store = first.store
        self.limit = RateLimit(first.settings.partner_requests_per_minute)
        self.env = Environment(
            loader=FileSystemLoader(first.settings.templates / "partners"), autoescape=select_autoescape(["html"])
        )
        self.messages: dict[str, list[tuple[str, str]]] = {}

    # -- who is asking ---------------------------------------------------------------------
    def visitor(self, request: Request) -> Visitor:
        """The link's partner, or HTTPException 404 (unknown, wrong, revoked: one answer) / 429."""
        token = request.path_params["token"]
        key = token_hash(token)
        if not self.limit.allow(key):
            raise HTTPException(429)
        found = self.store.partner_for_token(token) if len(token) <= MAX_TOKEN_CHARS else None
        ws = self.workspaces.get(found[0]) if found else None
        if found is None or ws is None:
            client = request.client.host if request.client else "unknown"
            log.warning("partner page: a wrong or revoked link from %s", client)
            if not self.limit.allow(f"address {client}"):
                raise HTTPException(429)
            raise HTTPException(404)
        return Visitor(ws, found[1], key, token)

    def logged(self, who: Visitor, action: str, detail: str) -> None:
        log.info("partner page: %s %s %s: %s", who.ws.project.name, who.partner, action, detail)
        self.store.log_partner_access(who.ws.project.name, who.partner, action, detail)

    # -- routes ----------------------------------------------------------------------------
    async def page(self, request: Request) -> Response:
        who = self.visitor(request)
        data = await run_in_threadpool(partner_page, who.ws, who.partner)
        self.logged(who, "view", "page")
        return self.render(
            "page.html",
            page=data,
            base=f"/p/{who.token}",
            messages=self.messages.pop(who.key, []),
            limit_mb=who.ws.settings.max_file_mb,
            max_files=MAX_FILES,
        )

    async def upload(self, request: Request) -> Response:
        who = self.visitor(request)
        milestone = self.owed_milestone(who, request.path_params["milestone"])
        limit = who.ws.settings.max_file_bytes + MULTIPART_SLACK
        length = request.headers.get("content-length", "")
        if length.isdigit() and int(length) > limit:  # refused before a byte of the body is read
            self.logged(who, "refused", f"{milestone}: an upload of {int(length)} bytes, over the limit")
            return self.back(who, milestone, [("bad", self.too_large(who))], status=413)
        try:
            form = await MultiPartParser(
                request.headers, counted(request.stream(), limit), max_files=MAX_FILES, max_fields=5
            ).parse()
        except TooLarge:
            self.logged(who, "refused", f"{milestone}: an upload over the limit (counted)")
            return self.back(who, milestone, [("bad", self.too_large(who))], status=413)
        except MultiPartException as exc:
            self.logged(who, "refused", f"{milestone}: {exc.message}")
            return self.back(who, milestone, [("bad", f"The upload could not be read ({exc.message}).")], status=400)
        files = [f for f in form.getlist("files") if isinstance(f, UploadFile) and f.filename]
        notes = [await self.deliver(who, milestone, upload) for upload in files] or [("bad", "No file was chosen.")]
        await form.close()
        return self.back(who, milestone, notes)

    async def deliver(self, who: Visitor, milestone: str, upload: UploadFile) -> tuple[str, str]:
        name = upload.filename or ""
        await upload.seek(0)
        try:
            path = await run_in_threadpool(deliver_file, who.ws.settings, who.partner, milestone, name, upload.file)
        except DeliveryRefused as exc:
            self.logged(who, "refused", f"{milestone}: {exc}")
            return "bad", f"Not taken: {exc}."
        self.logged(who, "upload", f"{milestone}: {shown_name(name)} as {path.name} ({path.stat().st_size} bytes)")
        return "ok", f"{path.name} received: its receipt follows below and by e-mail."

    async def template(self, request: Request) -> Response:
        who = self.visitor(request)
        name = request.path_params["name"]
        project = who.ws.project
        for milestone in partner_milestones(project, who.partner):
            if name in partner_templates(project, milestone, who.partner):
                from wpflow.inputs.partner_templates import template_files

                files = dict(await run_in_threadpool(template_files, project, milestone.id, who.partner))
                self.logged(who, "template", name)
                kind = TEMPLATE_TYPES.get(name[name.rfind(".") :], "application/octet-stream")
                disposition = {"Content-Disposition": f'attachment; filename="{name}"'}
                return Response(files[name], media_type=kind, headers={**SAFE_HEADERS, **disposition})
        raise HTTPException(404)

    async def report(self, request: Request) -> Response:
        who = self.visitor(request)
        name = request.path_params["name"]
        path = await run_in_threadpool(report_file, who.ws, name, who.ws.project.participant(who.partner))
        if path is None:
            raise HTTPException(404)
        self.logged(who, "report", name)
        return FileResponse(path, filename=name, headers=SAFE_HEADERS)

    # -- answers ---------------------------------------------------------------------------
    def owed_milestone(self, who: Visitor, milestone_id: str) -> str:
        """The milestone's id when the partner owes it an input; 404 otherwise (another
        partner's milestone looks like no milestone at all)."""
        for milestone in partner_milestones(who.ws.project, who.partner):
            if milestone.id == milestone_id:
                return milestone.id
        raise HTTPException(404)

    def too_large(self, who: Visitor) -> str:
        return f"Not taken: the upload is larger than the limit of {who.ws.settings.max_file_mb:g} MB."

    def back(self, who: Visitor, milestone: str, notes: list[tuple[str, str]], status: int = 303) -> Response:
        """To the page, at the milestone, with what happened said once at the top."""
        self.messages.setdefault(who.key, []).extend(notes)
        token_path = f"/p/{who.token}"
        if status == 303:
            return RedirectResponse(f"{token_path}#{milestone}", status_code=303, headers=SAFE_HEADERS)
        # a refusal answers at once (the body was not read: a browser may not follow a redirect)
        return HTMLResponse(
            self.env.get_template("refused.html").render(notes=notes, back=f"{token_path}#{milestone}"),
            status_code=status,
            headers={**SAFE_HEADERS, "Connection": "close"},
        )

    def render(self, template: str, status: int = 200, **context: Any) -> HTMLResponse:
        return HTMLResponse(self.env.get_template(template).render(**context), status_code=status, headers=SAFE_HEADERS)

    async def not_found(self, request: Request, exc: Exception) -> Response:
        status = getattr(exc, "status_code", 404)
        if status == 429:
            return self.render("busy.html", status=429)
        return self.render("not_found.html", status=404)  # 404 and 405 alike: nothing to learn


async def counted(stream: AsyncIterator[bytes], limit: int) -> AsyncGenerator[bytes, None]:
    """The body's blocks, stopping with TooLarge once more than `limit` bytes came."""
    seen = 0
    async for block in stream:
        seen += len(block)
        if seen > limit:
            raise TooLarge
        yield block


def partner_app(workspaces: list[Workspace]) -> Starlette:
    site = PartnerSite(workspaces)
    routes = [
        Route("/p/{token}", site.page, methods=["GET"]),
        Route("/p/{token}/{milestone}/upload", site.upload, methods=["POST"]),
        Route("/p/{token}/templates/{name}", site.template, methods=["GET"]),
        Route("/p/{token}/reports/{name}", site.report, methods=["GET"]),
    ]
    handlers: dict[Any, Any] = {404: site.not_found, 405: site.not_found, 429: site.not_found}
    return Starlette(routes=routes, exception_handlers=handlers)
