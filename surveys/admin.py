"""HQ edits surveys in the admin; every write goes through `surveys.services`.

A version that has responses is frozen (its questions give those answers their meaning): the
admin shows it read-only and refuses to save it, and `survey_draft_edit`, which every edit of a
version, its questions or their choices goes through, refuses it again under the version's lock.
"Copy as a new version" makes an editable copy, and "make current" switches respondents to it.
"""

from django import forms
from django.contrib import admin, messages
from django.http import HttpResponseRedirect
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from common.admin import ReadOnlyAdmin, ServiceAdmin
from common.errors import ApplicationError
from surveys import services
from surveys.imports import formats as import_formats
from surveys.imports import jobs as import_jobs
from surveys.models import Choice, Question, Survey, SurveyImport, SurveyImportMapping, SurveyVersion

FROZEN_MESSAGE = _(
    "This version already has responses, so it cannot be changed: "
    "use “Copy as a new version”, edit the copy and make it current."
)


def _frozen(version: SurveyVersion | None) -> bool:
    return version is not None and version.pk is not None and services.version_has_responses(version)


class FrozenVersionMixin:
    """Refuse any save of an object that belongs to a version with responses, with a clear message."""

    def version_of(self, obj) -> SurveyVersion | None:
        raise NotImplementedError

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        obj = self.get_object(request, object_id) if object_id else None
        if obj is not None and _frozen(self.version_of(obj)):
            if request.method == "POST":
                self.message_user(request, FROZEN_MESSAGE, messages.ERROR)
                return HttpResponseRedirect(request.path)
            self.message_user(request, FROZEN_MESSAGE, messages.WARNING)
        return super().changeform_view(request, object_id, form_url, extra_context)

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and _frozen(self.version_of(obj)):
            return [field.name for field in self.model._meta.fields]
        return super().get_readonly_fields(request, obj)


class FrozenInlineMixin:
    def has_add_permission(self, request, obj=None):
        return not _frozen(self.version_of(obj)) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return not _frozen(self.version_of(obj)) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return not _frozen(self.version_of(obj)) and super().has_delete_permission(request, obj)


@admin.register(Survey)
class SurveyAdmin(ServiceAdmin):
    """Through `survey_save`; not deleted (its versions and their answers refer to it)."""

    list_display = ("code", "title", "title_en")

    def save_model(self, request, obj, form, change):
        fields = self.changes(form, services.SURVEY_FIELDS) if change else dict(form.cleaned_data)
        survey = services.survey_save(survey_id=obj.pk if change else None, fields=fields, actor=request.user)
        obj.pk = survey.pk
        obj.refresh_from_db()


def _save_formsets(admin_view, request, form, formsets, change):
    def write():
        for formset in formsets:
            admin_view.save_formset(request, form, formset, change=change)

    return write


def _nothing_saved(formsets) -> None:
    # What formset.save() would have noted; the admin's change message reads it.
    for formset in formsets:
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []


class QuestionInline(FrozenInlineMixin, admin.TabularInline):
    model = Question
    fk_name = "version"
    extra = 0
    show_change_link = True
    fields = ("position", "code", "kind", "category", "text", "text_en", "required", "is_k6_item")

    def version_of(self, obj):
        return obj


@admin.register(SurveyVersion)
class SurveyVersionAdmin(FrozenVersionMixin, ServiceAdmin):
    """New versions through `survey_version_create`, edits and their questions through
    `survey_draft_edit`, deletion of a draft through `survey_version_delete`."""

    list_display = ("survey", "number", "is_current", "recall_period", "created_at")
    list_filter = ("survey", "is_current")
    inlines = [QuestionInline]
    actions = ["copy_as_new_version", "make_current"]

    def version_of(self, obj):
        return obj

    def get_readonly_fields(self, request, obj=None):
        # "Current" changes only through the action, which swaps it atomically.
        fields = list(super().get_readonly_fields(request, obj))
        for name in ("is_current", *(("survey", "number") if obj is not None else ())):
            if name not in fields:
                fields.append(name)
        return fields

    def save_model(self, request, obj, form, change):
        if not change:
            fields = {name: form.cleaned_data[name] for name in services.VERSION_FIELDS if name in form.cleaned_data}
            version = services.survey_version_create(
                survey=form.cleaned_data["survey"], fields=fields, actor=request.user
            )
            obj.pk = version.pk
            obj.refresh_from_db()
            return
        changes = self.changes(form, services.VERSION_FIELDS)
        if changes:
            services.survey_draft_edit(
                version_id=obj.pk,
                actor=request.user,
                what="version",
                write=lambda: obj.save(update_fields=list(changes)),
            )

    def save_related(self, request, form, formsets, change):
        if any(formset.has_changed() for formset in formsets):
            services.survey_draft_edit(
                version_id=form.instance.pk,
                actor=request.user,
                what="questions",
                write=_save_formsets(self, request, form, formsets, change),
            )
        else:
            _nothing_saved(formsets)

    def delete_model(self, request, obj):
        services.survey_version_delete(version_id=obj.pk, actor=request.user)

    def get_exclude(self, request, obj=None):
        return ["number"] if obj is None else super().get_exclude(request, obj)

    @admin.action(description=_("Copy as a new version"))
    def copy_as_new_version(self, request, queryset):
        for version in queryset.select_related("survey"):
            copy = services.survey_version_copy(version=version, actor=request.user)
            self.message_user(
                request,
                gettext("Copied %(version)s as version %(number)s; it is not current until you make it so.")
                % {"version": version, "number": copy.number},
                messages.SUCCESS,
            )

    @admin.action(description=_("Make current"))
    def make_current(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, gettext("Choose exactly one version to make current."), messages.ERROR)
            return
        version = queryset.select_related("survey").get()
        try:
            services.survey_version_make_current(version=version, actor=request.user)
        except ApplicationError as error:
            self.message_user(request, str(error.message), messages.ERROR)
            return
        self.message_user(
            request, gettext("%(version)s is now the current version.") % {"version": version}, messages.SUCCESS
        )


