from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.utils import translation

from common.models import AuditEntry
from shelters import services
from shelters.importers import parse_capacity, parse_shelter_file
from shelters.models import DataSource, Shelter, ShelterKind, ShelterStatus
from tests.factories import ShelterFactory

NANAO = Path(__file__).resolve().parents[2] / "data" / "nanao-2024"
REFERENCE = NANAO / "reference_data.csv"
FIRST_SNAPSHOT = NANAO / "history" / "open_shelter_Nanao-shi_2024-01-09-1800.csv"
WELFARE_SNAPSHOT = NANAO / "history" / "open_shelter_Nanao-shi_2024-06-20-1200.csv"

GSI_HEADER = (
    "NO,共通ＩＤ,都道府県名及び市町村名,施設・場所名,住所,洪水,崖崩れ、土石流及び地滑り,高潮,地震,津波,"
    "大規模な火災,内水氾濫,火山現象,指定避難所との住所同一,緯度,経度,備考\n"
)
STANDARD_HEADER = "ID,名称,所在地_全国地方公共団体コード,緯度,経度,災害種別_地震,想定収容人数\n"


@pytest.fixture(autouse=True)
def english_messages():
    # The messages are asserted in their English source text; tests/test_i18n.py covers Japanese.
    with translation.override("en"):
        yield


