"""The starting lists of support needs (要配慮) and shelter facilities; both are editable later."""

from django.db import migrations

SUPPORT_CATEGORIES = [
    ("elderly", "高齢者", "Elderly"),
    ("wheelchair", "車いす", "Wheelchair user"),
    ("bedridden", "寝たきり", "Bedridden"),
    ("dementia", "認知症", "Dementia"),
    ("visual", "視覚障害", "Visual impairment"),
    ("hearing", "聴覚障害", "Hearing impairment"),
    ("intellectual", "知的・発達障害", "Intellectual or developmental disability"),
    ("mental", "精神障害", "Mental illness"),
    ("pregnant", "妊産婦", "Pregnant or postpartum"),
    ("infant", "乳幼児", "Infant"),
    ("dialysis", "人工透析", "Dialysis"),
    ("oxygen", "在宅酸素", "Home oxygen"),
    ("diet", "アレルギー・食事制限", "Allergy or special diet"),
    ("medication", "常用薬", "Regular medication"),
    ("language", "言語支援（外国人等）", "Language support"),
    ("pets", "ペット同伴", "Accompanied by pets"),
]

FACILITIES = [
    ("barrier_free", "バリアフリー", "Barrier-free"),
    ("accessible_toilet", "多目的トイレ", "Accessible toilet"),
    ("pets", "ペット受入", "Pets accepted"),
    ("generator", "非常用発電機", "Emergency generator"),
    ("water", "給水設備", "Water supply"),
    ("wifi", "Wi-Fi", "Wi-Fi"),
    ("air_conditioning", "冷暖房", "Heating and cooling"),
    ("kitchen", "調理室", "Kitchen"),
    ("nursing_room", "授乳室", "Nursing room"),
    ("parking", "駐車場", "Parking"),
]


def add_defaults(apps, schema_editor):
    SupportCategory = apps.get_model("shelters", "SupportCategory")
    Facility = apps.get_model("shelters", "Facility")
    for order, (code, name, name_en) in enumerate(SUPPORT_CATEGORIES):
        SupportCategory.objects.update_or_create(
            code=code, defaults={"name": name, "name_en": name_en, "sort_order": order}
        )
    for order, (code, name, name_en) in enumerate(FACILITIES):
        Facility.objects.update_or_create(code=code, defaults={"name": name, "name_en": name_en, "sort_order": order})


class Migration(migrations.Migration):
    dependencies = [("shelters", "0001_initial")]

    operations = [migrations.RunPython(add_defaults, migrations.RunPython.noop)]
