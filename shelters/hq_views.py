"""HQ's pages for the disaster context: declaring and closing disasters, and legal-basis releases.

Releases are listed to HQ and officials (that a release exists: its rule, article, scope and
period; never whom it touched); only HQ declares and revokes them (access.policy).
"""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from access import policy, releases
from common import limits
from common.errors import ApplicationError
from common.permissions import role_required
from consent import selectors as consent_selectors
from consent import services as consent_services
from consent.rules import Category, Recipient, ReleaseScope
from shelters import selectors, services
from shelters.models import Shelter


def _hq_only(request) -> None:
    if not policy.can_manage_disasters(request.user):
        raise PermissionDenied


def _report(request, error: ApplicationError) -> None:
    messages.error(request, str(error.message))


# --- Disasters -----------------------------------------------------------------------------------


class DisasterDeclareForm(forms.Form):
    name = forms.CharField(
        label=gettext_lazy("Name of the disaster"), max_length=services.disasters.DISASTER_NAME_MAX_LENGTH
    )


@role_required
def disasters(request):
    _hq_only(request)
    return render(
        request,
        "shelters/hq/disasters.html",
        {"disasters": selectors.disasters_for_list(), "form": DisasterDeclareForm()},
    )


@role_required
@require_POST
def disaster_declare(request):
    _hq_only(request)
    form = DisasterDeclareForm(request.POST)
    if not form.is_valid():
        return render(
            request,
            "shelters/hq/disasters.html",
            {"disasters": selectors.disasters_for_list(), "form": form},
            status=400,
        )
    try:
        services.disaster_declare(name=form.cleaned_data["name"], actor=request.user)
    except ApplicationError as error:
        _report(request, error)
    else:
        messages.success(request, _("The disaster is declared: consent for the disaster context now applies."))
    return redirect("hq:disasters")


@role_required
@require_POST
def disaster_close(request, disaster_id: int):
    _hq_only(request)
    if not limits.is_id(str(disaster_id)):
        raise Http404
    try:
        services.disaster_close(disaster_id=disaster_id, actor=request.user)
    except ApplicationError as error:
        _report(request, error)
    else:
        messages.success(request, _("The disaster is closed. Its legal-basis releases have ended."))
    return redirect("hq:disasters")


# --- Legal-basis releases ------------------------------------------------------------------------


class ReleaseDeclareForm(forms.Form):
    disaster = forms.TypedChoiceField(label=gettext_lazy("For the disaster"), coerce=int, choices=())
    rule = forms.ChoiceField(label=gettext_lazy("Legal rule"), choices=(), widget=forms.RadioSelect)
    categories = forms.MultipleChoiceField(
        label=gettext_lazy("Data released"), choices=Category.choices, widget=forms.CheckboxSelectMultiple
    )
    recipients = forms.MultipleChoiceField(
        label=gettext_lazy("Released to"), choices=Recipient.choices, widget=forms.CheckboxSelectMultiple
    )
    scope = forms.ChoiceField(
        label=gettext_lazy("Whom it covers"), choices=ReleaseScope.choices, widget=forms.RadioSelect
    )
    shelters = forms.TypedMultipleChoiceField(
        label=gettext_lazy("Only at these shelters (none: every shelter)"), coerce=int, choices=(), required=False
    )
    hours = forms.IntegerField(
        label=gettext_lazy("For how many hours"),
        min_value=1,
        max_value=consent_services.RELEASE_MAX_HOURS,
        initial=72,
    )
    reason = forms.CharField(
        label=gettext_lazy("Why it is needed"),
        max_length=consent_services.RELEASE_REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["disaster"].choices = [(d.pk, d.name) for d in selectors.open_disasters()]
        self.fields["rule"].choices = [
            (rule.code, f"{consent_selectors.rule_name(rule.code)} — {rule.article}")
            for rule in consent_selectors.release_rules()
        ]
        self.fields["shelters"].choices = list(Shelter.objects.order_by("code").values_list("pk", "name"))


def _releases_page(request, form: ReleaseDeclareForm | None, status: int = 200):
    shown = consent_selectors.releases_for_list()
    manage = policy.can_manage_disasters(request.user)
    people = releases.people_read_under([item.release.pk for item in shown]) if manage else {}
    categories = dict(Category.choices)
    recipients = dict(Recipient.choices)
    rows = [
        {
            "item": item,
            "name": item.rule_name,
            "categories": [categories.get(c, c) for c in item.release.categories],
            "recipients": [recipients.get(r, r) for r in item.release.recipients],
            "shelters": [s.name for s in item.release.shelters.all()],
            "people": people.get(item.release.pk, 0),
        }
        for item in shown
    ]
    rules = [
        {
            "rule": rule,
            "name": consent_selectors.rule_name(rule.code),
            "categories": [categories[c] for c in Category.values if c in rule.categories],
            "recipients": [recipients[r] for r in Recipient.values if r in rule.recipients],
        }
        for rule in consent_selectors.release_rules()
    ]
    return render(
        request,
        "shelters/hq/releases.html",
        {
            "active": [row for row in rows if row["item"].active],
            "ended": [row for row in rows if not row["item"].active],
            "rules": rules,
            "form": form,
            "manage": manage,
            "has_open_disaster": manage and selectors.open_disasters().exists(),
        },
        status=status,
    )


@role_required
def releases_page(request):
    if not policy.can_view_releases(request.user):
        raise PermissionDenied
    form = ReleaseDeclareForm() if policy.can_manage_disasters(request.user) else None
    return _releases_page(request, form)


@role_required
@require_POST
def release_declare(request):
    _hq_only(request)
    form = ReleaseDeclareForm(request.POST)
    if not form.is_valid():
        return _releases_page(request, form, status=400)
    data = form.cleaned_data
    try:
        consent_services.release_declare(
            disaster_id=data["disaster"],
            rule=data["rule"],
            categories=data["categories"],
            recipients=data["recipients"],
            scope=data["scope"],
            shelter_ids=data["shelters"],
            reason=data["reason"],
            hours=data["hours"],
            actor=request.user,
        )
    except ApplicationError as error:
        field = {"expires_at": "hours"}.get(error.field, error.field)  # the form asks for hours only
        form.add_error(field if field in form.fields else None, str(error.message))
        return _releases_page(request, form, status=400)
    messages.success(request, _("The release is declared and recorded."))
    return redirect("hq:releases")


@role_required
@require_POST
def release_revoke(request, release_id: int):
    _hq_only(request)
    if not limits.is_id(str(release_id)):
        raise Http404
    try:
        consent_services.release_revoke(release_id=release_id, actor=request.user)
    except ApplicationError as error:
        _report(request, error)
    else:
        messages.success(request, _("The release is revoked."))
    return redirect("hq:releases")
