"""Shelters, the people who shelter in them, and who did what.

Writes go through `shelters.services`; reads of personal data through `access`. Roles are
project-wide (`common.roles`); the audit trail and the record of reads live in `common` and `access`.
"""

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q, Value
from django.db.models.functions import Replace
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from common.roles import Role
from common.sources import DataSource  # moved to common; the other apps still import it from here


class User(AbstractUser):
    role = models.CharField(_("role"), max_length=16, choices=Role.choices, blank=True)
    managed_shelters = models.ManyToManyField(
        "Shelter",
        blank=True,
        related_name="managers",
        verbose_name=_("managed shelters"),
        help_text=_("Shelters a shelter manager may operate."),
    )
    # The common ID of the City OS (the OIDC subject) for whoever signs in through it: a resident
    # (no role: they see their own page only) or staff, whose role and shelters are still granted here.
    city_os_id = models.CharField(_("City OS ID"), max_length=64, null=True, blank=True, unique=True)

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")


class Facility(models.Model):
    """A facility a shelter may offer (barrier-free, pets, generator...). Editable in the admin."""

    code = models.SlugField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name (Japanese)"), max_length=64)
    name_en = models.CharField(_("name (English)"), max_length=64)
    sort_order = models.PositiveSmallIntegerField(_("sort order"), default=0)

    class Meta:
        ordering = ["sort_order", "code"]
        verbose_name = _("facility")
        verbose_name_plural = _("facilities")

    def __str__(self) -> str:
        return self.name


class ShelterStatus(models.TextChoices):
    # The national values: 未開設 → 開設 → 満員 → 閉鎖.
    STANDBY = "standby", pgettext_lazy("shelter status", "Standby")
    OPEN = "open", pgettext_lazy("shelter status", "Open")
    FULL = "full", pgettext_lazy("shelter status", "Full")
    CLOSED = "closed", pgettext_lazy("shelter status", "Closed")


class ShelterKind(models.TextChoices):
    GENERAL = "general", _("General shelter")
    WELFARE = "welfare", _("Welfare shelter")


HAZARD_FIELDS = (
    "hazard_flood",
    "hazard_landslide",
    "hazard_storm_surge",
    "hazard_earthquake",
    "hazard_tsunami",
    "hazard_large_fire",
    "hazard_inland_flood",
    "hazard_volcano",
)


