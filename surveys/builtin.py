"""The built-in 避難生活アンケート: K6, needs, living issues and a free comment.

The data migration installs it as version 1 of survey `evacuation-life`; HQ edits it in the admin
(a new version is a copy, see `surveys.services.survey_version_copy`).
"""

SURVEY_CODE = "evacuation-life"
TITLE = "避難生活アンケート"
TITLE_EN = "Evacuation life survey"

K6_NOTICE = (
    "K6（日本語版）: © Ronald C. Kessler, Harvard Medical School. "
    "Kessler RC, Andrews G, Colpe LJ, et al. Short screening scales to monitor population prevalences "
    "and trends in non-specific psychological distress. Psychol Med. 2002;32(6):959-976. "
    "日本語版: Furukawa TA, Kawakami N, Saitoh M, et al. The performance of the Japanese version of the K6 "
    "and K10 in the World Mental Health Survey Japan. Int J Methods Psychiatr Res. 2008;17(3):152-158."
)
K6_NOTICE_EN = (
    "K6 (Japanese version): © Ronald C. Kessler, Harvard Medical School. "
    "Kessler RC, Andrews G, Colpe LJ, et al. Short screening scales to monitor population prevalences "
    "and trends in non-specific psychological distress. Psychol Med. 2002;32(6):959-976. "
    "Japanese version: Furukawa TA, Kawakami N, Saitoh M, et al. The performance of the Japanese version "
    "of the K6 and K10 in the World Mental Health Survey Japan. Int J Methods Psychiatr Res. 2008;17(3):152-158."
)

# The six items in their Japanese wording, in order.
K6_ITEMS = [
    ("k6_1", "神経過敏に感じましたか", "Did you feel nervous?"),
    ("k6_2", "絶望的だと感じましたか", "Did you feel hopeless?"),
    ("k6_3", "そわそわ、落ち着かなく感じましたか", "Did you feel restless or fidgety?"),
    (
        "k6_4",
        "気分が沈み込んで、何が起こっても気が晴れないように感じましたか",
        "Did you feel so depressed that nothing could cheer you up?",
    ),
    ("k6_5", "何をするのも骨折りだと感じましたか", "Did you feel that everything was an effort?"),
    ("k6_6", "自分は価値のない人間だと感じましたか", "Did you feel worthless?"),
]
K6_ANSWERS = [
    ("always", "いつも", "All of the time", 4),
    ("mostly", "たいてい", "Most of the time", 3),
    ("sometimes", "ときどき", "Some of the time", 2),
    ("a_little", "少しだけ", "A little of the time", 1),
    ("never", "まったくない", "None of the time", 0),
]

# Needs: item code (supply catalogue), Japanese, English, whether a quantity is asked.
NEEDS = [
    ("water", "飲料水", "Drinking water", True),
    ("food", "食料", "Food", True),
    ("infant_formula", "粉ミルク・液体ミルク", "Infant formula", True),
    ("diapers", "おむつ", "Diapers", True),
    ("medicine", "医薬品", "Medicine", False),
    ("hygiene", "衛生用品", "Hygiene items", False),
    ("blankets", "毛布", "Blankets", True),
    ("cardboard_beds", "段ボールベッド", "Cardboard beds", True),
    ("partitions", "間仕切り（パーティション）", "Partitions", True),
    ("clothing", "衣類", "Clothing", False),
    ("batteries", "電池・充電器", "Batteries and chargers", True),
    ("other", "その他", "Other", False),
]

LIVING_ISSUES = [
    ("toilets", "トイレ", "Toilets"),
    ("sleeping", "睡眠", "Sleeping"),
    ("privacy", "プライバシー", "Privacy"),
    ("food", "食事", "Food"),
    ("temperature", "暑さ・寒さ", "Temperature"),
    ("bathing", "入浴・衛生", "Bathing and hygiene"),
    ("noise", "騒音", "Noise"),
    ("medical", "医療へのアクセス", "Access to medical care"),
    ("information", "情報", "Information"),
    ("pets", "ペット", "Pets"),
    ("safety", "安全・防犯", "Safety"),
]
LIVING_SCALE_HELP = "0 問題ない ～ 4 とても困っている"
LIVING_SCALE_HELP_EN = "0 no problem – 4 a serious problem"


def questions() -> list[dict]:
    """The built-in questions, in order, as plain dicts (shared by the migration and the tests)."""
    result: list[dict] = []

    def add(**question):
        question.setdefault("required", False)
        question.setdefault("choices", [])
        question["position"] = len(result) + 1
        result.append(question)

    for code, text, text_en in K6_ITEMS:
        add(
            code=code,
            kind="single",
            category="stress",
            text=text,
            text_en=text_en,
            is_k6_item=True,
            choices=[
                {"value": value, "label": label, "label_en": label_en, "score": score}
                for value, label, label_en, score in K6_ANSWERS
            ],
        )
    add(
        code="needs",
        kind="multiple",
        category="needs",
        text="いま必要な物資はありますか（いくつでも）",
        text_en="Which supplies do you need now? (choose any)",
        choices=[
            {
                "value": code,
                "label": label,
                "label_en": label_en,
                "supply_item_code": code,
                "quantity_question_code": f"needs_{code}_quantity" if with_quantity else "",
            }
            for code, label, label_en, with_quantity in NEEDS
        ],
    )
    for code, label, label_en, with_quantity in NEEDS:
        if with_quantity:
            add(
                code=f"needs_{code}_quantity",
                kind="number",
                category="needs",
                text=f"{label}の必要な数",
                text_en=f"How many: {label_en.lower()}",
                min_value=1,
                max_value=999,
                show_if="needs",
                show_if_values=[code],
            )
    add(
        code="needs_other_text",
        kind="text",
        category="needs",
        text="その他に必要な物",
        text_en="What else do you need?",
        show_if="needs",
        show_if_values=["other"],
    )
    for code, label, label_en in LIVING_ISSUES:
        add(
            code=f"issue_{code}",
            kind="scale",
            category="living",
            text=f"{label}で困っていますか（{LIVING_SCALE_HELP}）",
            text_en=f"{label_en}: how much of a problem is it? ({LIVING_SCALE_HELP_EN})",
        )
    add(
        code="comment",
        kind="text",
        category="other",
        text="ご意見・ご要望（自由記述）",
        text_en="Comments and requests (free text)",
    )
    return result


def install(apps, schema_editor=None, *, recall_period: str = "past_30_days") -> None:
    """Create the built-in survey as its current version, unless it exists already."""
    Survey = apps.get_model("surveys", "Survey")
    SurveyVersion = apps.get_model("surveys", "SurveyVersion")
    Question = apps.get_model("surveys", "Question")
    Choice = apps.get_model("surveys", "Choice")
    survey, _ = Survey.objects.get_or_create(code=SURVEY_CODE, defaults={"title": TITLE, "title_en": TITLE_EN})
    if survey.versions.exists():
        return
    version = SurveyVersion.objects.create(
        survey=survey,
        number=1,
        is_current=True,
        recall_period=recall_period,
        notice=K6_NOTICE,
        notice_en=K6_NOTICE_EN,
    )
    by_code = {}
    for spec in questions():
        spec = dict(spec)
        choices = spec.pop("choices")
        show_if = spec.pop("show_if", None)
        question = Question.objects.create(version=version, show_if=by_code.get(show_if), **spec)
        by_code[question.code] = question
        Choice.objects.bulk_create(
            Choice(question=question, position=position, **choice) for position, choice in enumerate(choices, 1)
        )
