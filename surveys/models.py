"""Surveys of evacuees (stress, needs, living issues), their answers and the follow-up they call for.

A survey has versions; its questions belong to a version, and each response keeps the version it
answered, so editing a survey never changes the meaning of old answers. Writes go through
`surveys.services`; reads of anything tied to a person through `access.policy`.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from shelters.models import DataSource


class Survey(models.Model):
    code = models.SlugField(_("code"), max_length=64, unique=True)
    title = models.CharField(_("title (Japanese)"), max_length=200)
    title_en = models.CharField(_("title (English)"), max_length=200)

    class Meta:
        ordering = ["code"]
        verbose_name = _("survey")
        verbose_name_plural = _("surveys")

    def __str__(self) -> str:
        return self.title


class RecallPeriod(models.TextChoices):
    """The period the K6 items ask about."""

    PAST_30_DAYS = "past_30_days", _("In the past 30 days")
    PAST_WEEK = "past_week", _("In the past week")


class SurveyVersion(models.Model):
    """What respondents actually answer. Only one version of a survey is current at a time."""

    survey = models.ForeignKey(Survey, on_delete=models.PROTECT, related_name="versions", verbose_name=_("survey"))
    number = models.PositiveIntegerField(_("version"))
    is_current = models.BooleanField(_("current"), default=False)
    recall_period = models.CharField(
        _("K6 recall period"), max_length=16, choices=RecallPeriod.choices, default=RecallPeriod.PAST_30_DAYS
    )
    notice = models.TextField(_("notice shown with the survey (Japanese)"), blank=True)
    notice_en = models.TextField(_("notice shown with the survey (English)"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["survey", "-number"]
        verbose_name = _("survey version")
        verbose_name_plural = _("survey versions")
        constraints = [
            models.UniqueConstraint(fields=["survey", "number"], name="survey_version_number_unique"),
            models.UniqueConstraint(fields=["survey"], condition=Q(is_current=True), name="survey_one_current_version"),
        ]

    def __str__(self) -> str:
        return f"{self.survey} v{self.number}"


class QuestionKind(models.TextChoices):
    SINGLE = "single", _("Single choice")
    MULTIPLE = "multiple", _("Multiple choice")
    SCALE = "scale", _("Scale 0–4")
    NUMBER = "number", _("Number")
    TEXT = "text", _("Free text")


class QuestionCategory(models.TextChoices):
    STRESS = "stress", _("Stress")
    NEEDS = "needs", _("Needs")
    LIVING = "living", _("Living issues")
    OTHER = "other", _("Other")


class Question(models.Model):
    """One question of one version.

    `code` is stable across versions (`k6_1`, `needs`, `issue_toilets`), so reports and imports
    refer to questions by code. A question with `show_if` is asked only when the answer to that
    earlier question is one of `show_if_values` (for a multiple choice: contains one of them).
    """

    version = models.ForeignKey(
        SurveyVersion, on_delete=models.CASCADE, related_name="questions", verbose_name=_("version")
    )
    code = models.SlugField(_("code"), max_length=64)
    position = models.PositiveSmallIntegerField(_("position"))
    kind = models.CharField(_("type"), max_length=16, choices=QuestionKind.choices)
    category = models.CharField(_("category"), max_length=16, choices=QuestionCategory.choices)
    text = models.TextField(_("text (Japanese)"))
    text_en = models.TextField(_("text (English)"))
    required = models.BooleanField(_("required"), default=False)
    show_if = models.ForeignKey(
        "self",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="dependents",
        verbose_name=_("show if the answer to"),
    )
    show_if_values = models.JSONField(_("is one of"), default=list, blank=True)
    min_value = models.IntegerField(_("minimum"), null=True, blank=True)
    max_value = models.IntegerField(_("maximum"), null=True, blank=True)
    is_k6_item = models.BooleanField(
        _("K6 item"), default=False, help_text=_("Scored into the K6 total (0–4 per item, six items).")
    )

    class Meta:
        ordering = ["version", "position"]
        verbose_name = _("question")
        verbose_name_plural = _("questions")
        constraints = [
            models.UniqueConstraint(fields=["version", "code"], name="question_code_unique_per_version"),
            models.UniqueConstraint(fields=["version", "position"], name="question_position_unique_per_version"),
        ]

    def __str__(self) -> str:
        return f"{self.code}: {self.text[:40]}"


class Choice(models.Model):
    """An answer option of a single- or multiple-choice or scale question.

    `score` is what the option counts for (K6: いつも 4 … まったくない 0; living issues 0–4).
    `supply_item_code` ties a needs option to the supply catalogue (`supply.Item.code`).
    """

    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="choices")
    value = models.SlugField(_("value"), max_length=64)
    position = models.PositiveSmallIntegerField(_("position"))
    label = models.CharField(_("label (Japanese)"), max_length=200)
    label_en = models.CharField(_("label (English)"), max_length=200)
    score = models.SmallIntegerField(_("score"), null=True, blank=True)
    supply_item_code = models.SlugField(_("supply item"), max_length=64, blank=True)
    quantity_question_code = models.SlugField(
        _("quantity question"), max_length=64, blank=True, help_text=_("Code of the question asking how many.")
    )

    class Meta:
        ordering = ["question", "position"]
        verbose_name = _("choice")
        verbose_name_plural = _("choices")
        constraints = [
            models.UniqueConstraint(fields=["question", "value"], name="choice_value_unique_per_question"),
        ]

    def __str__(self) -> str:
        return self.label


class ResponseChannel(models.TextChoices):
    PHONE = "phone", _("Resident's phone")
    PROXY = "proxy", _("Entered by shelter staff")
    IMPORT = "import", _("Imported")


class Response(models.Model):
    """One filled-in survey, at one shelter, by a known resident or anonymously.

    `answers` maps question code to the answer as validated by `surveys.services` (a choice value,
    a list of values, a number or a text). The K6 total is stored only when all six items are
    answered: a partial sum would understate distress.
    """

    version = models.ForeignKey(SurveyVersion, on_delete=models.PROTECT, related_name="responses")
    shelter = models.ForeignKey("shelters.Shelter", on_delete=models.PROTECT, related_name="survey_responses")
    respondent = models.ForeignKey(
        "shelters.Evacuee", on_delete=models.SET_NULL, null=True, blank=True, related_name="survey_responses"
    )
    channel = models.CharField(_("channel"), max_length=16, choices=ResponseChannel.choices)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    submission_key = models.CharField(
        _("submission key"),
        max_length=200,
        unique=True,
        help_text=_("Sent with the form (or built from the import's row id): the same submission is stored once."),
    )
    answered_at = models.DateTimeField(_("answered at"), db_index=True)
    received_at = models.DateTimeField(_("received at"), auto_now_add=True)
    answers = models.JSONField(_("answers"), default=dict)
    k6_score = models.SmallIntegerField(_("K6 score"), null=True, blank=True)
    source = models.CharField(_("source"), max_length=16, choices=DataSource.choices, default=DataSource.REAL)

    class Meta:
        ordering = ["-answered_at"]
        verbose_name = _("survey response")
        verbose_name_plural = _("survey responses")
        indexes = [models.Index(fields=["shelter", "answered_at"], name="response_shelter_time")]
        constraints = [
            models.CheckConstraint(
                condition=Q(k6_score__isnull=True) | Q(k6_score__gte=0, k6_score__lte=24), name="response_k6_range"
            ),
        ]


class SurveyToken(models.Model):
    """A resident's personal survey token, printed on a slip or shown on screen at check-in.

    Answering with it links the answers to the resident; without it, answers are anonymous for the
    shelter. The token only identifies; it can never read anything back.
    """

    evacuee = models.ForeignKey("shelters.Evacuee", on_delete=models.CASCADE, related_name="survey_tokens")
    token = models.CharField(_("token"), max_length=32, unique=True)
    issued_at = models.DateTimeField(_("issued at"), auto_now_add=True)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("survey token")
        verbose_name_plural = _("survey tokens")
        constraints = [
            models.UniqueConstraint(
                fields=["evacuee"], condition=Q(revoked_at__isnull=True), name="survey_token_one_active_per_person"
            ),
        ]


class FollowUpState(models.TextChoices):
    NEW = "new", _("New")
    CONTACTED = "contacted", _("Contacted")
    REFERRED = "referred", _("Referred to health staff")
    CLOSED = "closed", _("Closed")


class FollowUp(models.Model):
    """A resident whose K6 was 13 or more, on their shelter's follow-up list until closed."""

    evacuee = models.ForeignKey("shelters.Evacuee", on_delete=models.PROTECT, related_name="follow_ups")
    shelter = models.ForeignKey("shelters.Shelter", on_delete=models.PROTECT, related_name="follow_ups")
    response = models.ForeignKey(Response, on_delete=models.PROTECT, related_name="follow_ups")
    k6_score = models.SmallIntegerField(_("K6 score"))
    state = models.CharField(_("state"), max_length=16, choices=FollowUpState.choices, default=FollowUpState.NEW)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("follow-up")
        verbose_name_plural = _("follow-ups")
        constraints = [
            # A later distressed answer updates the open case instead of opening a second one.
            models.UniqueConstraint(
                fields=["evacuee"], condition=~Q(state="closed"), name="follow_up_one_open_per_person"
            ),
        ]