class ChoiceInline(FrozenInlineMixin, admin.TabularInline):
    model = Choice
    extra = 0
    fields = ("position", "value", "label", "label_en", "score", "supply_item_code", "quantity_question_code")

    def version_of(self, obj):
        return obj.version if obj is not None else None


class QuestionAdminForm(forms.ModelForm):
    class Meta:
        model = Question
        fields = [
            "version",
            "code",
            "position",
            "kind",
            "category",
            "text",
            "text_en",
            "required",
            "show_if",
            "show_if_values",
            "min_value",
            "max_value",
            "is_k6_item",
        ]

    def clean(self):
        cleaned = super().clean()
        version = cleaned.get("version")
        if _frozen(version):
            raise forms.ValidationError(FROZEN_MESSAGE)
        show_if = cleaned.get("show_if")
        if show_if is not None and version is not None and show_if.version_id != version.pk:
            self.add_error("show_if", gettext("The condition must be a question of the same version."))
        return cleaned


@admin.register(Question)
class QuestionAdmin(FrozenVersionMixin, ServiceAdmin):
    """Questions and their choices through `survey_draft_edit` of the question's version."""

    form = QuestionAdminForm
    list_display = ("code", "version", "position", "kind", "category", "required")
    list_filter = ("version__survey", "version", "category")
    inlines = [ChoiceInline]

    def version_of(self, obj):
        return obj.version

    def save_model(self, request, obj, form, change):
        services.survey_draft_edit(
            version_id=obj.version_id, actor=request.user, what=f"question {obj.code}", write=obj.save
        )

    def save_related(self, request, form, formsets, change):
        if any(formset.has_changed() for formset in formsets):
            services.survey_draft_edit(
                version_id=form.instance.version_id,
                actor=request.user,
                what=f"choices of question {form.instance.code}",
                write=_save_formsets(self, request, form, formsets, change),
            )
        else:
            _nothing_saved(formsets)

    def delete_model(self, request, obj):
        services.survey_draft_edit(
            version_id=obj.version_id, actor=request.user, what=f"question {obj.code} deleted", write=obj.delete
        )


# --- Imports: saved column mappings are edited here; import jobs are read-only ------------------


class SurveyImportMappingForm(forms.ModelForm):
    class Meta:
        model = SurveyImportMapping
        fields = ("name", "mapping", "notes")

    def clean_mapping(self):
        # The service checks it again; here the problems show beside the field instead of as a message.
        mapping = self.cleaned_data["mapping"]
        problems = import_formats.mapping_problems(mapping)
        if problems:
            raise forms.ValidationError(problems)
        return mapping


@admin.register(SurveyImportMapping)
class SurveyImportMappingAdmin(ServiceAdmin):
    """Through `survey_import_mapping_save` (which checks the mapping) and `survey_import_mapping_delete`."""

    form = SurveyImportMappingForm
    list_display = ("name", "updated_at")
    search_fields = ("name",)

    def get_readonly_fields(self, request, obj=None):
        # The service saves by name: renaming would make a second mapping, not rename this one.
        return ("name",) if obj is not None else ()

    def save_model(self, request, obj, form, change):
        saved = import_jobs.survey_import_mapping_save(
            name=obj.name, mapping=form.cleaned_data["mapping"], notes=form.cleaned_data["notes"], actor=request.user
        )
        obj.pk = saved.pk
        obj.refresh_from_db()

    def delete_model(self, request, obj):
        import_jobs.survey_import_mapping_delete(mapping_id=obj.pk, actor=request.user)


@admin.register(SurveyImport)
class SurveyImportAdmin(ReadOnlyAdmin):
    """Written by the import job only: its counts and errors are the record of what it did."""

    list_display = ("file_name", "file_format", "state", "imported", "duplicates", "error_count", "created_at")
    list_filter = ("state", "file_format")
    exclude = ("content",)
