"""The survey residents answer on their own phones, without logging in (the poster's QR code).

Only the shelter's signed key opens it, and nothing here ever returns an answer: the page writes
through `surveys.services.response_submit` and then thanks, showing none of what was answered.
A personal token (from a resident's slip) links the answers to that resident; it never reveals
whose it is.
"""

import uuid

from django.conf import settings
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from access import surveys as survey_access
from access.consent import current_context
from common.errors import ApplicationError
from consent import asking
from consent.models import subject_of
from shelters.models import Shelter
from surveys import selectors, services
from surveys.answering import links, ratelimit
from surveys.answering.forms import form_context, raw_answers_from_post
from surveys.models import ResponseChannel


def _shelter_from_key(key: str) -> Shelter:
    shelter_id = links.shelter_id_from_key(key)
    shelter = Shelter.objects.filter(pk=shelter_id).first() if shelter_id else None
    if shelter is None:
        raise Http404
    return shelter


def _client_ip(request) -> str:
    # REMOTE_ADDR only: a forwarded-for header is the client's to forge. Behind a reverse proxy,
    # the proxy must set REMOTE_ADDR (e.g. daphne's --proxy-headers).
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def _rate_limited(request, key: str) -> bool:
    """Over the address's limit, or else over the shelter poster's.

    A POST the address's limit refuses is not counted against the shelter's: otherwise one
    address hammering the form would close it for every resident of the shelter.
    """
    window = settings.SURVEY_RATE_LIMIT_WINDOW_SECONDS
    if not ratelimit.allow(
        scope="survey-ip", ident=_client_ip(request), limit=settings.SURVEY_RATE_LIMIT_PER_IP, window_seconds=window
    ):
        return True
    return not ratelimit.allow(
        scope="survey-shelter", ident=key, limit=settings.SURVEY_RATE_LIMIT_PER_SHELTER, window_seconds=window
    )


def _token_error(token_text: str, shelter: Shelter):
    """(respondent, error message): the same message for unknown and revoked tokens."""
    if not token_text.strip():
        return None, None
    respondent, problem = survey_access.respondent_for_token(token=token_text, shelter=shelter)
    if problem == survey_access.UNKNOWN_TOKEN:
        return None, _(
            "This survey code is not valid (it may have been replaced by a new slip). Ask the shelter staff."
        )
    if problem == survey_access.OTHER_SHELTER:
        return None, _("This survey code belongs to another shelter. Use the QR code on your slip or ask the staff.")
    return respondent, None


CONSENT_PREFIX = "consent-"


def _consent_questions(respondent) -> list[asking.Question]:
    """The question about linking survey answers to the resident, when their timing says ask it."""
    if respondent is None:
        return []
    return asking.questions_for(
        subject_of(respondent), asking.SURVEY_CATEGORIES, asking.SURVEY_RECIPIENTS, current_context()
    )


@require_http_methods(["GET", "POST"])
def answer(request, key: str):
    shelter = _shelter_from_key(key)
    token_text = request.GET.get("t", "")
    raw_answers: dict = {}
    errors: dict[str, list[str]] = {}
    general_error = ""
    submission_key = uuid.uuid4().hex
    version = None
    status = 200
    consent_questions: list[asking.Question] = []
    consent_answers: dict[str, str] = {}
    if request.method == "GET" and token_text.strip():
        # The slip's QR code brings the token: the question is asked before anything is answered.
        consent_questions = _consent_questions(_token_error(token_text, shelter)[0])
    if request.method == "POST":
        if _rate_limited(request, key):
            return render(request, "surveys/rate_limited.html", {"shelter": shelter}, status=429)
        raw_answers = raw_answers_from_post(request.POST)
        token_text = request.POST.get("token", "")
        submission_key = request.POST.get("submission_key", "")
        version = selectors.answerable_version(version_id=request.POST.get("version", ""))
        respondent, token_error = _token_error(token_text, shelter)
        consent_questions = _consent_questions(respondent)
        try:
            consent_answers = asking.answers_from(
                request.POST, prefix=CONSENT_PREFIX, categories=asking.SURVEY_CATEGORIES
            )
        except ApplicationError as error:
            errors[error.field] = [str(error.message)]
        unanswered = [q for q in consent_questions if q.category not in consent_answers]
        status = 400
        if version is None:
            general_error = _("The survey has changed since this page was opened. Please answer again.")
            raw_answers, submission_key = {}, uuid.uuid4().hex
        elif token_error or unanswered or errors:
            if token_error:
                errors["token"] = [token_error]
            for question in unanswered:
                errors.setdefault(f"{CONSENT_PREFIX}{question.category}", [_("Please answer this question first.")])
            try:
                services.submission_clean(version=version, raw_answers=raw_answers)
            except ApplicationError as error:
                errors.update(error.fields)
            general_error = _("Check the answers marked.")
        else:
            try:
                services.response_submit_asked(
                    consent_answers=consent_answers,
                    respondent=respondent,
                    version=version,
                    shelter=shelter,
                    raw_answers=raw_answers,
                    channel=ResponseChannel.PHONE,
                    submission_key=f"phone:{submission_key}" if submission_key else "",
                )
            except ApplicationError as error:
                errors.update(error.fields)
                general_error = _("Check the answers marked.") if error.fields else str(error.message)
            else:
                return redirect("surveys_public:thanks", key=key)
    version = version or selectors.current_version()
    if version is None:
        raise Http404
    if not submission_key or len(submission_key) > 64:
        # A tampered key was refused above; the form comes back with a fresh one.
        submission_key = uuid.uuid4().hex
    context = form_context(version, raw_answers, errors)
    context.update(
        {
            "shelter": shelter,
            "token": token_text.strip(),
            "token_errors": errors.get("token", []),
            "general_error": general_error,
            "submission_key": submission_key,
            "consent_questions": consent_questions,
            "consent_prefix": CONSENT_PREFIX,
            "consent_errors": [m for q in consent_questions for m in errors.get(f"{CONSENT_PREFIX}{q.category}", [])],
            "consent_given": [c for c, d in consent_answers.items() if d == "given"],
            "consent_refused": [c for c, d in consent_answers.items() if d == "refused"],
        }
    )
    return render(request, "surveys/answer.html", context, status=status)


def thanks(request, key: str):
    shelter = _shelter_from_key(key)
    return render(request, "surveys/thanks.html", {"shelter": shelter, "again_url": links.survey_path(shelter)})
