"""Pages for importing survey responses: the upload form, a job's progress, and its JSON."""

import json

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.forms.fields import InvalidJSONInput
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_POST

from access import policy
from common.errors import ApplicationError
from common.roles import is_headquarters
from surveys.imports import jobs as import_jobs
from surveys.models import SurveyImportMapping


class ImportForm(forms.Form):
    file = forms.FileField(label=_("CSV file (Qualtrics or KoBoToolbox export)"))
    shelter = forms.ModelChoiceField(
        label=_("Shelter of every row"),
        queryset=None,
        required=False,
        empty_label=_("— from the shelter column of the file —"),
    )
    saved_mapping = forms.ModelChoiceField(
        label=_("Mapping"),
        queryset=SurveyImportMapping.objects.all(),
        required=False,
        empty_label=_("Automatic (columns named after question codes or texts)"),
    )
    skip_invalid = forms.BooleanField(
        label=_("Import the valid rows and list the bad ones (otherwise nothing is imported if any row is bad)"),
        required=False,
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["shelter"].queryset = policy.operated_shelters(user).order_by("name")


class PrettyJSONField(forms.JSONField):
    def prepare_value(self, value):
        if isinstance(value, InvalidJSONInput):
            return value
        return json.dumps(value, ensure_ascii=False, indent=2)


class MappingForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    mapping = PrettyJSONField(label=_("Mapping (JSON)"), widget=forms.Textarea(attrs={"rows": 16, "cols": 80}))


def _import_user(view):
    @login_required
    def wrapper(request, *args, **kwargs):
        if not policy.can_import_survey_responses(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    wrapper.__name__ = view.__name__
    wrapper.__doc__ = view.__doc__
    return wrapper


@_import_user
def import_list(request):
    """Upload a file; below, the user's recent imports."""
    form = ImportForm(request.POST or None, request.FILES or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            job = import_jobs.survey_import_create(
                file_name=upload.name,
                content=upload.read(),
                uploaded_by=request.user,
                shelter=form.cleaned_data["shelter"],
                saved_mapping=form.cleaned_data["saved_mapping"],
                skip_invalid=form.cleaned_data["skip_invalid"],
                language=request.LANGUAGE_CODE,
            )
        except ApplicationError as error:
            form.add_error(error.field if error.field in form.fields else None, str(error.message))
        else:
            messages.success(request, _("The file was uploaded; the import runs in the background."))
            return redirect("survey_imports:detail", job_id=job.pk)
    jobs = policy.survey_imports_visible_to(request.user).defer("content").select_related("uploaded_by", "shelter")[:20]
    status = 400 if request.method == "POST" else 200
    return render(request, "surveys/imports/list.html", {"form": form, "jobs": jobs}, status=status)


def _job_for(request, job_id: int):
    return get_object_or_404(policy.survey_imports_visible_to(request.user).defer("content"), pk=job_id)


@_import_user
@require_GET
def import_detail(request, job_id: int):
    job = _job_for(request, job_id)
    return render(
        request,
        "surveys/imports/detail.html",
        {
            "job": job,
            "progress": import_jobs.import_progress(job),
            "errors": job.errors,
            "mapping_form": MappingForm(initial={"name": job.file_name, "mapping": job.mapping}),
            "may_save_mapping": is_headquarters(request.user),
        },
    )


@_import_user
@require_GET
def import_progress(request, job_id: int):
    """The job's figures for the progress bar; errors are on the page once the job is finished."""
    job = _job_for(request, job_id)
    return JsonResponse(import_jobs.import_progress(job))


@_import_user
@require_POST
def import_mapping_save(request, job_id: int):
    """Save (or replace) a named mapping from a job's page; mappings serve every importer, so HQ only."""
    if not is_headquarters(request.user):
        raise PermissionDenied
    job = _job_for(request, job_id)
    form = MappingForm(request.POST)
    if form.is_valid():
        try:
            saved = import_jobs.survey_import_mapping_save(
                name=form.cleaned_data["name"], mapping=form.cleaned_data["mapping"], actor=request.user
            )
        except ApplicationError as error:
            messages.error(request, str(error.message))
        else:
            messages.success(request, _("Saved the mapping “%(name)s”.") % {"name": saved.name})
    else:
        for field_errors in form.errors.values():
            messages.error(request, field_errors[0])
    return redirect("survey_imports:detail", job_id=job.pk)
