"""Staff pages for surveys: a shelter's poster, a resident's slip, answers entered by staff."""

import uuid

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from access import policy
from access import surveys as survey_access
from common.errors import ApplicationError
from common.permissions import role_required
from common.qr import qr_svg
from shelters.models import Shelter
from surveys import selectors, services
from surveys.answering import links
from surveys.answering.forms import form_context, raw_answers_from_post
from surveys.models import ResponseChannel


def _survey_shelter(request, shelter_id: int) -> Shelter:
    shelter = get_object_or_404(Shelter, pk=shelter_id)
    if not policy.can_run_surveys_at(request.user, shelter):
        raise PermissionDenied
    return shelter


def _current_version_or_404():
    version = selectors.current_version()
    if version is None:
        raise Http404(_("No survey is being asked at the moment."))
    return version


@role_required
def poster(request, shelter_id: int):
    """A4 poster with the shelter's QR code: residents answer on their phones, without logging in."""
    shelter = _survey_shelter(request, shelter_id)
    version = _current_version_or_404()
    url = request.build_absolute_uri(links.survey_path(shelter))
    return render(
        request,
        "surveys/poster.html",
        {"shelter": shelter, "version": version, "survey_url": url, "qr": qr_svg(url)},
    )


@role_required
@require_http_methods(["GET", "POST"])
def slip(request, evacuee_id: int):
    """A resident's personal slip: their token, and a QR code that carries it to their shelter's survey."""
    if not policy.may_see_personal_data(request.user):
        raise PermissionDenied
    slip = survey_access.survey_slip_for(request.user, evacuee_id, purpose="page.survey_slip")
    if request.method == "POST":
        services.survey_token_issue(evacuee=slip.evacuee, actor=request.user)
        messages.success(request, _("A new slip was issued; any earlier slip of this person no longer works."))
        return redirect("surveys:slip", evacuee_id=slip.evacuee.pk)
    url = ""
    if slip.token is not None and slip.shelter is not None:
        url = request.build_absolute_uri(links.survey_path(slip.shelter, slip.token.token))
    return render(
        request,
        "surveys/slip.html",
        {
            "evacuee": slip.evacuee,
            "token": slip.token,
            "shelter": slip.shelter,
            "survey_url": url,
            "qr": qr_svg(url) if url else "",
        },
    )


@role_required
@require_http_methods(["GET", "POST"])
def proxy_entry(request, shelter_id: int):
    """Staff enter a resident's answers (from paper or by asking them) on a tablet."""
    shelter = _survey_shelter(request, shelter_id)
    respondents = survey_access.proxy_respondents(user=request.user, shelter=shelter, purpose="page.survey_proxy")
    raw_answers: dict = {}
    errors: dict[str, list[str]] = {}
    chosen = ""
    submission_key = uuid.uuid4().hex
    version = None
    status = 200
    if request.method == "POST":
        raw_answers = raw_answers_from_post(request.POST)
        submission_key = request.POST.get("submission_key", "")
        chosen = request.POST.get("respondent", "")
        version = selectors.answerable_version(version_id=request.POST.get("version", ""))
        respondent = None
        if chosen:
            respondent = next((person for person in respondents if str(person.pk) == chosen), None)
            if respondent is None:
                errors["respondent"] = [_("Choose one of this shelter's residents, or no one.")]
        if version is None:
            messages.error(request, _("This survey version is no longer available; enter the answers again."))
            version = _current_version_or_404()
            raw_answers, submission_key = {}, uuid.uuid4().hex
        elif not errors:
            try:
                services.response_submit(
                    version=version,
                    shelter=shelter,
                    raw_answers=raw_answers,
                    channel=ResponseChannel.PROXY,
                    submission_key=f"proxy:{submission_key}" if submission_key else "",
                    respondent=respondent,
                    entered_by=request.user,
                )
            except ApplicationError as error:
                errors.update(error.fields)
                messages.error(request, str(error.message))
            else:
                messages.success(request, _("The answers were saved."))
                return redirect("surveys:proxy", shelter_id=shelter.pk)
        else:
            errors.update(_answer_errors(version, raw_answers))
            messages.error(request, _("Check the answers marked."))
        status = 400
    version = version or _current_version_or_404()
    context = form_context(version, raw_answers, errors)
    context.update(
        {
            "shelter": shelter,
            "respondents": respondents,
            "chosen": chosen,
            "respondent_errors": errors.get("respondent", []),
            "submission_key": submission_key,
        }
    )
    return render(request, "surveys/proxy.html", context, status=status)


def _answer_errors(version, raw_answers) -> dict[str, list[str]]:
    """The answers' own errors, to show them together with an error in another part of the form."""
    try:
        services.submission_clean(version=version, raw_answers=raw_answers)
    except ApplicationError as error:
        return error.fields
    return {}
