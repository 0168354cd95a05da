"""Admin for survey imports: saved column mappings are edited here; import jobs are read-only."""

from django.contrib import admin

from surveys.models import SurveyImport, SurveyImportMapping


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
