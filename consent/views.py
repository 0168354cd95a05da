"""The own-phone page: a resident answers the desk's questions on their phone (Method.OWN_DEVICE).

Reached by the desk's QR code (a short-lived signed token naming only the ledger's subject,
consent/links.py) or, for a resident signed in with their City OS ID, without one. It shows no
personal data, only the questions their timing asks now, and writes only their answers.
"""

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from access import policy
from access.consent import current_context
from common.errors import ApplicationError
from consent import asking, links, services
from consent.models import subject_of_city_os_id
from consent.rules import Method


def _answer(request, subject: str, *, collected_by):
    context = current_context()
    questions = asking.questions_for(subject, asking.DESK_CATEGORIES, asking.DESK_RECIPIENTS, context)
    # A resident signed in with their City OS ID is shown the way to their own page.
    page = {"resident": policy.is_resident_only(request.user)}
    error = ""
    answers: dict[str, str] = {}
    if request.method == "POST":
        if request.POST.get("later"):
            return render(request, "consent/asked.html", {"later": True, **page})
        try:
            answers = asking.answers_from(request.POST, prefix="ask-")
            records = services.desk_answers_record(
                answers={subject: answers}, method=Method.OWN_DEVICE, collected_by=collected_by
            )
        except ApplicationError as failure:
            error = str(failure.message)
        else:
            refused = [q for q in questions if answers.get(q.category) == "refused"]
            return render(
                request,
                "consent/asked.html",
                {"records": records, "refused": refused, "answered": bool(answers), **page},
            )
    return render(
        request,
        "consent/ask.html",
        {
            "questions": questions,
            "error": error,
            "given": [c for c, d in answers.items() if d == "given"],
            "refused": [c for c, d in answers.items() if d == "refused"],
            **page,
        },
        status=400 if error else 200,
    )


@require_http_methods(["GET", "POST"])
def ask_own_device(request, token: str):
    try:
        subject = links.subject_from_token(token)
    except ApplicationError as error:
        expired = error.code == "expired_token"
        return render(request, "consent/ask_error.html", {"expired": expired}, status=400)
    return _answer(request, subject, collected_by=None)


@require_http_methods(["GET", "POST"])
def ask_signed_in(request):
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if not policy.is_resident_only(request.user):
        raise PermissionDenied(_("This page is for residents signed in with their City OS ID."))
    return _answer(request, subject_of_city_os_id(request.user.city_os_id), collected_by=request.user)
