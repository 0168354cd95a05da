"""The items every installation starts with; HQ edits the catalogue in the admin afterwards."""

# code, Japanese name, English name, Japanese unit, English unit
DEFAULT_ITEMS = [
    ("water", "飲料水（2L）", "Drinking water (2 L)", "本", "bottles"),
    ("food", "食料（非常食）", "Food (emergency rations)", "食", "meals"),
    ("infant_formula", "粉ミルク・液体ミルク", "Infant formula", "個", "units"),
    ("diapers", "おむつ", "Diapers", "枚", "pieces"),
    ("medicine", "医薬品", "Medicine", "件", "items"),
    ("hygiene", "衛生用品", "Hygiene items", "セット", "sets"),
    ("blankets", "毛布", "Blankets", "枚", "pieces"),
    ("cardboard_beds", "段ボールベッド", "Cardboard beds", "台", "beds"),
    ("partitions", "間仕切り（パーティション）", "Partitions", "組", "sets"),
    ("clothing", "衣類", "Clothing", "件", "items"),
    ("batteries", "電池・充電器", "Batteries and chargers", "個", "units"),
    ("adult_diapers", "大人用おむつ", "Adult diapers", "枚", "pieces"),
    ("sanitary_items", "生理用品", "Sanitary items", "パック", "packs"),
    ("masks", "マスク", "Masks", "枚", "pieces"),
    ("portable_toilets", "簡易トイレ", "Portable toilets", "回分", "uses"),
    ("other", "その他", "Other", "件", "items"),
]


def add_default_items(apps, schema_editor) -> None:
    Item = apps.get_model("supply", "Item")
    for position, (code, name, name_en, unit, unit_en) in enumerate(DEFAULT_ITEMS):
        Item.objects.update_or_create(
            code=code,
            defaults={"name": name, "name_en": name_en, "unit": unit, "unit_en": unit_en, "sort_order": position},
        )