class FollowUpChange(models.Model):
    """Who moved a follow-up to which state, when, and why."""

    follow_up = models.ForeignKey(FollowUp, on_delete=models.CASCADE, related_name="changes")
    from_state = models.CharField(max_length=16, choices=FollowUpState.choices, blank=True)
    to_state = models.CharField(max_length=16, choices=FollowUpState.choices)
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    changed_at = models.DateTimeField(auto_now_add=True)
    note = models.CharField(_("note"), max_length=500, blank=True)

    class Meta:
        ordering = ["changed_at"]


# --- Imports of responses collected elsewhere (Qualtrics, KoBoToolbox) ---------------------------


class SurveyImportMapping(models.Model):
    """A saved column-to-question mapping for files from one source, reused import after import.

    `mapping` is JSON, checked by `surveys.imports.formats.mapping_problems`:
    {"columns": {"Q1": {"question": "k6_1"}, "Q7_1": {"question": "needs", "option": "water"}},
     "values": {"k6_1": {"1": "always"}}, "codes": "position" | "",
     "shelter_column": "", "answered_at_column": "RecordedDate", "response_id_column": "ResponseId"}
    """

    name = models.CharField(_("name"), max_length=100, unique=True)
    mapping = models.JSONField(_("mapping"), default=dict)
    notes = models.TextField(_("notes"), blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("survey import mapping")
        verbose_name_plural = _("survey import mappings")

    def __str__(self) -> str:
        return self.name


class ImportState(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class SurveyImport(models.Model):
    """One uploaded file and its import: durable before a worker sees it, with its progress.

    The file is kept in the row itself (a few MB at most), so a worker on another machine reads
    it without shared storage and nothing is lost if the broker is down when it is uploaded.
    """

    version = models.ForeignKey(SurveyVersion, on_delete=models.PROTECT, related_name="+")
    file_name = models.CharField(_("file"), max_length=255)
    content = models.BinaryField(_("content"))
    file_format = models.CharField(_("format"), max_length=16, blank=True)
    encoding = models.CharField(_("encoding"), max_length=16, blank=True)
    saved_mapping = models.ForeignKey(
        SurveyImportMapping, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    mapping = models.JSONField(_("mapping used"), default=dict)
    shelter = models.ForeignKey(
        "shelters.Shelter",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("The shelter of every row, unless the mapping names a shelter column."),
    )
    skip_invalid = models.BooleanField(_("import the valid rows"), default=False)
    language = models.CharField(
        _("language"), max_length=8, blank=True, help_text=_("The uploader's language, for the messages by line.")
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    state = models.CharField(_("state"), max_length=16, choices=ImportState.choices, default=ImportState.QUEUED)
    total_rows = models.PositiveIntegerField(_("rows"), default=0)
    rows_checked = models.PositiveIntegerField(_("rows checked"), default=0)
    rows_processed = models.PositiveIntegerField(_("rows processed"), default=0)
    imported = models.PositiveIntegerField(_("imported"), default=0)
    duplicates = models.PositiveIntegerField(_("skipped as duplicates"), default=0)
    ignored = models.PositiveIntegerField(_("ignored (preview, test or spam)"), default=0)
    invalid_rows = models.PositiveIntegerField(_("rows with errors"), default=0)
    errors = models.JSONField(_("errors"), default=list, blank=True)
    error_count = models.PositiveIntegerField(_("errors"), default=0)
    message = models.CharField(_("message"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("survey import")
        verbose_name_plural = _("survey imports")
        constraints = [
            models.CheckConstraint(
                condition=Q(rows_processed__lte=models.F("total_rows")) | Q(total_rows=0),
                name="survey_import_progress_within_total",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.get_state_display()})"


class ReportDay(models.Model):
    """Running totals of one shelter's responses on one day (Asia/Tokyo), for the officials' reports.

    Kept by `surveys.services.response_submit` in the same transaction as the response, so the
    reports read about one row per shelter and day instead of every answer. `issues` maps a living
    issue's code (without `issue_`) to [answers, sum of the 0–4 scores]; `needs` maps a needs
    option to [respondents asking, sum of the quantities given]. `surveys.reports.build.rollup_rebuild`
    recomputes them from the responses.
    """

    shelter = models.ForeignKey("shelters.Shelter", on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    responses = models.PositiveIntegerField(default=0)
    k6_responses = models.PositiveIntegerField(default=0)
    k6_sum = models.PositiveIntegerField(default=0)
    k6_10_or_more = models.PositiveIntegerField(default=0)
    k6_13_or_more = models.PositiveIntegerField(default=0)
    issues = models.JSONField(default=dict)
    needs = models.JSONField(default=dict)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["day", "shelter"], name="report_day_unique")]
