"""Posting the real admin forms: the data a browser would send back from a change page.

`form_data(response)` reads the page's form and inline formsets (as rendered for the admin
persona) into the POST data of an unchanged submission; a test changes a few values and posts it.
"""

from django.forms import BooleanField, ModelMultipleChoiceField


def _value(field, value):
    if isinstance(field, ModelMultipleChoiceField):
        return [getattr(item, "pk", item) for item in (value or [])]
    if value is None:
        return ""
    if hasattr(value, "pk"):
        return value.pk
    return value


def _form_fields(form, data: dict) -> None:
    for name, field in form.fields.items():
        if field.disabled:
            continue
        value = form.initial.get(name, field.initial)
        if callable(value):
            value = value()
        key = form.add_prefix(name)
        if isinstance(field, BooleanField):
            if value:
                data[key] = "on"
            continue
        data[key] = _value(field, value)


def form_data(response) -> dict:
    data: dict = {}
    _form_fields(response.context["adminform"].form, data)
    for inline in response.context.get("inline_admin_formsets", []):
        formset = inline.formset
        management = formset.management_form
        for name in management.fields:
            data[management.add_prefix(name)] = management.initial.get(name, management[name].value())
        for form in formset.forms:
            _form_fields(form, data)
    return data