class Shelter(models.Model):
    # Registry fields follow the municipal standard open data (指定緊急避難場所一覧) and GSI's list.
    code = models.CharField(_("ID"), max_length=64, unique=True)
    common_id = models.CharField(_("common ID"), max_length=64, blank=True)
    name = models.CharField(_("name"), max_length=200)
    name_kana = models.CharField(_("name (kana)"), max_length=200, blank=True)
    name_en = models.CharField(_("name (English)"), max_length=200, blank=True)
    municipality_code = models.CharField(_("local government code"), max_length=6, blank=True)
    town_id = models.CharField(_("town ID"), max_length=16, blank=True)
    address = models.CharField(_("address"), max_length=300, blank=True)
    prefecture = models.CharField(_("prefecture"), max_length=16, blank=True)
    city = models.CharField(_("city"), max_length=32, blank=True)
    town = models.CharField(_("town"), max_length=64, blank=True)
    block = models.CharField(_("block and number"), max_length=64, blank=True)
    building = models.CharField(_("building"), max_length=128, blank=True)
    district = models.CharField(_("district"), max_length=64, blank=True)
    latitude = models.DecimalField(_("latitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(_("longitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    elevation = models.DecimalField(_("elevation (m)"), max_digits=7, decimal_places=1, null=True, blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    hazard_flood = models.BooleanField(_("flood"), default=False)
    hazard_landslide = models.BooleanField(_("landslide, debris flow"), default=False)
    hazard_storm_surge = models.BooleanField(_("storm surge"), default=False)
    hazard_earthquake = models.BooleanField(_("earthquake"), default=False)
    hazard_tsunami = models.BooleanField(_("tsunami"), default=False)
    hazard_large_fire = models.BooleanField(_("large fire"), default=False)
    hazard_inland_flood = models.BooleanField(_("inland flooding"), default=False)
    hazard_volcano = models.BooleanField(_("volcanic phenomena"), default=False)
    kind = models.CharField(_("kind"), max_length=16, choices=ShelterKind.choices, default=ShelterKind.GENERAL)
    capacity = models.PositiveIntegerField(_("capacity"), null=True, blank=True, help_text=_("Indoor capacity."))
    capacity_text = models.CharField(_("capacity as published"), max_length=200, blank=True)
    target_associations = models.CharField(_("target neighbourhood associations"), max_length=500, blank=True)
    facilities = models.ManyToManyField(Facility, blank=True, related_name="shelters", verbose_name=_("facilities"))

    status = models.CharField(_("status"), max_length=16, choices=ShelterStatus.choices, default=ShelterStatus.STANDBY)
    opened_at = models.DateTimeField(_("opened at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    # Kept equal to the number of open stays by the stay services, in the same transaction, under
    # the shelter's row lock; tests check the equality under concurrency.
    occupancy = models.PositiveIntegerField(_("evacuees inside"), default=0)
    outside_count = models.PositiveIntegerField(_("evacuees outside the shelter"), default=0)
    # Bumped with every change of status or counts, under the row lock: live clients keep the
    # highest version they have seen, so events that arrive out of order cannot roll figures back.
    version = models.PositiveBigIntegerField(default=0)
    # The rest of the live figures, kept like occupancy (services/counters.py): people staying here
    # (inside or supported outside) who need some support, and per support category's code, how
    # many of them have that need. Counts, never people: officials see them too.
    support_people = models.PositiveIntegerField(_("people needing support"), default=0)
    support_counts = models.JSONField(_("people per support need"), default=dict, blank=True)

    source = models.CharField(_("source"), max_length=16, choices=DataSource.choices, default=DataSource.REAL)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("shelter")
        verbose_name_plural = _("shelters")
        constraints = [
            models.CheckConstraint(
                condition=Q(capacity__isnull=True) | Q(capacity__gte=0), name="shelter_capacity_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def occupancy_ratio(self) -> float | None:
        if not self.capacity:
            return None
        return self.occupancy / self.capacity

    @property
    def accepts_check_ins(self) -> bool:
        return self.status in (ShelterStatus.OPEN, ShelterStatus.FULL)


class Disaster(models.Model):
    """A disaster HQ has declared: while one is open the city is in the disaster context.

    Consent is given per context (peacetime, disaster); legal-basis releases are declared for a
    disaster; personal data is kept until the disasters a person stayed through are closed.
    """

    name = models.CharField(_("name"), max_length=200)
    started_at = models.DateTimeField(_("started at"))
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    declared_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    source = models.CharField(_("source"), max_length=16, choices=DataSource.choices, default=DataSource.REAL)

    class Meta:
        ordering = ["-started_at", "-id"]
        verbose_name = _("disaster")
        verbose_name_plural = _("disasters")
        constraints = [
            models.CheckConstraint(
                condition=Q(closed_at__isnull=True) | Q(closed_at__gte=models.F("started_at")),
                name="disaster_closes_after_it_starts",
            )
        ]

    def __str__(self) -> str:
        return self.name


class ShelterStatusChange(models.Model):
    shelter = models.ForeignKey(Shelter, on_delete=models.CASCADE, related_name="status_changes")
    from_status = models.CharField(_("from"), max_length=16, choices=ShelterStatus.choices)
    to_status = models.CharField(_("to"), max_length=16, choices=ShelterStatus.choices)
    changed_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    changed_at = models.DateTimeField(_("changed at"), db_index=True)
    reason = models.CharField(_("reason"), max_length=500, blank=True)
    automatic = models.BooleanField(_("automatic"), default=False)

    class Meta:
        ordering = ["-changed_at", "-id"]
        verbose_name = _("shelter status change")
        verbose_name_plural = _("shelter status changes")


class SupportCategory(models.Model):
    """A kind of support need (要配慮). The list is configurable in the admin."""

    code = models.SlugField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name (Japanese)"), max_length=64)
    name_en = models.CharField(_("name (English)"), max_length=64)
    sort_order = models.PositiveSmallIntegerField(_("sort order"), default=0)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["sort_order", "code"]
        verbose_name = _("support category")
        verbose_name_plural = _("support categories")

    def __str__(self) -> str:
        return self.name


class Sex(models.TextChoices):
    FEMALE = "female", _("Female")
    MALE = "male", _("Male")
    OTHER = "other", _("Other")
    UNKNOWN = "unknown", _("Not stated")


class Household(models.Model):
    representative = models.ForeignKey(
        "Evacuee",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("representative"),
    )
    source = models.CharField(_("source"), max_length=16, choices=DataSource.choices, default=DataSource.REAL)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("household")
        verbose_name_plural = _("households")

    def __str__(self) -> str:
        return f"{_('household')} #{self.pk}"


class Evacuee(models.Model):
    # Keyed by the City OS common ID (地域ID) when known; otherwise by a local walk-in ID.
    city_os_id = models.CharField(_("City OS ID"), max_length=64, null=True, blank=True, unique=True)
    walk_in_id = models.CharField(_("walk-in ID"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=100)
    name_kana = models.CharField(_("name (kana)"), max_length=100, blank=True)
    birth_date = models.DateField(_("birth date"), null=True, blank=True)
    sex = models.CharField(_("sex"), max_length=8, choices=Sex.choices, default=Sex.UNKNOWN)
    address = models.CharField(_("address"), max_length=300, blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    # Digits only, so "0242001234" finds "0242-00-1234"; kept by the database itself.
    phone_digits = models.GeneratedField(
        expression=Replace(
            Replace(Replace("phone", Value("-"), Value("")), Value(" "), Value("")), Value("－"), Value("")
        ),
        output_field=models.CharField(max_length=32),
        db_persist=True,
    )
    household = models.ForeignKey(
        Household,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="members",
        verbose_name=_("household"),
    )
    requires_evacuation_support = models.BooleanField(
        _("person requiring evacuation support"),
        default=False,
        help_text=_("Listed in the register of people requiring support to evacuate (避難行動要支援者名簿)."),
    )
    # The codes of their support needs, sorted and comma-separated: a copy of SupportNeed kept by
    # the service that writes those (services/stays.py), on the person's own row, so that a check-in
    # reads it fresh under the row lock it takes anyway and moves the shelter's counters by it.
    support_codes = models.CharField(max_length=500, blank=True, default="", editable=False)
    source = models.CharField(_("source"), max_length=16, choices=DataSource.choices, default=DataSource.REAL)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Retention (shelters/services/retention.py): HQ may hold a person's data against anonymisation
    # (a lawsuit, an investigation, a certificate still being decided), saying why; once anonymised,
    # the row keeps only what the counts need and can never be held or changed again.
    legal_hold_at = models.DateTimeField(_("legal hold since"), null=True, blank=True)
    legal_hold_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("legal hold set by")
    )
    legal_hold_reason = models.CharField(_("reason for the legal hold"), max_length=500, blank=True)
    anonymised_at = models.DateTimeField(_("anonymised at"), null=True, blank=True)

    class Meta:
        ordering = ["name_kana", "name", "id"]
        verbose_name = _("evacuee")
        verbose_name_plural = _("evacuees")
        indexes = [
            models.Index(fields=["name_kana"]),
            models.Index(fields=["phone_digits"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(legal_hold_at__isnull=True, legal_hold_by__isnull=True, legal_hold_reason="")
                | (Q(legal_hold_at__isnull=False) & ~Q(legal_hold_reason="")),
                name="evacuee_legal_hold_with_reason",
            ),
            models.CheckConstraint(
                condition=Q(anonymised_at__isnull=True) | Q(legal_hold_at__isnull=True, city_os_id__isnull=True),
                name="evacuee_anonymised_without_hold_or_city_os_id",
            ),
        ]

    def __str__(self) -> str:
        # Deliberately not the name: a model's str ends up in logs and error reports.
        return f"{_('evacuee')} #{self.pk}"

    def save(self, *args, **kwargs):
        # The access layer blanks what a reader has no basis for (access/consent.py): such an object
        # is for showing only, and saving it would overwrite the person's real data.
        if getattr(self, "_masked", False):
            raise RuntimeError("A person with withheld data cannot be saved; read them again to change them.")
        super().save(*args, **kwargs)

    def refresh_from_db(self, using=None, fields=None, from_queryset=None):
        super().refresh_from_db(using=using, fields=fields, from_queryset=from_queryset)
        if fields is None:
            self._masked = False
            self.withheld = {}

    @property
    def is_anonymised(self) -> bool:
        return self.anonymised_at is not None

    @property
    def on_legal_hold(self) -> bool:
        return self.legal_hold_at is not None


class SupportNeed(models.Model):
    evacuee = models.ForeignKey(Evacuee, on_delete=models.CASCADE, related_name="support_needs")
    category = models.ForeignKey(SupportCategory, on_delete=models.PROTECT, related_name="+")
    notes = models.CharField(_("notes"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("support need")
        verbose_name_plural = _("support needs")
        constraints = [
            models.UniqueConstraint(fields=["evacuee", "category"], name="support_need_once_per_category"),
        ]


class StayMode(models.TextChoices):
    INSIDE = "inside", _("In the shelter")
    AT_HOME = "at_home", _("At home (supported by the shelter)")
    IN_CAR = "in_car", _("In a car (supported by the shelter)")


class Destination(models.TextChoices):
    HOME = "home", _("Home")
    OTHER_SHELTER = "other_shelter", _("Another shelter")
    HOSPITAL = "hospital", _("Hospital")
    RELATIVES = "relatives", _("Relatives or friends")
    TEMPORARY_HOUSING = "temporary_housing", _("Temporary housing")
    UNKNOWN = "unknown", _("Unknown")


class CheckIn(models.Model):
    """One check-in action at the desk: one person or a whole household.

    Its idempotency key makes a retried request return the stays it already made.
    """

    idempotency_key = models.CharField(max_length=64, null=True, blank=True, unique=True)
    shelter = models.ForeignKey(Shelter, on_delete=models.PROTECT, related_name="+")
    performed_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    performed_at = models.DateTimeField()


class Stay(models.Model):
    evacuee = models.ForeignKey(Evacuee, on_delete=models.PROTECT, related_name="stays")
    shelter = models.ForeignKey(Shelter, on_delete=models.PROTECT, related_name="stays")
    check_in = models.ForeignKey(CheckIn, on_delete=models.PROTECT, null=True, related_name="stays")
    mode = models.CharField(_("where"), max_length=16, choices=StayMode.choices, default=StayMode.INSIDE)
    checked_in_at = models.DateTimeField(_("checked in at"))
    checked_in_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    checked_out_at = models.DateTimeField(_("checked out at"), null=True, blank=True)
    checked_out_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    destination = models.CharField(_("destination"), max_length=32, choices=Destination.choices, blank=True)
    destination_shelter = models.ForeignKey(Shelter, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    source = models.CharField(_("source"), max_length=16, choices=DataSource.choices, default=DataSource.REAL)

    class Meta:
        ordering = ["-checked_in_at", "-id"]
        verbose_name = _("stay")
        verbose_name_plural = _("stays")
        constraints = [
            # At most one open stay per person, whatever the shelter.
            models.UniqueConstraint(
                fields=["evacuee"], condition=Q(checked_out_at__isnull=True), name="one_open_stay_per_evacuee"
            ),
            models.CheckConstraint(
                condition=Q(checked_out_at__isnull=True) | Q(checked_out_at__gte=models.F("checked_in_at")),
                name="stay_checked_out_after_check_in",
            ),
            models.CheckConstraint(
                condition=Q(checked_out_at__isnull=True) | ~Q(destination=""),
                name="stay_closed_with_destination",
            ),
        ]
        indexes = [
            models.Index(fields=["shelter", "checked_out_at"]),
            # The city's occupancy history counts the arrivals and departures of a window
            # (access.figures.stays_inside_between): a range on each time, not the whole table.
            models.Index(fields=["checked_in_at"], name="stay_checked_in_at"),
            models.Index(fields=["checked_out_at"], name="stay_checked_out_at"),
        ]

    @property
    def is_open(self) -> bool:
        return self.checked_out_at is None


class ReplayRun(models.Model):
    """How far a replay of real data has got, so a dashboard can show 「再現中: 2024-01-13 18:00」.

    One row per replay; `shelters.replay` updates it after each snapshot it applies.
    """

    name = models.SlugField(_("name"), max_length=64, unique=True)
    started_at = models.DateTimeField(_("started at"))
    simulated_at = models.DateTimeField(
        _("simulated time"), null=True, blank=True, help_text=_("The time of the last snapshot applied.")
    )
    snapshots_applied = models.PositiveIntegerField(_("snapshots applied"), default=0)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("replay run")
        verbose_name_plural = _("replay runs")

    def __str__(self) -> str:
        return self.name


class StayChangeKey(models.Model):
    """A check-out or transfer done once for its idempotency key, so that a retry (the batch
    endpoint, shelters/api_batch.py) answers what was done instead of doing it again or failing as
    "already checked out". Check-ins keep their key on CheckIn. The unique key is what makes two
    concurrent retries wait for each other: the second insert blocks until the first commits.
    """

    class Kind(models.TextChoices):
        CHECK_OUT = "check_out"
        TRANSFER = "transfer"

    idempotency_key = models.CharField(max_length=64, unique=True)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    # The stay checked out or transferred; a transfer's stay at its new shelter. Removing stays
    # (sample or replay data) removes their keys: a key without its stay answers nothing.
    stay = models.ForeignKey(Stay, on_delete=models.CASCADE, related_name="+")
    new_stay = models.ForeignKey(Stay, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField()
