from django.contrib import admin

from common.admin import ReadOnlyAdmin
from residents.models import CorrectionRequest


@admin.register(CorrectionRequest)
class CorrectionRequestAdmin(ReadOnlyAdmin):
    """Residents write them on /me/ and HQ handles them on /residents/corrections/, both through
    residents.services (audited); the admin only shows them."""

    list_display = ("id", "field", "state", "created_at", "handled_at")
    list_filter = ("state", "field")
