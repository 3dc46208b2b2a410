"""The auditor portal's pages: verify, datasets, agreements, commitments, membership proposals,
audit trail, the review of access receipts (with its CSV), webhooks and cosigned checkpoints,
sign-in.

Presentation only: every page reads the index through :mod:`ledger.db.queries` and renders a
Jinja2 template (autoescaped); the verify page's script hashes the file in the browser and
asks ``/v1/verify`` for the answer. When reads are not open, pages need a signed-in read key:
signing in opens a server-side session (:mod:`ledger.portal_sessions`) whose opaque id goes
into the HttpOnly, SameSite=Strict cookie :data:`api.deps.SESSION_COOKIE` (over TLS, Secure
and named :data:`api.deps.SECURE_SESSION_COOKIE`, with the ``__Host-`` prefix), which the read routes of the API accept too. Only read keys sign in;
signing out is a POST carrying the session's CSRF token.
"""

from __future__ import annotations

import functools
import re
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import parse_qs, urlencode, urlsplit

import jinja2
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from ledger import InputError, LedgerError, __version__, catalogue, refs
from ledger.apikeys import ApiKeyError, InsufficientScopeError, authenticate
from ledger.audit import event_filters
from ledger.chain.artifacts import load_artifact
from ledger.chain.enums import ProposalKind
from ledger.db import queries
from ledger.display import text_flags, visible
from ledger.ids import version_id
from ledger.localtime import BEIJING, local_time, time_zone, utc_time, zone_offset
from ledger.portal_sessions import csrf_token, csrf_token_matches, end_session, open_session
from ledger.witness import Witness

from .._client import came_over_tls
from ..deps import (
    admit_authentication,
    authorize,
    count_failed_authentication,
    presented_session,
    session_cookie_name,
)
from ..state import ApiState
from .i18n import HTML_LANG, LANGS, Translator, pick_lang
from .lineage import layout

__all__ = ["install", "router"]

HERE = Path(__file__).parent
LANG_COOKIE = "lang"
PAGE_SIZE = 50
MAX_LOGIN_BODY = 8 * 1024
#: Headers of every portal page: never cached (pages carry what a key may read), no framing,
#: only this origin's scripts, styles and images.
PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Pragma": "no-cache",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
        "form-action 'self'; frame-ancestors 'none'"
    ),
}
NAV = (
    ("verify", "/"),
    ("datasets", "/datasets"),
    ("agreements", "/agreements"),
    ("commitments", "/commitments"),
    ("proposals", "/proposals"),
    ("audit", "/audit"),
)
#: The parts of the audit section (tabs on its pages).
AUDIT_TABS = (
    ("audit", "/audit"),
    ("receipts", "/audit/receipts"),
    ("webhooks", "/audit/webhooks"),
    ("checkpoints", "/audit/checkpoints"),
)
#: Most rows a CSV export holds (as the API's audit export).
MAX_CSV_ROWS = 100_000
#: A proposal id as a page names it: 1, 2, … (digits only, within the index's BIGINT).
PROPOSAL_ID = re.compile(r"[1-9][0-9]{0,17}")
CONTRACTS = ("DepartmentRegistry", "DatasetRegistry", "SharingAgreements", "JointCommitments")


def _short(value: Any, keep: int = 6) -> str:
    text = str(value)
    if len(text) <= 2 * keep + 4:
        return text
    head = 2 + keep if text.startswith("0x") else keep
    return f"{text[:head]}…{text[-keep:]}"


def _name_flags(ref: Mapping[str, Any]) -> list[str]:
    """The flags of a department reference: as the index gave them, else the name's own
    (an audit event names its department by name alone)."""
    flags = ref.get("name_flags")
    if flags is not None:
        return list(flags)
    name = ref.get("name")
    return text_flags(name) if isinstance(name, str) else []


def _proposal_kind(value: Any) -> str:
    """The label of a ``ProposalKind`` as events carry it (its number); the value itself when
    it is none (chain data is untrusted)."""
    labels = ProposalKind.labels()
    return labels[value] if isinstance(value, int) and 0 <= value < len(labels) else str(value)


def _unix_iso(value: Any) -> str | None:
    """An event's time argument (unix seconds) as the ISO time the ``when`` macro shows."""
    return queries.iso(value) if isinstance(value, int) and value >= 0 else None


