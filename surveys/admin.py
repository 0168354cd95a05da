"""HQ edits surveys in the admin.

A version that has responses is frozen (its questions give those answers their meaning): the
admin shows it read-only and refuses to save it; "copy as a new version" makes an editable copy,
and "make current" switches respondents to it. Both go through `surveys.services`.
"""

from django import forms
from django.contrib import admin, messages
from django.http import HttpResponseRedirect
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from common.errors import ApplicationError
from surveys import services
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
class SurveyAdmin(admin.ModelAdmin):
    list_display = ("code", "title", "title_en")


class QuestionInline(FrozenInlineMixin, admin.TabularInline):
    model = Question
    fk_name = "version"
    extra = 0
    show_change_link = True
    fields = ("position", "code", "kind", "category", "text", "text_en", "required", "is_k6_item")

    def version_of(self, obj):
        return obj


@admin.register(SurveyVersion)
class SurveyVersionAdmin(FrozenVersionMixin, admin.ModelAdmin):
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
        if not change and obj.number is None:
            highest = obj.survey.versions.order_by("-number").values_list("number", flat=True).first() or 0
            obj.number = highest + 1
        super().save_model(request, obj, form, change)

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
class QuestionAdmin(FrozenVersionMixin, admin.ModelAdmin):
    form = QuestionAdminForm
    list_display = ("code", "version", "position", "kind", "category", "required")
    list_filter = ("version__survey", "version", "category")
    inlines = [ChoiceInline]

    def version_of(self, obj):
        return obj.version


# --- Imports: saved column mappings are edited here; import jobs are read-only ------------------


@admin.register(SurveyImportMapping)
class SurveyImportMappingAdmin(admin.ModelAdmin):
    list_display = ("name", "updated_at")
    search_fields = ("name",)


@admin.register(SurveyImport)
class SurveyImportAdmin(admin.ModelAdmin):
    list_display = ("file_name", "file_format", "state", "imported", "duplicates", "error_count", "created_at")
    list_filter = ("state", "file_format")
    exclude = ("content",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
