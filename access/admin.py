from django.contrib import admin

from access.models import PersonalDataAccess
from common.admin import ReadOnlyAdmin


@admin.register(PersonalDataAccess)
class PersonalDataAccessAdmin(ReadOnlyAdmin):
    """The record of reads of personal data: written by the access layer only, never edited."""

    list_display = ("at", "viewer", "evacuee_id", "purpose")