def _zero(value: Any) -> bool:
    """A 0x value of zeros only (no agreement superseded, no account)."""
    return isinstance(value, str) and value.startswith("0x") and not value[2:].strip("0")


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["short"] = _short
    # Chain data may hold bidi controls and invisible characters: shown as escapes.
    env.filters["visible"] = lambda value: visible(str(value))
    env.filters["name_flags"] = _name_flags
    env.filters["local"] = _local
    env.filters["utc"] = utc_time
    env.filters["proposal_kind"] = _proposal_kind
    env.filters["unix_iso"] = _unix_iso
    env.tests["zero"] = _zero
    return env


@jinja2.pass_context
def _local(context: jinja2.runtime.Context, value: str) -> str:
    """An ISO time as the wall clock of the page's zone (``zone`` in the page's context)."""
    return local_time(value, context["zone"])


templates = Jinja2Templates(env=_environment())
router = APIRouter(include_in_schema=False)


class SignInRequiredError(Exception):
    """A page was asked for without a key that may read; the answer is the sign-in page."""

    def __init__(self, target: str, *, bad_cookie: bool) -> None:
        super().__init__(target)
        self.target = target
        self.bad_cookie = bad_cookie


@dataclass
class Portal:
    """What a page handler needs: the request, the gateway state and the reader's language."""

    request: Request
    state: ApiState
    lang: str
    signed_in: bool
    #: The CSRF token of the reader's portal session (its sign-out form carries it).
    csrf: str = ""

    @property
    def t(self) -> Translator:
        return Translator(self.lang)

    @contextmanager
    def session(self) -> Iterator[Session]:
        with Session(self.state.gateway.engine) as session:
            yield session


def _state(request: Request) -> ApiState:
    state: ApiState = request.app.state.xietong
    return state


def _lang(request: Request) -> str:
    return pick_lang(request.query_params.get("lang"), request.cookies.get(LANG_COOKIE))


def _here(request: Request) -> str:
    """The path and query of the request (to come back to after signing in)."""
    query = [(k, v) for k, v in request.query_params.multi_items() if k != "lang"]
    return request.url.path + (f"?{urlencode(query)}" if query else "")


def _safe_target(target: str | None) -> str:
    """Only local paths are followed after signing in (no open redirect)."""
    if (
        not target
        or not target.startswith("/")
        or target.startswith("//")
        or "\\" in target
        or target.startswith(("/login", "/logout"))
    ):
        return "/"
    return target


def reader(request: Request) -> Portal:
    """The page's context when the caller may read; the sign-in page otherwise."""
    state = _state(request)
    try:
        caller = authorize(request, state, "read", count_missing=False)
    except (ApiKeyError, InsufficientScopeError):
        raise SignInRequiredError(
            _here(request), bad_cookie=presented_session(request, state) is not None
        ) from None
    session_id = presented_session(request, state) or ""
    if not caller.via_session:
        return Portal(request, state, _lang(request), signed_in=False)
    return Portal(request, state, _lang(request), signed_in=True, csrf=csrf_token(session_id))


Reader = Annotated[Portal, Depends(reader)]


def _query_url(request: Request, **changes: str | None) -> str:
    """This page's path with query parameters changed (None removes one)."""
    params = {k: v for k, v in request.query_params.items()}
    for key, value in changes.items():
        if value is None:
            params.pop(key, None)
        else:
            params[key] = value
    query = urlencode({k: v for k, v in params.items() if v != ""})
    return request.url.path + (f"?{query}" if query else "")


