from django import forms
from django.utils.translation import gettext_lazy as _

from shelters.models import Destination, Sex, ShelterStatus, StayMode, SupportCategory
from shelters.services import PersonData


class StatusChangeForm(forms.Form):
    status = forms.ChoiceField(label=_("New status"), choices=ShelterStatus.choices)
    reason = forms.CharField(label=_("Reason"), max_length=500, required=False)


class CheckInForm(forms.Form):
    evacuees = forms.TypedMultipleChoiceField(label=_("People"), coerce=int, choices=())
    mode = forms.ChoiceField(label=_("Where"), choices=StayMode.choices, initial=StayMode.INSIDE)
    idempotency_key = forms.CharField(max_length=64, required=False, widget=forms.HiddenInput)

    def __init__(self, *args, evacuee_ids=(), **kwargs):
        super().__init__(*args, **kwargs)
        # Any visible id is a valid choice; the view checks visibility through the policy.
        self.fields["evacuees"].choices = [(pk, pk) for pk in evacuee_ids]


class CheckOutForm(forms.Form):
    destination = forms.ChoiceField(
        label=_("Destination"), choices=[c for c in Destination.choices if c[0] != Destination.OTHER_SHELTER]
    )


class TransferForm(forms.Form):
    to_shelter = forms.TypedChoiceField(label=_("To shelter"), coerce=int, choices=())

    def __init__(self, *args, targets=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_shelter"].choices = [(s.pk, s.name) for s in targets]


class PersonForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    name_kana = forms.CharField(label=_("Name (kana)"), max_length=100, required=False)
    birth_date = forms.DateField(label=_("Birth date"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    sex = forms.ChoiceField(label=_("Sex"), choices=Sex.choices, initial=Sex.UNKNOWN)
    phone = forms.CharField(label=_("Phone"), max_length=32, required=False)
    city_os_id = forms.CharField(label=_("City OS ID"), max_length=64, required=False)
    requires_evacuation_support = forms.BooleanField(label=_("Requires evacuation support"), required=False)
    support_needs = forms.ModelMultipleChoiceField(
        label=_("Support needs"),
        queryset=SupportCategory.objects.filter(active=True),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        to_field_name="code",
    )
    support_notes = forms.CharField(label=_("Notes on support"), max_length=500, required=False)

    def to_person(self, *, address: str) -> PersonData:
        data = self.cleaned_data
        notes = data["support_notes"]
        return PersonData(
            name=data["name"],
            name_kana=data["name_kana"],
            birth_date=data["birth_date"],
            sex=data["sex"],
            address=address,
            phone=data["phone"],
            city_os_id=data["city_os_id"] or None,
            requires_evacuation_support=data["requires_evacuation_support"],
            support_needs={category.code: notes for category in data["support_needs"]},
        )


class WalkInHouseholdForm(forms.Form):
    address = forms.CharField(label=_("Address"), max_length=300, required=False)
    mode = forms.ChoiceField(label=_("Where"), choices=StayMode.choices, initial=StayMode.INSIDE)
    idempotency_key = forms.CharField(max_length=64, required=False, widget=forms.HiddenInput)


MemberFormSet = forms.formset_factory(PersonForm, extra=0, min_num=1, validate_min=True, max_num=20)


class CityOSCheckInForm(forms.Form):
    """The desk's one tap after a City OS QR scan: the signed ticket of the scan, and who is here."""

    ticket = forms.CharField(max_length=2000, widget=forms.HiddenInput)
    members = forms.MultipleChoiceField(label=_("People"), choices=(), required=False)
    mode = forms.ChoiceField(label=_("Where"), choices=StayMode.choices, initial=StayMode.INSIDE)
    idempotency_key = forms.CharField(max_length=64, required=False, widget=forms.HiddenInput)

    def __init__(self, *args, city_os_ids=(), **kwargs):
        super().__init__(*args, **kwargs)
        # The people the City OS shares for this scan: the view asks it before validating.
        self.fields["members"].choices = [(i, i) for i in city_os_ids]
