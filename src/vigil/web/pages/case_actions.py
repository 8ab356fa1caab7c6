"""The case page's forms: one form, one service call. A refusal comes back on the case page
with an error summary, the message next to the field it concerns and what was typed kept; the
decisions that matter most (submit, authorise) show "check your answers" first.

Each form validates with the application layer's request schemas (``vigil.app.cases``), the
same as the API, so a value the API refuses is refused here too, naming the field."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from vigil.app.context import AppContext
from vigil.cases.policy import Action
from vigil.errors import VigilError
from vigil.http.deps import CaseId, Principal, RequirePolicy, check_step_up, get_ctx
from vigil.http.errors import status_for
from vigil.web import forms
from vigil.web.layout import check_in_words
from vigil.web.pages.case import ACTION_OF, CONFIRM, case_page_response, confirm_page

router = APIRouter(include_in_schema=False)


def _check_authorise(form: Any) -> None:
    forms.text(form, "conditions", required=True)
    if forms.text(form, "start") or forms.text(form, "end"):
        forms.utc_time(form, "start")
        forms.utc_time(form, "end")


#: field checks run before the "check your answers" page, so it never shows a bad value
CHECKS: dict[str, Any] = {"authorise": _check_authorise}


@router.post("/cases/{case_id}/actions/{action}")
async def case_action(
    request: Request,
    case_id: CaseId,
    action: str,
    principal: Principal = RequirePolicy(Action.READ),
    ctx: AppContext = Depends(get_ctx),
) -> Response:
    form = await request.form()
    values = {k: v for k, v in form.items() if isinstance(v, str) and k != "csrf_token"}
    handler = ACTIONS.get(action)
    if handler is None:
        return case_page_response(
            request,
            principal,
            ctx,
            case_id,
            errors={"main-content": f"There is no action called '{action}'"},
            status=404,
        )
    urgent = action == "authorise" and forms.flag(form, "urgent")
    step = forms.text(form, "step")
    check_step_up(ctx, principal, action, f"/cases/{case_id}")
    try:
        # the role gate of the API route; rank, scope and state are the workflow's
        check_in_words(
            ctx.cases.policy,
            principal.actor,
            Action.AUTHORISE_URGENT if urgent else ACTION_OF[action],
        )
        if step == "change":
            return case_page_response(
                request, principal, ctx, case_id, failed=action, values=values
            )
        if action in CONFIRM and step != "confirm":
            CHECKS.get(action, lambda f: None)(form)  # field errors before the check page
            return confirm_page(request, principal, ctx, case_id, action, values)
        handler(ctx, principal, case_id, form)
    except VigilError as exc:
        field = getattr(exc, "field", "")
        target = f"{action}-{field}" if field else f"form-{action}"
        message = str(exc)
        return case_page_response(
            request,
            principal,
            ctx,
            case_id,
            errors={target: message[:1].upper() + message[1:]},
            failed=action,
            values=values,
            status=status_for(exc),
        )
    done = "authorise_urgent" if urgent else action
    return RedirectResponse(f"/cases/{case_id}?flash={done}", status_code=303)


def _act_submit(ctx: AppContext, p: Principal, case_id: int, form: Any) -> None:
    ctx.cases.submit(p.actor, case_id)


def _act_consult(ctx: AppContext, p: Principal, case_id: int, form: Any) -> None:
    from vigil.app.cases import ConsultationIn, record_consultation

    body = forms.validated(
        ConsultationIn,
        form,
        "consultee",
        "position",
        "reasons",
        confirm_no_personal_data=forms.flag(form, "confirm_no_personal_data"),
    )
    record_consultation(ctx, p.actor, case_id, body)


def _act_assess(ctx: AppContext, p: Principal, case_id: int, form: Any) -> None:
    from vigil.app.assessment import draft_assessment, latest_content

    if forms.text(form, "mode") == "draft":
        draft_assessment(ctx, p.actor, case_id)
        return
    view = ctx.cases.get_case(p.actor, case_id, purpose="complete impact assessment")
    content = forms.cia_from_form(form, latest_content(view), case_id)
    if content.get("reviewer"):  # the reviewer's role is their account's, not what a form says
        chosen = {u.id: u for u in ctx.identity.list_users()}.get(content["reviewer"]["user_id"])
        if chosen is None:
            raise forms.FormError("Choose the reviewing officer from the list", "reviewer_user_id")
        content["reviewer"]["role"] = chosen.role.value
    ctx.cases.attach_impact_assessment(p.actor, case_id, content)


def _act_review(ctx: AppContext, p: Principal, case_id: int, form: Any) -> None:
    ctx.cases.review_impact_assessment(p.actor, case_id, forms.text(form, "notes"))


def _act_request(ctx: AppContext, p: Principal, case_id: int, form: Any) -> None:
    ctx.cases.request_authorisation(p.actor, case_id)


def _act_authorise(ctx: AppContext, p: Principal, case_id: int, form: Any) -> None:
    from vigil.app.cases import AuthoriseIn, authorise

    body = forms.validated(
        AuthoriseIn,
        form,
        "conditions",
        "override_reason",
        start=forms.utc_time(form, "start") if forms.text(form, "start") else None,
        end=forms.utc_time(form, "end") if forms.text(form, "end") else None,
        urgent=forms.flag(form, "urgent"),
    )
    authorise(ctx, p.actor, case_id, body)


def _act_reasons(method: str) -> Any:
    def act(ctx: AppContext, p: Principal, case_id: int, form: Any) -> None:
        from vigil.app.cases import ReasonsIn

        body = forms.validated(ReasonsIn, form, "reasons")
        getattr(ctx.cases, method)(p.actor, case_id, body.reasons)

    return act


def _act_notify(ctx: AppContext, p: Principal, case_id: int, form: Any) -> None:
    from vigil.app.cases import MessageIn

    body = forms.validated(MessageIn, form, "message")
    ctx.cases.notify_oversight(p.actor, case_id, body.message)


def _act_activate(ctx: AppContext, p: Principal, case_id: int, form: Any) -> None:
    ctx.cases.activate(p.actor, case_id)


def _act_extend(ctx: AppContext, p: Principal, case_id: int, form: Any) -> None:
    from vigil.app.cases import ExtendIn, extend

    extend(
        ctx,
        p.actor,
        case_id,
        forms.validated(ExtendIn, form, "hours", "reasons", "override_reason"),
    )


def _act_debrief(ctx: AppContext, p: Principal, case_id: int, form: Any) -> None:
    from vigil.app.cases import DebriefIn, record_debrief

    body = forms.validated(
        DebriefIn,
        form,
        "what_happened",
        "incidents",
        "complaints",
        "community_feedback",
        confirm_no_personal_data=forms.flag(form, "confirm_no_personal_data"),
    )
    record_debrief(ctx, p.actor, case_id, body)


def _act_close(ctx: AppContext, p: Principal, case_id: int, form: Any) -> None:
    from vigil.app.cases import NotesIn

    ctx.cases.close(p.actor, case_id, forms.validated(NotesIn, form, "notes").notes)


ACTIONS: dict[str, Any] = {
    "submit": _act_submit,
    "consult": _act_consult,
    "assess": _act_assess,
    "review_assessment": _act_review,
    "request_authorisation": _act_request,
    "authorise": _act_authorise,
    "refuse": _act_reasons("refuse"),
    "ratify": _act_reasons("ratify_urgent"),
    "withdraw": _act_reasons("withdraw"),
    "notify_oversight": _act_notify,
    "activate": _act_activate,
    "extend": _act_extend,
    "cancel": _act_reasons("cancel"),
    "debrief": _act_debrief,
    "close": _act_close,
}