def render(
    portal: Portal,
    template: str,
    *,
    status_code: int = 200,
    title: str,
    active: str | None = None,
    footer: bool = True,
    **context: Any,
) -> HTMLResponse:
    """A page of the portal, with the frame's context and the page headers."""
    request = portal.request
    index: dict[str, Any] | None = None
    flagged: dict[str, list[str]] = {}
    conflicts: list[int] = []
    with portal.session() as session:
        if footer:
            index = queries.index_status(session=session)
            flagged = queries.flagged_departments(session=session)
            if template != "checkpoints.html":  # which shows them whole, first
                conflicts = queries.open_conflicts(session=session)
        names = catalogue.names_for(session=session, hashes=_hashes_in(context))
    zone_name = portal.state.settings.timezone
    zone = time_zone(zone_name)
    response = templates.TemplateResponse(
        request,
        template,
        {
            "t": portal.t,
            "lang": portal.lang,
            "html_lang": HTML_LANG[portal.lang],
            "title": title,
            "active": active,
            "nav": NAV,
            "signed_in": portal.signed_in,
            "csrf": portal.csrf,
            "index": index,
            # Departments whose names need their id beside them (events name theirs by name).
            "department_flags": flagged,
            # Block numbers with two hashes signed, not acknowledged: a banner on every page.
            "checkpoint_conflicts": conflicts,
            # What the catalogue names, checked, among the page's hashes (macro named).
            "names": names,
            "version": __version__,
            # Times are shown in this zone (the UTC instant on hover), named in the footer.
            "zone": zone,
            "zone_name": portal.t("footer.beijing") if zone_name == BEIJING else zone_name,
            "zone_offset": zone_offset(zone),
            "lang_urls": {lang: _query_url(request, lang=lang, cursor=None) for lang in LANGS},
            **context,
        },
        status_code=status_code,
        headers=PAGE_HEADERS,
    )
    if request.query_params.get("lang") in LANGS:
        response.set_cookie(
            LANG_COOKIE,
            portal.lang,
            max_age=365 * 86_400,
            path="/",
            samesite="lax",
            secure=request.url.scheme == "https",
        )
    return response


def _hashes_in(value: Any) -> Iterator[str]:
    """Every string in a page's context (its hashes among them), nested values included."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _hashes_in(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _hashes_in(item)
    elif isinstance(value, queries.Page):
        yield from _hashes_in(value.items)


def _error(portal: Portal, message: str, *, status_code: int) -> HTMLResponse:
    t = portal.t
    title = t("error.not_found") if status_code == 404 else t("error.title")
    return render(portal, "error.html", status_code=status_code, title=title, message=message)


def _opt(value: str | None) -> str | None:
    value = (value or "").strip()
    return value or None


def _listing(
    portal: Portal, cursor: str | None, fetch: Callable[[str | None], queries.Page]
) -> dict[str, Any]:
    """A list page's table and pager: the page ``fetch`` gives from ``cursor`` (empty, with the
    error shown above the table, when the query is refused) and the links to the next and the
    first page."""
    error = None
    page = queries.Page(items=[], next_cursor=None)
    try:
        page = fetch(_opt(cursor))
    except InputError as exc:
        error = portal.t("error.bad_input", detail=str(exc))
    request = portal.request
    return {
        "page": page,
        "error": error,
        "next_url": _query_url(request, cursor=page.next_cursor) if page.next_cursor else None,
        "first_url": _query_url(request, cursor=None) if _opt(cursor) else None,
    }


# --------------------------------------------------------------------------- sign-in


def _open_portal(request: Request) -> Portal:
    return Portal(request, _state(request), _lang(request), signed_in=False)


def _login_page(
    portal: Portal,
    *,
    target: str,
    failed: bool = False,
    read_only: bool = False,
    refused: bool = False,
    signed_out: bool = False,
    status_code: int = 200,
) -> HTMLResponse:
    return render(
        portal,
        "login.html",
        status_code=status_code,
        title=portal.t("login.title"),
        footer=False,
        target=target,
        failed=failed,
        read_only=read_only,
        refused=refused,
        signed_out=signed_out,
        open_reads=portal.state.settings.api_open_reads,
        session_idle_minutes=f"{portal.state.settings.portal_session_idle_seconds / 60:g}",
        session_hours=f"{portal.state.settings.portal_session_max_seconds / 3600:g}",
    )


@router.get("/login")
def login_form(request: Request, next: str | None = None, out: str | None = None) -> Response:
    portal = _open_portal(request)
    return _login_page(portal, target=_safe_target(next), signed_out=out is not None)


def _same_origin(request: Request) -> bool:
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        return origin is None
    return urlsplit(origin).netloc == request.headers.get("host")


async def _small_form(request: Request) -> dict[str, str] | None:
    """The url-encoded form of a sign-in or sign-out (first value of each field); None when
    the body is larger than such a form can be."""
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_LOGIN_BODY:
            return None
    try:
        fields = parse_qs(body.decode("utf-8", "replace"), max_num_fields=4)
    except ValueError:  # more fields than the form has
        fields = {}
    return {name: values[0].strip() for name, values in fields.items() if values}


def _sign_in(portal: Portal, key: str) -> str | None:
    """A new session for ``key`` if it is a read key (None for any other scope);
    ApiKeyError if the key is not a valid one."""
    settings = portal.state.settings
    with portal.session() as session:
        row = authenticate(session=session, key=key)
        if row.scope != "read":
            return None
        return open_session(
            session=session,
            key_id=row.id,
            now=int(time.time()),
            absolute=settings.portal_session_max_seconds,
        )


def _sign_in_failed(portal: Portal, error: ApiKeyError) -> None:
    count_failed_authentication(portal.request, portal.state, error)


@router.post("/login")
async def login(request: Request) -> Response:
    """Check the key (only read keys sign in) and open a portal session whose id goes into
    the cookie; failed attempts count against the client's address (api.deps)."""
    portal = _open_portal(request)
    admit_authentication(request, portal.state)  # 429 once the address is past its failures
    form = await _small_form(request)
    if form is None:
        return _login_page(portal, target="/", failed=True, status_code=413)
    key = form.get("key", "")
    target = _safe_target(form.get("next", "/"))
    if not _same_origin(request) or not key:
        return _login_page(portal, target=target, failed=True, status_code=400)
    try:
        session_id = await run_in_threadpool(_sign_in, portal, key)
    except ApiKeyError as exc:
        await run_in_threadpool(_sign_in_failed, portal, exc)  # 429 past the budget
        return _login_page(portal, target=target, failed=True, status_code=401)
    if session_id is None:
        return _login_page(portal, target=target, read_only=True, status_code=403)
    previous = presented_session(request, portal.state)
    if previous:  # a new session each sign-in: the old id, known or not, is ended
        await run_in_threadpool(_end, portal, previous)
    response = RedirectResponse(target, status_code=303, headers={"Cache-Control": "no-store"})
    response.set_cookie(
        session_cookie_name(request, portal.state.settings.trusted_proxies),
        session_id,
        max_age=portal.state.settings.portal_session_max_seconds,
        path="/",
        httponly=True,
        samesite="strict",
        secure=came_over_tls(request, portal.state.settings.trusted_proxies),
    )
    return response