def import_shelters(*args: str | Path) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("import_shelters", *map(str, args), stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def write(tmp_path: Path, text: str, *, name: str = "shelters.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


# --- The real Nanao files -----------------------------------------------------------------------


@pytest.mark.django_db
def test_it_reads_the_real_nanao_reference_file():
    out, _ = import_shelters(REFERENCE)

    assert "created 112, updated 0" in out
    assert Shelter.objects.count() == 112
    school = Shelter.objects.get(code="CC0000000505")
    assert school.name == "七尾中学校"
    assert school.name_kana == "ナナオチュウガッコウ"
    assert school.municipality_code == "172022"
    assert school.address == "石川県七尾市藤橋町辰部５２－１"
    assert (school.prefecture, school.city, school.town, school.block) == ("石川県", "七尾市", "藤橋町辰部", "52番地1")
    assert school.latitude == Decimal("37.038030")
    assert school.longitude == Decimal("136.958490")
    assert school.elevation == Decimal("3.9")
    assert school.capacity == 1371
    assert school.capacity_text == "屋内1,371人／屋外5,470人（面積の1/2）"
    assert school.target_associations == "御祓地区（25町会）"
    assert school.hazard_flood and school.hazard_earthquake and school.hazard_large_fire
    assert not school.hazard_volcano
    assert school.kind == ShelterKind.GENERAL
    assert school.source == DataSource.REAL
    assert school.status == ShelterStatus.STANDBY


def test_a_quoted_line_break_stays_inside_the_english_name_and_lines_count_from_where_records_start():
    records = {r.code: r for r in parse_shelter_file(REFERENCE).records}

    park = records["CC0000000563"]
    assert park.name_en == "wakuraonsenundokoen （tamokutekiguraundo、yottohaba）"
    assert park.capacity == 88
    assert park.line == 61
    assert records["CC0000000564"].line == 63


@pytest.mark.django_db
def test_the_hand_added_shelters_new001_to_new003_are_imported():
    import_shelters(REFERENCE)

    added = Shelter.objects.filter(code__startswith="NEW").order_by("code")
    assert [s.code for s in added] == ["NEW001", "NEW002", "NEW003"]
    shiraha = added[1]
    assert shiraha.name == "白南風"
    assert shiraha.capacity is None and shiraha.capacity_text == ""
    assert shiraha.municipality_code == ""
    assert shiraha.latitude == Decimal("37.131284")
    assert not any(getattr(shiraha, f) for f in ("hazard_flood", "hazard_earthquake", "hazard_tsunami"))


@pytest.mark.django_db
def test_a_history_snapshot_imports_with_its_district():
    out, _ = import_shelters(FIRST_SNAPSHOT)

    assert "created 29, updated 0" in out
    sanno = Shelter.objects.get(code="CC0000000518")
    assert sanno.district == "袖ケ江"
    assert sanno.capacity == 480


@pytest.mark.django_db
def test_a_history_snapshot_leaves_the_columns_it_lacks_alone():
    import_shelters(REFERENCE)

    import_shelters(NANAO / "history" / "open_shelter_Nanao-shi_2024-01-11-1800.csv")

    school = Shelter.objects.get(code="CC0000000504")
    assert school.district == "御祓"
    # The snapshot has no 名称_カナ, 名称_英字 nor local government code: the registry keeps them.
    assert school.name_kana == "ミソギチクコミュニティセンター"
    assert school.name_en == "misogichikukomyuniteisenta"
    assert school.municipality_code == "172022"
    assert Shelter.objects.count() == 112


@pytest.mark.django_db
def test_a_welfare_shelter_named_so_in_a_snapshot_becomes_a_welfare_shelter():
    import_shelters(REFERENCE)

    import_shelters(WELFARE_SNAPSHOT)

    assert Shelter.objects.get(code="NEW002").kind == ShelterKind.WELFARE
    assert Shelter.objects.get(code="CC0000000537").kind == ShelterKind.GENERAL
    # The reference file says nothing about kinds, so importing it again keeps what the snapshot said.
    import_shelters(REFERENCE)
    assert Shelter.objects.get(code="NEW002").kind == ShelterKind.WELFARE


@pytest.mark.django_db
def test_reimporting_updates_by_id_without_duplicating_or_resetting_status_and_occupancy():
    import_shelters(REFERENCE)
    school = Shelter.objects.get(code="CC0000000505")
    Shelter.objects.filter(pk=school.pk).update(
        name="old name", capacity=5, status=ShelterStatus.OPEN, occupancy=42, outside_count=7
    )

    out, _ = import_shelters(REFERENCE)

    assert "created 0, updated 1 (111 unchanged)" in out
    assert Shelter.objects.count() == 112
    school.refresh_from_db()
    assert (school.name, school.capacity) == ("七尾中学校", 1371)
    assert (school.status, school.occupancy, school.outside_count) == (ShelterStatus.OPEN, 42, 7)


@pytest.mark.django_db
def test_an_import_leaves_one_audit_entry_with_its_counts():
    import_shelters(REFERENCE)

    entry = AuditEntry.objects.get(action="shelter.import")
    assert entry.object_type == "shelter_import"
    assert entry.details == {"created": 112, "updated": 0}


# --- Other publishers' files --------------------------------------------------------------------


@pytest.mark.django_db
def test_it_reads_a_gsi_style_file_in_shift_jis(tmp_path):
    path = write(
        tmp_path,
        GSI_HEADER
        + "1,E1720200000001,石川県七尾市,七尾市役所,石川県七尾市袖ケ江町イ部25,1,,1,1,1,1,,,1,37.04290,136.96720,\n"
        + "2,E1720200000002,石川県七尾市,髙階公園,石川県七尾市本府中町,,1,,,,,1,,,37.03,136.97,高台\n",
        encoding="cp932",
    )

    out, _ = import_shelters(path)

    assert "created 2, updated 0" in out
    hall = Shelter.objects.get(code="E1720200000001")
    assert hall.common_id == "E1720200000001"
    assert hall.name == "七尾市役所"
    assert hall.address == "石川県七尾市袖ケ江町イ部25"
    assert (hall.hazard_flood, hall.hazard_landslide, hall.hazard_large_fire, hall.hazard_volcano) == (
        True,
        False,
        True,
        False,
    )
    park = Shelter.objects.get(code="E1720200000002")
    assert park.name == "髙階公園"  # a CP932-only character
    assert park.hazard_landslide and park.hazard_inland_flood and not park.hazard_large_fire


@pytest.mark.django_db
def test_it_reads_utf8_with_a_bom(tmp_path):
    path = write(tmp_path, STANDARD_HEADER + "A1,テスト公民館,172022,37.1,136.9,1,350人\n", encoding="utf-8-sig")

    import_shelters(path)

    hall = Shelter.objects.get(code="A1")
    assert hall.name == "テスト公民館"
    assert hall.capacity == 350 and hall.capacity_text == "350人"
    assert hall.hazard_earthquake


@pytest.mark.parametrize(
    ("published", "stored"),
    [
        ("72028", "072028"),  # Aizuwakamatsu: the zero-filled code passes the check digit
        ("072028", "072028"),
        ("13101", "13101"),  # Chiyoda's five-digit code: zero-filled it would fail the check digit
        ("1100", "01100"),  # Sapporo's five-digit code without its zero
        ("172022", "172022"),
        ("72028.0", "072028"),
    ],
)
def test_a_local_government_code_that_lost_its_leading_zero_gets_it_back(published, stored):
    result = parse_shelter_file(f"ID,名称,所在地_全国地方公共団体コード\nA1,テスト,{published}\n".encode())

    assert result.errors == []
    assert result.records[0].municipality_code == stored


def test_a_six_digit_local_government_code_with_a_wrong_check_digit_is_an_error():
    result = parse_shelter_file("ID,名称,所在地_全国地方公共団体コード\nA1,テスト,072029\n".encode())

    assert [(e.line, e.field) for e in result.errors] == [(2, "所在地_全国地方公共団体コード")]


@pytest.mark.parametrize(
    ("published", "indoor"),
    [
        ("屋内480人／屋外3,350人(面積の1/2)", 480),
        ("屋内1,371人／屋外5,470人（面積の1/2）", 1371),
        ("屋内2,736人屋外11,700人（面積の1/2）", 2736),
        ("屋内0人／屋外9,700人(面積の1/2)", 0),
        ("屋内990人／屋外0人(座席数)", 990),
        ("350", 350),
        ("350人", 350),
        ("１，２００人", 1200),
        ("屋外3,000人", None),
        ("", None),
        ("未定", None),
    ],
)
def test_it_reads_the_indoor_capacity_from_free_text(published, indoor):
    assert parse_capacity(published) == indoor


@pytest.mark.parametrize(
    ("flag", "value"), [("1", True), ("1.0", True), ("○", True), ("◯", True), ("TRUE", True), ("", False), ("0", False)]
)
def test_it_reads_the_hazard_flags_as_published(flag, value):
    result = parse_shelter_file(f"ID,名称,災害種別_津波\nA1,テスト,{flag}\n".encode())

    assert result.records[0].hazard_tsunami is value


def test_an_unknown_hazard_flag_is_an_error_rather_than_a_guess():
    result = parse_shelter_file("ID,名称,津波\nA1,テスト,2\n".encode())

    assert [(e.line, e.field) for e in result.errors] == [(2, "津波")]


@pytest.mark.parametrize(
    "text",
    [
        "ID,名称,避難所種別\nA1,テスト,福祉避難所\n",
        "ID,名称,福祉避難所\nA1,テスト,○\n",
    ],
)
def test_a_shelter_type_or_welfare_column_marks_a_welfare_shelter(text):
    result = parse_shelter_file(text.encode())

    assert result.records[0].kind == ShelterKind.WELFARE


# --- Files with mistakes ------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_bad_latitude_names_its_line_and_column_and_nothing_is_imported(tmp_path):
    path = write(
        tmp_path,
        STANDARD_HEADER
        + "A1,一の避難所,172022,37.1,136.9,1,100\n"
        + "A2,二の避難所,172022,北緯37度,136.9,1,100\n"
        + "A3,三の避難所,172022,37.3,136.9,1,100\n",
    )
    err = StringIO()

    with pytest.raises(CommandError, match="nothing was imported"):
        call_command("import_shelters", str(path), stdout=StringIO(), stderr=err)

    assert f"{path}:3: 緯度: " in err.getvalue()
    assert not Shelter.objects.exists()
    assert not AuditEntry.objects.exists()


@pytest.mark.django_db
def test_a_latitude_out_of_range_is_an_error(tmp_path):
    result = parse_shelter_file((STANDARD_HEADER + "A1,一の避難所,172022,137.1,36.9,1,100\n").encode())

    assert [(e.line, e.field) for e in result.errors] == [(2, "緯度")]


@pytest.mark.django_db
def test_one_bad_file_stops_the_good_ones_too(tmp_path):
    bad = write(tmp_path, STANDARD_HEADER + "A2,二の避難所,172022,37.2,999,1,100\n", name="bad.csv")

    with pytest.raises(CommandError):
        import_shelters(REFERENCE, bad)

    assert not Shelter.objects.exists()


@pytest.mark.django_db
def test_skip_invalid_imports_the_other_rows_and_lists_the_skipped_lines(tmp_path):
    path = write(
        tmp_path,
        STANDARD_HEADER
        + "A1,一の避難所,172022,37.1,136.9,1,100\n"
        + "A2,二の避難所,172022,北緯37度,136.9,1,100\n"
        + ",名無しの行,172022,37.3,136.9,1,100\n"
        + "A4,四の避難所,172022,37.4,136.9,1,100\n",
    )

    out, err = import_shelters(path, "--skip-invalid")

    assert "created 2, updated 0" in out
    assert f"{path}:3: 緯度: " in err
    assert f"{path}:4: ID: " in err
    assert sorted(Shelter.objects.values_list("code", flat=True)) == ["A1", "A4"]


def test_a_duplicate_id_in_one_file_is_an_error_on_the_second_line():
    result = parse_shelter_file((STANDARD_HEADER + "A1,一,,,,,\nA2,二,,,,,\nA1,三,,,,,\n").encode())

    assert [r.code for r in result.records] == ["A1", "A2"]
    assert [(e.line, e.field) for e in result.errors] == [(4, "ID")]
    assert "line 2" in result.errors[0].message


def test_a_row_without_a_name_is_an_error():
    result = parse_shelter_file("ID,名称\nA1,\n".encode())

    assert [(e.line, e.field) for e in result.errors] == [(2, "名称")]
    assert result.records == []


@pytest.mark.django_db
def test_a_file_without_id_or_name_columns_is_one_clear_error(tmp_path):
    path = write(tmp_path, "番号,施設,住所\n1,テスト,七尾市\n")
    err = StringIO()

    with pytest.raises(CommandError):
        call_command("import_shelters", str(path), stdout=StringIO(), stderr=err)

    lines = err.getvalue().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"{path}:1: header: ")
    assert "ID (or 共通ID)" in lines[0] and "名称 (or 施設・場所名)" in lines[0]


# --- The service --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_sample_import_never_relabels_a_real_shelter():
    real = ShelterFactory(code="A1", source=DataSource.REAL)
    records = parse_shelter_file("ID,名称\nA1,改名\nA2,新しい避難所\n".encode()).records

    summary = services.shelter_registry_import(records=records, actor=None, source=DataSource.SAMPLE)

    assert (summary.created, summary.updated) == (1, 1)
    real.refresh_from_db()
    assert (real.name, real.source) == ("改名", DataSource.REAL)
    assert Shelter.objects.get(code="A2").source == DataSource.SAMPLE


@pytest.mark.django_db
def test_when_two_files_name_the_same_shelter_the_later_one_wins():
    first = parse_shelter_file("ID,名称,地区\nA1,最初の名前,東\n".encode()).records
    second = parse_shelter_file("ID,名称\nA1,後の名前\n".encode()).records

    summary = services.shelter_registry_import(records=first + second, actor=None, source=DataSource.REAL)

    assert summary.created == 1
    shelter = Shelter.objects.get(code="A1")
    assert (shelter.name, shelter.district) == ("後の名前", "東")
