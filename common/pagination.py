"""The API's one pagination: limit/offset, both bounded so no query reaches the database with a
number it cannot hold (`?offset=` beyond bigint was a 500 on PostgreSQL)."""

from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import LimitOffsetPagination

from common.limits import INT32_MAX

MAX_LIMIT = 500


class BoundedLimitOffsetPagination(LimitOffsetPagination):
    max_limit = MAX_LIMIT

    def get_limit(self, request):
        return self._bounded(request, self.limit_query_param, self.max_limit, minimum=1) or self.default_limit

    def get_offset(self, request):
        return self._bounded(request, self.offset_query_param, INT32_MAX, minimum=0) or 0

    @staticmethod
    def _bounded(request, name: str, maximum: int, *, minimum: int) -> int | None:
        value = request.query_params.get(name)
        if value in (None, ""):
            return None
        digits = value.isascii() and value.isdigit() and len(value) <= len(str(maximum))
        if not digits or not minimum <= int(value) <= maximum:
            message = _("Enter a whole number from %(min)d to %(max)d.") % {"min": minimum, "max": maximum}
            raise ValidationError({name: [message]})
        return int(value)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        bounds = {self.limit_query_param: (1, self.max_limit), self.offset_query_param: (0, INT32_MAX)}
        for parameter in parameters:
            minimum, maximum = bounds[parameter["name"]]
            parameter["schema"].update({"minimum": minimum, "maximum": maximum})
        return parameters