def _end(portal: Portal, session_id: str) -> None:
    with portal.session() as session:
        end_session(session=session, session_id=session_id)


def _forget_cookie(response: Response, request: Request, state: ApiState) -> None:
    response.delete_cookie(
        session_cookie_name(request, state.settings.trusted_proxies),
        path="/",
        httponly=True,
        samesite="strict",
        secure=came_over_tls(request, state.settings.trusted_proxies),
    )


@router.post("/logout")
async def logout(request: Request) -> Response:
    """End the portal session: a same-origin POST carrying the session's CSRF token (a GET,
    or a forged form, ends nothing)."""
    portal = _open_portal(request)
    form = await _small_form(request)
    session_id = presented_session(request, portal.state) or ""
    if session_id:
        token = (form or {}).get("csrf", "")
        if not _same_origin(request) or not csrf_token_matches(session_id, token):
            return _login_page(portal, target="/", refused=True, status_code=403)
        await run_in_threadpool(_end, portal, session_id)
    response = RedirectResponse(
        "/login?out=1", status_code=303, headers={"Cache-Control": "no-store"}
    )
    _forget_cookie(response, request, portal.state)
    return response


def _sign_in_redirect(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, SignInRequiredError)
    target = "/login" + (f"?{urlencode({'next': exc.target})}" if exc.target != "/" else "")
    response = RedirectResponse(target, status_code=303, headers={"Cache-Control": "no-store"})
    if exc.bad_cookie:  # ended, expired or its key revoked: forget it
        _forget_cookie(response, request, _state(request))
    return response


# --------------------------------------------------------------------------- verify


