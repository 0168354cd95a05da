from django.contrib import admin

from access.models import PersonalDataAccess
from common.admin import ReadOnlyAdmin


@admin.register(PersonalDataAccess)
class PersonalDataAccessAdmin(ReadOnlyAdmin):
    list_display = ("at", "viewer", "evacuee_id", "purpose")
