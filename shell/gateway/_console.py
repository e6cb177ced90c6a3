"""The web console the gateway serves: server-rendered pages for an agency's clerks (its
inbox, what it sent and each recipient's state) and for operators (the bus's health).

A clerk signs in with the agency system's token; the console keeps it in an HttpOnly,
SameSite=Strict cookie, so a form another site posts carries no token. Every page reads
what the API reads (the same inbox, the same tracking store), so the console and an
agency system never disagree on what is waiting.
"""

import datetime as dt
import functools
import urllib.parse
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, PackageLoader, select_autoescape

from docbus import DocbusError
from docbus.directory import Directory
from schemas import VN_TIME, ImpossibleTransition, top_level_of
from shell._tracked import document_json
from shell.gateway._labels import PRIORITY_LABELS, STATUS_LABELS, state_label
from shell.gateway._overview import bus_overview
from shell.gateway._state import GatewayState
from shell.gateway._tokens import Caller

__all__ = ["console_routes"]

COOKIE = "docbus_console"
#: What a clerk may answer from the inbox page (the rest is done in the agency's own system).
_CLERK_ANSWERS = ("03", "02")
_SENT_SHOWN = 30


def _templates() -> Environment:
    env = Environment(
        loader=PackageLoader("shell.gateway", "templates"),
        autoescape=select_autoescape(("html",)),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["vn_time"] = _vn_time
    env.globals.update(
        STATUS_LABELS=STATUS_LABELS, PRIORITY_LABELS=PRIORITY_LABELS, state_label=state_label
    )
    return env


def _vn_time(value: str | dt.datetime | None) -> str:
    """A moment as a Vietnamese clerk reads it: day/month/year hour:minute, Vietnam time."""
    if value is None:
        return ""
    moment = dt.datetime.fromisoformat(value) if isinstance(value, str) else value
    if moment.year >= 9999:
        return "—"
    return moment.astimezone(VN_TIME).strftime("%d/%m/%Y %H:%M")


def console_routes(gateway: GatewayState) -> APIRouter:
    """The console's pages under ``/console``, left out of the API's OpenAPI document."""
    routes = APIRouter(prefix="/console", include_in_schema=False)
    templates = _templates()

    def page(template: str, status: int = 200, **values: Any) -> HTMLResponse:
        html = templates.get_template(template).render(**values)
        return HTMLResponse(html, status_code=status)

    def signed_in(request: Request) -> Caller | None:
        """Who the session's token acts for (its rate limit applies), or None."""
        token = request.cookies.get(COOKIE, "")
        who = gateway.tokens.caller(token) if token else None
        if who is not None:
            gateway.admit(token)  # pages cost more than API calls: the same budget
        return who

    def to_sign_in() -> Response:
        return RedirectResponse("/console/sign-in", status_code=303)

    @routes.get("/sign-in")
    async def sign_in_form() -> HTMLResponse:
        return page("sign_in.html")

    @routes.post("/sign-in")
    async def sign_in(request: Request) -> Response:
        token = (await _form(request)).get("token", "").strip()
        if not token or gateway.tokens.caller(token) is None:
            return page("sign_in.html", 401, error="Mã truy cập không đúng hoặc đã bị thu hồi.")
        answer = RedirectResponse("/console", status_code=303)
        answer.set_cookie(COOKIE, token, httponly=True, samesite="strict", path="/console")
        return answer

    @routes.post("/sign-out")
    async def sign_out() -> Response:
        answer = to_sign_in()
        answer.delete_cookie(COOKIE, path="/console")
        return answer

    @routes.get("")
    async def home(request: Request) -> Response:
        who = signed_in(request)
        if who is None:
            return to_sign_in()
        now = dt.datetime.now(dt.UTC)
        if who.role == "operator":
            assert gateway.tracker is not None
            overview = await bus_overview(
                gateway.settings,
                gateway.tracker.store,
                now,
                router_group=gateway.settings.group_id("router"),
            )
            return page(
                "operator.html",
                who=who,
                overview=overview,
                directory=gateway.directory,
                agencies_open=len(gateway.directory.open_at(now.astimezone(VN_TIME).date())),
            )
        return page("agency.html", who=who, **await _agency_view(gateway, who, now))

    @routes.post("/inbox/{delivery}/status")
    async def answer(delivery: str, request: Request) -> Response:
        who = signed_in(request)
        if who is None or who.role != "agency":
            return to_sign_in()
        form = await _form(request)
        code, description = form.get("status_code", ""), form.get("description", "")[:500]
        if code == "02" and not description.strip():
            return page("message.html", 422, who=who, message="Từ chối cần ghi rõ lý do.")
        try:
            inbox = await gateway.inbox(who.agency)
            if code not in _CLERK_ANSWERS or inbox.get(delivery) is None:
                gone = "Văn bản này không còn chờ xử lý."
                return page("message.html", 404, who=who, message=gone)
            await inbox.answer(delivery, code, description or STATUS_LABELS[code])
        except ImpossibleTransition as exc:
            return page("message.html", 409, who=who, message=str(exc))
        except DocbusError as exc:  # the bus is unreachable: nothing was answered
            return page("message.html", 503, who=who, message=f"Chưa gửi được: {exc}")
        gateway.metrics.statuses_posted.labels(code).inc()
        return RedirectResponse("/console", status_code=303)

    @routes.get("/documents/{document_id:path}")
    async def timeline(document_id: str, request: Request) -> Response:
        who = signed_in(request)
        if who is None:
            return to_sign_in()
        assert gateway.tracker is not None
        state = document_json(gateway.tracker, document_id, dt.datetime.now(dt.UTC))
        parties = set()
        if state is not None:
            parties = {top_level_of(state["sender"]), *(r["agency"] for r in state["recipients"])}
        if state is None or (who.role != "operator" and who.agency not in parties):
            return page("message.html", 404, who=who, message="Không tìm thấy văn bản này.")
        return page(
            "document.html",
            who=who,
            document=state,
            name=functools.partial(_party_name, gateway.directory),
        )

    return routes


async def _agency_view(gateway: GatewayState, who: Caller, now: dt.datetime) -> dict[str, Any]:
    """The agency page's values: what waits in its inbox, what it sent and where it stands."""
    problems: list[str] = []
    waiting: list[Any] = []
    try:
        waiting = await (await gateway.inbox(who.agency)).pending(0, 50)
    except DocbusError as exc:
        problems.append(f"Không đọc được hộp thư: {exc}")
    assert gateway.tracker is not None
    store = gateway.tracker.store
    sent = []
    for row in store.sent_by(who.agency, _SENT_SHOWN):
        found = document_json(gateway.tracker, row.document_id, now)
        if found is not None:
            sent.append(found)
    return {
        "waiting": waiting,
        "sent": sent,
        "overdue": sum(r["overdue"] for d in sent for r in d["recipients"]),
        "problems": problems,
        "name": functools.partial(_party_name, gateway.directory),
        "answers": _CLERK_ANSWERS,
    }


def _party_name(directory: Directory, code: str) -> str:
    """The name of the agency ``code`` belongs to (its latest holder), or ``code`` itself."""
    try:
        held = directory.history(directory.canonical(top_level_of(code)))
    except DocbusError:
        return code
    return held[-1].name if held else code


async def _form(request: Request) -> dict[str, str]:
    """A posted HTML form's fields (the first value of each)."""
    fields = urllib.parse.parse_qs((await request.body()).decode("utf-8", "replace"))
    return {name: values[0] for name, values in fields.items()}