@router.get("/")
def verify_page(portal: Reader, hash: str | None = None) -> Response:
    t = portal.t
    # The consortium trust file as GET /v1/consortium answers it, embedded in the page: the
    # offline check of a bundle sends no request. Without one (missing, damaged, not this
    # deployment's, or no node reached yet) the page says why and asks for a file.
    try:
        trust, trust_problem = portal.state.consortium_trust(), None
    except LedgerError as exc:
        trust, trust_problem = None, str(exc)
    return render(
        portal,
        "verify.html",
        title=t("verify.title"),
        active="verify",
        prefill=(hash or "").strip()[:80],
        script_strings=t.script_strings(),
        consortium_trust=trust,
        trust_problem=trust_problem,
    )


# --------------------------------------------------------------------------- datasets


@router.get("/datasets")
def datasets_page(portal: Reader, find: str | None = None, cursor: str | None = None) -> Response:
    t = portal.t
    if _opt(find):
        try:
            with portal.session() as session:
                dataset = queries.resolve_dataset(session=session, text=find or "")
        except queries.NotFoundError:
            return _error(portal, t("error.unknown_dataset"), status_code=404)
        except InputError as exc:
            return _error(portal, t("error.bad_input", detail=str(exc)), status_code=400)
        return RedirectResponse(f"/datasets/{dataset}", status_code=303)
    with portal.session() as session:
        listing = _listing(
            portal,
            cursor,
            lambda after: queries.list_datasets(session=session, cursor=after, limit=PAGE_SIZE),
        )
    return render(portal, "datasets.html", title=t("datasets.title"), active="datasets", **listing)


@router.get("/datasets/{dataset}")
def dataset_page(portal: Reader, dataset: str) -> Response:
    t = portal.t
    with portal.session() as session:
        try:
            dataset_id = queries.resolve_dataset(session=session, text=dataset)
            detail = queries.get_dataset(session=session, dataset_id=dataset_id)
        except queries.NotFoundError:
            return _error(portal, t("error.unknown_dataset"), status_code=404)
        except InputError as exc:
            return _error(portal, t("error.bad_input", detail=str(exc)), status_code=400)
    graph = layout(detail["versions"], detail["lineage"])
    numbers = {v["id"]: n for n, v in enumerate(detail["versions"], start=1)}
    return render(
        portal,
        "dataset.html",
        title=f"{t('dataset.title')} {_short(detail['id'])}",
        active="datasets",
        dataset=detail,
        graph=graph,
        numbers=numbers,
    )


# --------------------------------------------------------------------------- agreements, commitments


def _departments(session: Session) -> list[dict[str, Any]]:
    return queries.list_departments(session=session, limit=queries.MAX_PAGE).items


def _history(session: Session, subject: str) -> list[dict[str, Any]]:
    return queries.list_events(session=session, subject=subject, limit=queries.MAX_PAGE).items


def _subject_pages(
    kind: str,
    statuses: tuple[str, ...],
    lister: Callable[..., queries.Page],
    getter: Callable[..., dict[str, Any]],
    history: Callable[[Session, str], list[dict[str, Any]]] = _history,
) -> None:
    """Add the pages of agreements or commitments (``kind``): ``/{kind}s``, the board filtered
    by status and department, and ``/{kind}s/{id}``, one of them with its event ``history``."""

    def board_page(
        portal: Reader,
        status: str | None = None,
        department: str | None = None,
        cursor: str | None = None,
    ) -> Response:
        t = portal.t
        with portal.session() as session:
            departments = _departments(session)
            listing = _listing(
                portal,
                cursor,
                lambda after: lister(
                    session=session,
                    status=_opt(status),
                    cursor=after,
                    limit=PAGE_SIZE,
                    department=refs.hex_id(department or "", what="department")
                    if _opt(department)
                    else None,
                ),
            )
        return render(
            portal,
            f"{kind}s.html",
            title=t(f"{kind}s.title"),
            active=f"{kind}s",
            statuses=statuses,
            departments=departments,
            filters={"status": _opt(status) or "", "department": _opt(department) or ""},
            **listing,
        )

    def subject_page(portal: Reader, subject: str) -> Response:
        t = portal.t
        try:
            subject_id = "0x" + refs.subject_id(subject, what=f"{kind} id").hex()
        except InputError:
            return _error(portal, t(f"error.unknown_{kind}"), status_code=404)
        with portal.session() as session:
            try:
                detail = getter(session=session, **{f"{kind}_id": subject_id})
            except queries.NotFoundError:
                return _error(portal, t(f"error.unknown_{kind}"), status_code=404)
            events = history(session, subject_id)
            context: dict[str, Any] = {kind: detail, "events": events}
            if kind == "agreement":
                context["receipt_flags"] = _receipt_flags(session, subject_id)
        return render(
            portal,
            f"{kind}.html",
            title=f"{t(kind + '.title')} {_short(subject_id)}",
            active=f"{kind}s",
            **context,
        )

    router.add_api_route(f"/{kind}s", board_page, methods=["GET"], name=f"{kind}s_page")
    router.add_api_route(
        f"/{kind}s/{{subject}}", subject_page, methods=["GET"], name=f"{kind}_page"
    )


def _receipt_flags(session: Session, agreement_id: str) -> dict[int, list[str]]:
    """What the review flags in each of an agreement's receipts (by index), all of them as
    the page lists them all."""
    flags: dict[int, list[str]] = {}
    cursor: str | None = None
    while True:
        page = queries.review_receipts(
            session=session, agreement=agreement_id, cursor=cursor, limit=queries.MAX_PAGE
        )
        flags.update((item["index"], item["flags"]) for item in page.items)
        cursor = page.next_cursor
        if cursor is None:
            return flags


def _agreement_history(session: Session, agreement_id: str) -> list[dict[str, Any]]:
    """An agreement's events and the proposals of its amendments (accepted or not)."""
    return queries.agreement_events(session=session, agreement_id=agreement_id)


_subject_pages(
    "agreement",
    queries.AGREEMENT_STATUSES,
    queries.list_agreements,
    queries.get_agreement,
    _agreement_history,
)
_subject_pages(
    "commitment", queries.COMMITMENT_STATUSES, queries.list_commitments, queries.get_commitment
)


# --------------------------------------------------------------------------- governance


@router.get("/proposals")
def proposals_page(
    portal: Reader, status: str | None = None, cursor: str | None = None
) -> Response:
    t = portal.t
    with portal.session() as session:
        listing = _listing(
            portal,
            cursor,
            lambda after: queries.list_proposals(
                session=session, status=_opt(status), cursor=after, limit=PAGE_SIZE
            ),
        )
    return render(
        portal,
        "proposals.html",
        title=t("proposals.title"),
        active="proposals",
        statuses=queries.PROPOSAL_STATUSES,
        filters={"status": _opt(status) or ""},
        **listing,
    )


@router.get("/proposals/{proposal}")
def proposal_page(portal: Reader, proposal: str) -> Response:
    t = portal.t
    if not PROPOSAL_ID.fullmatch(proposal):
        return _error(portal, t("error.unknown_proposal"), status_code=404)
    with portal.session() as session:
        try:
            detail = queries.get_proposal(session=session, proposal_id=int(proposal))
        except queries.NotFoundError:
            return _error(portal, t("error.unknown_proposal"), status_code=404)
        events = queries.proposal_events(session=session, proposal_id=int(proposal))
    return render(
        portal,
        "proposal.html",
        title=f"{t('proposal.title')} #{detail['id']}",
        active="proposals",
        proposal=detail,
        events=events,
    )


# --------------------------------------------------------------------------- audit trail


@functools.cache
def event_types() -> tuple[tuple[str, tuple[str, ...]], ...]:
    """The events each contract can emit, from the committed ABIs (for the type filter)."""
    return tuple(
        (name, tuple(sorted(e["name"] for e in load_artifact(name).abi if e["type"] == "event")))
        for name in CONTRACTS
    )


def subject_link(event: Mapping[str, Any]) -> str | None:
    """The portal page of an event's subject, when the portal has one."""
    name, subject, args = event["event"], event["subject_id"], event["args"]
    if not subject:
        return None
    if name.startswith("Agreement") or name == "AccessRecorded":
        return f"/agreements/{subject}"
    if name.startswith("Commitment") or name == "ProgressReported":
        return f"/commitments/{subject}"
    if name == "DatasetRegistered":
        return f"/datasets/{subject}"
    dataset = args.get("datasetId")
    if name.startswith("Version") and isinstance(dataset, str) and subject is not None:
        version = version_id(bytes.fromhex(dataset[2:]), bytes.fromhex(subject[2:]))
        return f"/datasets/{dataset}#v-0x{version.hex()}"
    return None


@router.get("/audit")
def audit_page(
    portal: Reader,
    department: str | None = None,
    type: str | None = None,
    since: str | None = None,
    until: str | None = None,
    cursor: str | None = None,
    limit: str | None = None,
) -> Response:
    t = portal.t
    size = (
        int(limit)
        if limit and limit.isdigit() and 1 <= int(limit) <= queries.MAX_PAGE
        else PAGE_SIZE
    )
    given = {
        "department": _opt(department),
        "type": _opt(type),
        "since": _opt(since),
        "until": _opt(until),
    }
    with portal.session() as session:
        departments = _departments(session)
        listing = _listing(
            portal,
            cursor,
            lambda after: queries.list_events(
                session=session,
                cursor=after,
                limit=size,
                **event_filters(
                    department=given["department"],
                    event_type=given["type"],
                    since=given["since"],
                    until=given["until"],
                ),
            ),
        )
    csv_query = urlencode({"format": "csv", **{k: v for k, v in given.items() if v}})
    return render(
        portal,
        "audit.html",
        title=t("audit.title"),
        active="audit",
        departments=departments,
        event_types=event_types(),
        filters={k: v or "" for k, v in given.items()},
        csv_url=f"/v1/audit/events?{csv_query}",
        subject_link=subject_link,
        tabs=AUDIT_TABS,
        **listing,
    )


def _review_filters(flagged: str | None, agreement: str | None) -> dict[str, Any]:
    """The review's filters as given (``flagged=1``: flagged receipts only; ``agreement``: one
    agreement's, by its 0x id; InputError for a malformed one)."""
    given = _opt(agreement)
    return {
        "flagged_only": _opt(flagged) == "1",
        "agreement": "0x" + refs.subject_id(given, what="agreement id").hex() if given else None,
    }


@router.get("/audit/receipts")
def receipts_page(
    portal: Reader,
    flagged: str | None = None,
    agreement: str | None = None,
    cursor: str | None = None,
) -> Response:
    """Every access receipt beside its agreement, with what the review flags
    (:func:`ledger.db.queries.review_receipts`)."""
    t = portal.t
    given = {"flagged": "1" if _opt(flagged) == "1" else "", "agreement": _opt(agreement) or ""}
    with portal.session() as session:
        listing = _listing(
            portal,
            cursor,
            lambda after: queries.review_receipts(
                session=session,
                cursor=after,
                limit=PAGE_SIZE,
                **_review_filters(flagged, agreement),
            ),
        )
    csv_query = urlencode({k: v for k, v in given.items() if v})
    return render(
        portal,
        "receipts.html",
        title=t("receipts.title"),
        active="audit",
        tabs=AUDIT_TABS,
        flags=queries.RECEIPT_FLAGS,
        filters=given,
        csv_url="/audit/receipts.csv" + (f"?{csv_query}" if csv_query else ""),
        **listing,
    )


@router.get("/audit/webhooks")
def webhooks_page(
    portal: Reader, status: str | None = "dead", cursor: str | None = None
) -> Response:
    """The webhook outbox of this gateway's department (:mod:`ledger.watch`): the dead letters
    unless another status (or all: an empty one) is asked for."""
    t = portal.t
    chosen = _opt(status)
    try:
        watchers = portal.state.watchers
    except LedgerError as exc:  # no operator key here: this gateway watches for no department
        return _error(portal, t("webhooks.unavailable", detail=str(exc)), status_code=503)

    def fetch(after: str | None) -> queries.Page:
        page = watchers.messages(status=chosen, cursor=after, limit=PAGE_SIZE)
        shown = [{**m, "receiver": urlsplit(m["url"]).hostname or ""} for m in page.items]
        return queries.Page(items=shown, next_cursor=page.next_cursor)

    listing = _listing(portal, cursor, fetch)
    return render(
        portal,
        "webhooks.html",
        title=t("webhooks.title"),
        active="audit",
        tabs=AUDIT_TABS,
        statuses=("pending", "delivered", "dead"),
        filters={"status": chosen or ""},
        watching=watchers.exist(),
        **listing,
    )


def _not_signing(witness: Witness) -> dict[str, str] | None:
    """Why this gateway signs no checkpoint, in the page's words: ``code`` names the case
    (``no-cosigners``, ``not-cosigner``, or ``other`` with the witness's own sentence as
    ``detail``); None when it signs."""
    why = witness.why_not_signing()
    if why is None:
        return None
    if witness.threshold is None:
        return {"code": "no-cosigners", "detail": why}
    if witness.signer is None:
        return {"code": "not-cosigner", "detail": why}
    return {"code": "other", "detail": why}


def _cosigner(witness: Witness, address: str, time: int) -> dict[str, Any]:
    """One cosignature of a checkpoint's JSON form with the department and code the trust
    file names for its address (the form carries the address and the time only)."""
    trusted = witness.trust.checkpoints.cosigner(address) if witness.trust.checkpoints else None
    return {
        "address": address,
        "time": time,
        "department": trusted.department if trusted else None,
        "code": trusted.code if trusted else None,
    }


@router.get("/audit/checkpoints")
def checkpoints_page(portal: Reader) -> Response:
    """This gateway's cosigned checkpoints (:mod:`ledger.witness`, docs/CHECKPOINTS.md): the
    open conflicts first, the latest checkpoint the trust file's threshold cosigned, the
    acknowledged conflicts, the peers it collects from, and why it signs none when it does not.
    Public data as ``/v1/checkpoints`` serves it; what a peer sent is only shown (escaped)."""
    t = portal.t
    try:  # without the node, what it holds (ApiState.held_witness)
        witness, node_down = portal.state.held_witness()
    except LedgerError as exc:  # no node nor index, no deployment, or a manifest that fails
        return _error(portal, t("checkpoints.unavailable", detail=str(exc)), status_code=503)
    latest = witness.latest()
    if latest is not None:
        latest = {
            "number": latest["number"],
            "hash": latest["hash"],
            "cosigners": [
                _cosigner(witness, c["address"], c["time"]) for c in latest["cosignatures"]
            ],
        }
    conflicts = witness.conflicts()
    trusted = witness.trust.checkpoints
    own = trusted.cosigner(witness.signer.address) if trusted and witness.signer else None
    with portal.session() as session:
        departments = {d["id"].lower(): d for d in _departments(session)}
    return render(
        portal,
        "checkpoints.html",
        title=t("checkpoints.title"),
        active="audit",
        tabs=AUDIT_TABS,
        threshold=witness.threshold,
        cosigners=len(trusted.cosigners) if trusted else 0,
        interval=witness.interval,
        own_code=own.code if own else None,
        not_signing=_not_signing(witness),
        latest=latest,
        open_conflicts=[c for c in conflicts if c["acknowledged_at"] is None],
        acknowledged_conflicts=[c for c in conflicts if c["acknowledged_at"] is not None],
        peers=witness.peer_status(),
        departments=departments,
        node_down=node_down,
    )


@router.get("/audit/receipts.csv")
def receipts_csv(
    portal: Reader, flagged: str | None = None, agreement: str | None = None
) -> Response:
    """The review as CSV (the page's filters, every page of it): one row per receipt."""
    try:
        filters = _review_filters(flagged, agreement)
    except InputError as exc:
        return _error(portal, portal.t("error.bad_input", detail=str(exc)), status_code=400)
    with portal.session() as session:
        try:
            text = queries.export_receipts(session=session, max_rows=MAX_CSV_ROWS, **filters)
        except queries.ExportTooLargeError as exc:
            return _error(portal, portal.t("error.bad_input", detail=str(exc)), status_code=400)
    return Response(
        text,
        media_type="text/csv; charset=utf-8",
        headers={
            **PAGE_HEADERS,
            "Content-Disposition": 'attachment; filename="xietong-access-receipts.csv"',
        },
    )


# --------------------------------------------------------------------------- wiring


def install(app: FastAPI) -> None:
    """Mount the portal's pages and static assets on ``app``."""
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.add_exception_handler(SignInRequiredError, _sign_in_redirect)
    app.include_router(router)
