"""Sample data for demonstrations and training: Aizuwakamatsu City (会津若松市, 072028).

Everything loaded here is SAMPLE data (`source=DataSource.SAMPLE`). The shelters carry the names of
real facilities so the map looks like the city, but their status and numbers are made up; the
evacuees are fictional people generated from common names, with addresses marked （サンプル） and
phone numbers in the unused 0242-00 exchange.

`demo_load()` loads the whole demo through `common.sources`: this app's part
(`shelters_sample_load`, registered in `SheltersConfig.ready()`) and the parts the other apps
registered (survey answers, supply depots), without this app importing them. It is idempotent:
shelters are master data keyed by a stable code, users by username, and the people are created only
when no sample evacuee exists yet. `reset` first removes the sample rows through the same
`source_rows_remove` the replay's removal uses.
"""

import itertools
import json
import random
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from common.instance import instance_secret
from common.sources import DataSource, sample_data_load, source_rows_remove
from shelters.models import (
    HAZARD_FIELDS,
    Disaster,
    Evacuee,
    Facility,
    Household,
    Role,
    Sex,
    Shelter,
    ShelterKind,
    ShelterStatus,
    Stay,
    StayMode,
    User,
)
from shelters.services import PersonData, household_register, shelter_status_change, stay_check_in

# The password the README once published for every demo account. Accounts that still have it get
# this installation's own passwords at the next load (see demo_passwords).
PUBLISHED_PASSWORD = "demo-pass-2026"
MUNICIPALITY_CODE = "072028"
PREFECTURE = "福島県"
CITY = "会津若松市"
SEED = 2026
OPENING_REASON = "サンプルデータ"

# --- Shelters ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SampleShelter:
    number: int
    name: str
    name_kana: str
    name_en: str
    town: str
    district: str
    latitude: str
    longitude: str
    capacity: int
    facilities: tuple[str, ...]
    target_associations: str
    block: str = ""
    # True means usable as a refuge from it: ○ in the city's list. △ (depends on the rainfall) and
    # × are False. The first seven schools follow the city's published list; the rest are estimates.
    flood: bool = True
    landslide: bool = True
    kind: str = ShelterKind.GENERAL
    opens: bool = False

    @property
    def code(self) -> str:
        return f"SAMPLE-AIZU-{self.number:03d}"

    @property
    def address(self) -> str:
        return f"{PREFECTURE}{CITY}{self.town}{self.block}"

    def defaults(self) -> dict:
        hazards = dict.fromkeys(HAZARD_FIELDS, False)
        hazards |= {
            "hazard_earthquake": True,
            "hazard_large_fire": self.kind == ShelterKind.GENERAL,
            "hazard_flood": self.flood,
            "hazard_inland_flood": self.flood,
            "hazard_landslide": self.landslide,
        }
        return {
            "name": self.name,
            "name_kana": self.name_kana,
            "name_en": self.name_en,
            "municipality_code": MUNICIPALITY_CODE,
            "address": self.address,
            "prefecture": PREFECTURE,
            "city": CITY,
            "town": self.town,
            "block": self.block,
            "district": self.district,
            "latitude": Decimal(self.latitude),
            "longitude": Decimal(self.longitude),
            "kind": self.kind,
            "capacity": self.capacity,
            "capacity_text": f"屋内{self.capacity}人",
            "target_associations": self.target_associations,
            "source": DataSource.SAMPLE,
            **hazards,
        }


SCHOOL = ("parking", "water", "accessible_toilet")
HALL = ("parking", "water", "accessible_toilet", "barrier_free", "air_conditioning", "wifi")
WELFARE = (
    "parking",
    "water",
    "accessible_toilet",
    "barrier_free",
    "air_conditioning",
    "generator",
    "kitchen",
    "nursing_room",
)

# Positions are approximate (within about a kilometre), from general knowledge of the city.
SHELTERS: tuple[SampleShelter, ...] = (
    SampleShelter(1, "会津若松市立鶴城小学校", "アイヅワカマツシリツカクジョウショウガッコウ", "Kakujo Elementary School",
                  "東栄町", "鶴城地区", "37.492500", "139.933500", 450, (*SCHOOL, "generator", "wifi"),
                  "東栄町・追手町・城東町の各町内会", block="7-7", flood=False, opens=True),
    SampleShelter(2, "会津若松市立城北小学校", "アイヅワカマツシリツジョウホクショウガッコウ", "Johoku Elementary School",
                  "城北町", "城北地区", "37.513500", "139.924500", 500, (*SCHOOL, "pets"),
                  "城北町・北町・八角町の各町内会", block="2-1", opens=True),
    SampleShelter(3, "会津若松市立行仁小学校", "アイヅワカマツシリツギョウニンショウガッコウ", "Gyonin Elementary School",
                  "行仁町", "行仁地区", "37.506500", "139.930000", 400, (*SCHOOL, "barrier_free"),
                  "行仁町・駅前町・白虎町の各町内会", block="6-1", opens=True),
    SampleShelter(4, "会津若松市立城西小学校", "アイヅワカマツシリツジョウセイショウガッコウ", "Josei Elementary School",
                  "川原町", "城西地区", "37.501000", "139.910500", 400, SCHOOL,
                  "川原町・七日町・西栄町の各町内会", block="4-1", flood=False),
    SampleShelter(5, "会津若松市立謹教小学校", "アイヅワカマツシリツキンキョウショウガッコウ", "Kinkyo Elementary School",
                  "米代一丁目", "謹教地区", "37.496000", "139.921000", 350, SCHOOL,
                  "米代・大町・中町の各町内会", block="5-33", flood=False),
    SampleShelter(6, "会津若松市立日新小学校", "アイヅワカマツシリツニッシンショウガッコウ", "Nisshin Elementary School",
                  "日新町", "日新地区", "37.490500", "139.915000", 450, (*SCHOOL, "generator"),
                  "日新町・湯川町・西七日町の各町内会", block="7-40", flood=False),
    SampleShelter(7, "会津若松市立一箕小学校", "アイヅワカマツシリツイッキショウガッコウ", "Ikki Elementary School",
                  "山見一丁目", "一箕地区", "37.506500", "139.954500", 450, (*SCHOOL, "pets"),
                  "一箕町八幡・山見町・石堂町の各町内会", block="4-2", opens=True),
    SampleShelter(8, "会津若松市立松長小学校", "アイヅワカマツシリツマツナガショウガッコウ", "Matsunaga Elementary School",
                  "一箕町松長", "松長地区", "37.519500", "139.964000", 400, (*SCHOOL, "barrier_free", "wifi"),
                  "松長団地の各町内会", opens=True),
    SampleShelter(9, "会津若松市立東山小学校", "アイヅワカマツシリツヒガシヤマショウガッコウ", "Higashiyama Elementary School",
                  "東山町", "東山地区", "37.481500", "139.954500", 250, SCHOOL,
                  "東山町石山・湯本の各町内会", flood=False, landslide=False),
    SampleShelter(10, "会津若松市立門田小学校", "アイヅワカマツシリツモンデンショウガッコウ", "Monden Elementary School",
                  "門田町", "門田地区", "37.464500", "139.926500", 450, (*SCHOOL, "generator"),
                  "門田町飯寺・御山の各町内会", flood=False),
    SampleShelter(11, "会津若松市立神指小学校", "アイヅワカマツシリツコウザシショウガッコウ", "Kozashi Elementary School",
                  "神指町", "神指地区", "37.517000", "139.896000", 350, (*SCHOOL, "pets"),
                  "神指町黒川・高瀬の各町内会", flood=False),
    SampleShelter(12, "会津若松市立大戸小学校", "アイヅワカマツシリツオオトショウガッコウ", "Oto Elementary School",
                  "大戸町", "大戸地区", "37.427000", "139.929000", 200, SCHOOL,
                  "大戸町上三寄・小谷の各町内会", flood=False, landslide=False),
    SampleShelter(13, "会津若松市立湊小学校", "アイヅワカマツシリツミナトショウガッコウ", "Minato Elementary School",
                  "湊町", "湊地区", "37.465000", "140.015000", 200, SCHOOL,
                  "湊町共和・静潟の各町内会"),
    SampleShelter(14, "会津若松市立河東学園小学校", "アイヅワカマツシリツカワヒガシガクエンショウガッコウ",
                  "Kawahigashi Gakuen Elementary School", "河東町", "河東地区", "37.556000", "139.987500", 500,
                  (*SCHOOL, "barrier_free", "air_conditioning", "generator"), "河東町広田・南高野の各町内会", opens=True),
    SampleShelter(15, "会津若松市立第一中学校", "アイヅワカマツシリツダイイチチュウガッコウ", "Daiichi Junior High School",
                  "宮町", "鶴城地区", "37.500000", "139.936000", 600, (*SCHOOL, "generator", "kitchen", "wifi"),
                  "宮町・東栄町・栄町の各町内会", opens=True),
    SampleShelter(16, "会津若松市立第二中学校", "アイヅワカマツシリツダイニチュウガッコウ", "Daini Junior High School",
                  "西栄町", "城西地区", "37.509000", "139.915500", 600, (*SCHOOL, "kitchen"),
                  "西栄町・扇町・千石町の各町内会", flood=False),
    SampleShelter(17, "会津若松市立第三中学校", "アイヅワカマツシリツダイサンチュウガッコウ", "Daisan Junior High School",
                  "湯川町", "日新地区", "37.487500", "139.918000", 650, (*SCHOOL, "kitchen"),
                  "湯川町・日新町・城前の各町内会", block="4-20", flood=False),
    SampleShelter(18, "会津若松市立第四中学校", "アイヅワカマツシリツダイヨンチュウガッコウ", "Daiyon Junior High School",
                  "一箕町", "一箕地区", "37.499000", "139.948000", 700, (*SCHOOL, "kitchen", "generator", "pets"),
                  "一箕町八幡・居合町・蚕養町の各町内会", opens=True),
    SampleShelter(19, "会津若松市立第五中学校", "アイヅワカマツシリツダイゴチュウガッコウ", "Daigo Junior High School",
                  "花見ケ丘", "門田地区", "37.473000", "139.930000", 700, (*SCHOOL, "kitchen", "air_conditioning"),
                  "花見ケ丘・門田町中野・徒之町の各町内会", opens=True),
    SampleShelter(20, "会津若松市立第六中学校", "アイヅワカマツシリツダイロクチュウガッコウ", "Dairoku Junior High School",
                  "町北町", "神指地区", "37.516500", "139.909000", 600, (*SCHOOL, "kitchen"),
                  "町北町・高野町の各町内会", flood=False),
    SampleShelter(21, "会津若松市立一箕中学校", "アイヅワカマツシリツイッキチュウガッコウ", "Ikki Junior High School",
                  "一箕町", "一箕地区", "37.514500", "139.956000", 550, (*SCHOOL, "kitchen"),
                  "一箕町亀賀・鶴賀の各町内会"),
    SampleShelter(22, "会津若松市立湊中学校", "アイヅワカマツシリツミナトチュウガッコウ", "Minato Junior High School",
                  "湊町", "湊地区", "37.463000", "140.017500", 250, SCHOOL,
                  "湊町赤井・原の各町内会"),
    SampleShelter(23, "会津若松市立大戸中学校", "アイヅワカマツシリツオオトチュウガッコウ", "Oto Junior High School",
                  "大戸町", "大戸地区", "37.424500", "139.931000", 250, SCHOOL,
                  "大戸町芦牧・雨屋の各町内会", flood=False, landslide=False),
    SampleShelter(24, "会津若松市立北会津中学校", "アイヅワカマツシリツキタアイヅチュウガッコウ", "Kita-Aizu Junior High School",
                  "北会津町", "北会津地区", "37.482000", "139.872000", 500, (*SCHOOL, "kitchen", "pets"),
                  "北会津町の各町内会", flood=False),
    SampleShelter(25, "会津若松市立河東学園中学校", "アイヅワカマツシリツカワヒガシガクエンチュウガッコウ",
                  "Kawahigashi Gakuen Junior High School", "河東町", "河東地区", "37.557200", "139.989000", 550,
                  (*SCHOOL, "barrier_free", "air_conditioning", "kitchen"), "河東町郡山・八田の各町内会"),
    SampleShelter(26, "会津若松市文化センター", "アイヅワカマツシブンカセンター", "Aizuwakamatsu City Culture Center",
                  "城前", "日新地区", "37.483000", "139.924000", 600, (*HALL, "generator"),
                  "城前・追手町の各町内会", flood=False),
    SampleShelter(27, "會津稽古堂", "アイヅケイコドウ", "Aizu Keikodo", "栄町", "鶴城地区", "37.495500",
                  "139.927000", 300, (*HALL, "generator", "kitchen", "nursing_room"),
                  "栄町・中央・大町の各町内会", opens=True),
    SampleShelter(28, "河東総合体育館", "カワヒガシソウゴウタイイクカン", "Kawahigashi General Gymnasium", "河東町",
                  "河東地区", "37.554000", "139.985000", 700, (*HALL, "pets"),
                  "河東町の各町内会"),
    # The two welfare shelters (福祉避難所) take people who need care; check the second name against
    # the city's current list of agreements before showing it outside a demo.
    SampleShelter(29, "会津若松市総合福祉センター", "アイヅワカマツシソウゴウフクシセンター",
                  "Aizuwakamatsu City General Welfare Center", "城東町", "鶴城地区", "37.487000", "139.937500",
                  50, WELFARE, "市内全域（要配慮者）", kind=ShelterKind.WELFARE, opens=True),
    SampleShelter(30, "特別養護老人ホーム芦ノ牧ホーム", "トクベツヨウゴロウジンホームアシノマキホーム",
                  "Ashinomaki Home (nursing home)", "大戸町芦牧", "大戸地区", "37.395000", "139.925000", 30,
                  WELFARE, "市内全域（要配慮者）", flood=False, landslide=False, kind=ShelterKind.WELFARE, opens=True),
)  # fmt: skip

MANAGED_SHELTER_CODES = ("SAMPLE-AIZU-001", "SAMPLE-AIZU-015")  # 鶴城小学校 and 第一中学校

# --- Demo users ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoUser:
    username: str
    role: str
    superuser: bool = False
    manages: tuple[str, ...] = ()


DEMO_USERS: tuple[DemoUser, ...] = (
    DemoUser("hq", Role.HQ),
    DemoUser("manager", Role.MANAGER, manages=MANAGED_SHELTER_CODES),
    DemoUser("official", Role.OFFICIAL),
    DemoUser("admin", Role.ADMIN, superuser=True),
)


def demo_passwords() -> dict[str, str]:
    """Each demo account's password at creation: DEMO_PASSWORD for all of them when it is set (tests,
    a training session), else passwords generated for this installation on the first load and kept
    in var/demo-logins.json (mode 0600), so `load_demo` prints the same ones at every start."""
    if settings.DEMO_PASSWORD:
        return {demo.username: settings.DEMO_PASSWORD for demo in DEMO_USERS}
    stored = instance_secret(
        settings.VAR_DIR / "demo-logins.json",
        generate=lambda: json.dumps({demo.username: _new_password() for demo in DEMO_USERS}),
    )
    return json.loads(stored)


def _new_password() -> str:
    # 72 random bits in three groups someone can read out and type on a tablet.
    return "-".join(secrets.token_hex(3) for _ in range(3))


# --- Fictional people ----------------------------------------------------------------------------

HOUSEHOLD_COUNT = 110
CHECKED_IN_SHARE = 0.7
OUTSIDE_HOUSEHOLDS = 10

FAMILY_NAMES = (
    ("佐藤", "サトウ"), ("鈴木", "スズキ"), ("渡部", "ワタナベ"), ("星", "ホシ"), ("遠藤", "エンドウ"),
    ("斎藤", "サイトウ"), ("小林", "コバヤシ"), ("高橋", "タカハシ"), ("伊藤", "イトウ"), ("渡辺", "ワタナベ"),
    ("五十嵐", "イガラシ"), ("長谷川", "ハセガワ"), ("目黒", "メグロ"), ("荒井", "アライ"), ("菅野", "カンノ"),
    ("加藤", "カトウ"), ("吉田", "ヨシダ"), ("山内", "ヤマウチ"), ("武藤", "ムトウ"), ("猪俣", "イノマタ"),
    ("坂内", "バンナイ"), ("小椋", "オグラ"), ("穴沢", "アナザワ"), ("酒井", "サカイ"), ("大竹", "オオタケ"),
    ("横山", "ヨコヤマ"), ("石田", "イシダ"), ("本田", "ホンダ"), ("蓮沼", "ハスヌマ"), ("田中", "タナカ"),
)  # fmt: skip

# Given names by generation, so a grandmother is not called 陽葵.
GIVEN_NAMES = {
    ("old", Sex.MALE): (
        ("清", "キヨシ"), ("勇", "イサム"), ("正", "タダシ"), ("茂", "シゲル"), ("実", "ミノル"), ("博", "ヒロシ"),
        ("進", "ススム"), ("武", "タケシ"), ("昭二", "ショウジ"), ("和夫", "カズオ"), ("一郎", "イチロウ"),
        ("正雄", "マサオ"),
    ),
    ("old", Sex.FEMALE): (
        ("和子", "カズコ"), ("幸子", "サチコ"), ("節子", "セツコ"), ("洋子", "ヨウコ"), ("京子", "キョウコ"),
        ("恵子", "ケイコ"), ("美代子", "ミヨコ"), ("トシ", "トシ"), ("ハル", "ハル"), ("久子", "ヒサコ"),
        ("悦子", "エツコ"), ("信子", "ノブコ"),
    ),
    ("middle", Sex.MALE): (
        ("誠", "マコト"), ("浩二", "コウジ"), ("健一", "ケンイチ"), ("大輔", "ダイスケ"), ("拓也", "タクヤ"),
        ("直樹", "ナオキ"), ("隆", "タカシ"), ("修", "オサム"), ("剛", "ツヨシ"), ("和也", "カズヤ"),
        ("達也", "タツヤ"), ("聡", "サトシ"),
    ),
    ("middle", Sex.FEMALE): (
        ("裕子", "ユウコ"), ("真由美", "マユミ"), ("美穂", "ミホ"), ("智子", "トモコ"), ("恵", "メグミ"),
        ("直美", "ナオミ"), ("由美", "ユミ"), ("香織", "カオリ"), ("愛", "アイ"), ("彩", "アヤ"), ("麻衣", "マイ"),
        ("久美子", "クミコ"),
    ),
    ("young", Sex.MALE): (
        ("蓮", "レン"), ("悠真", "ユウマ"), ("陽翔", "ハルト"), ("湊", "ミナト"), ("大翔", "ヒロト"),
        ("颯太", "ソウタ"), ("翔太", "ショウタ"), ("樹", "イツキ"), ("蒼", "アオイ"), ("健太", "ケンタ"),
        ("陸", "リク"), ("大和", "ヤマト"),
    ),
    ("young", Sex.FEMALE): (
        ("陽葵", "ヒマリ"), ("結衣", "ユイ"), ("葵", "アオイ"), ("凛", "リン"), ("美咲", "ミサキ"),
        ("結菜", "ユイナ"), ("芽依", "メイ"), ("さくら", "サクラ"), ("花", "ハナ"), ("莉子", "リコ"),
        ("彩花", "アヤカ"), ("美羽", "ミウ"),
    ),
}  # fmt: skip

# Real town names; every address also ends in （サンプル）.
TOWNS = (
    "東栄町", "追手町", "城東町", "栄町", "中央", "大町", "七日町", "日新町", "川原町", "米代", "城北町",
    "行仁町", "白虎町", "扇町", "町北町", "高野町", "神指町", "一箕町", "東山町", "門田町", "花見ケ丘",
    "材木町", "西栄町", "湯川町", "北会津町", "河東町", "大戸町", "湊町",
)  # fmt: skip

SUPPORT_NOTES = {
    "infant": ("粉ミルクとおむつが必要", "離乳食が必要", "夜泣きがあるため配慮を希望"),
    "elderly": ("歩行がゆっくり。段差に配慮", "一人暮らし。見守りが必要", "トイレの近くを希望"),
    "wheelchair": ("車いす使用。段差のない場所を希望",),
    "bedridden": ("介護ベッドが必要。家族が介助",),
    "dementia": ("認知症あり。家族が付き添い",),
    "visual": ("視覚障害あり。誘導が必要",),
    "hearing": ("聴覚障害あり。筆談で対応",),
    "pregnant": ("妊娠7か月", "妊娠5か月。つわりあり"),
    "dialysis": ("週3回の人工透析が必要",),
    "oxygen": ("在宅酸素療法中。電源が必要",),
    "diet": ("卵・乳アレルギー", "そばアレルギー", "減塩食が必要"),
    "medication": ("降圧薬を常用", "インスリン注射を使用", "抗てんかん薬を常用"),
    "pets": ("小型犬1匹を同伴", "猫1匹を同伴"),
}
# A second need for some of the very old, with how often each comes up.
ELDERLY_EXTRA_NEEDS = {
    None: 30,
    "medication": 20,
    "wheelchair": 14,
    "hearing": 12,
    "dementia": 10,
    "bedridden": 5,
    "visual": 4,
    "oxygen": 3,
    "dialysis": 2,
}
OTHER_NEEDS = ("diet", "medication", "hearing", "visual", "wheelchair")
# Needs that call for a welfare shelter (福祉避難所) rather than a school gym.
WELFARE_NEEDS = frozenset({"bedridden", "wheelchair", "dementia", "oxygen", "dialysis"})


def _generation(age: int) -> str:
    if age >= 65:
        return "old"
    return "middle" if age >= 30 else "young"


def _birth_date(rng: random.Random, today: date, age: int) -> date:
    return today - timedelta(days=round(age * 365.25) + rng.randint(1, 364))


def _household_shape(rng: random.Random) -> list[tuple[int, str]]:
    """Ages and sexes of one household; the first is the representative, always an adult."""
    male, female = Sex.MALE, Sex.FEMALE
    size = rng.choices((1, 2, 3, 4, 5), weights=(22, 28, 20, 18, 12))[0]
    if size == 1:
        age = rng.randint(65, 95) if rng.random() < 0.6 else rng.randint(19, 64)
        return [(age, rng.choice((male, female)))]
    if size == 2:
        kind = rng.random()
        if kind < 0.8:
            older = rng.randint(65, 92) if kind < 0.5 else rng.randint(24, 64)
            return [(older, male), (max(20, older - rng.randint(-2, 5)), female)]
        parent = rng.randint(24, 50)
        return [(parent, female if rng.random() < 0.8 else male), (rng.randint(0, 17), rng.choice((male, female)))]
    if size == 3 and rng.random() < 0.3:
        # A middle-aged couple living with one of their parents.
        husband = rng.randint(45, 64)
        return [(husband, male), (husband - rng.randint(0, 4), female), (husband + rng.randint(24, 32), female)]
    father = rng.randint(29, 54)
    mother = max(22, father - rng.randint(-2, 5))
    with_grandparent = (size == 5 and rng.random() < 0.6) or (size == 4 and rng.random() < 0.15)
    children = size - 2 - int(with_grandparent)
    members = [(father, male), (mother, female)]
    # Older mothers have older children, which keeps the number of infants near real life.
    youngest, oldest = max(0, mother - 42), min(17, mother - 20)
    members += [(rng.randint(youngest, oldest), rng.choice((male, female))) for _ in range(children)]
    if with_grandparent:
        members.append((min(95, father + rng.randint(24, 34)), rng.choice((male, female))))
    return members


def _support_needs(rng: random.Random, age: int, sex: str) -> dict[str, str]:
    if age < 2:
        return {"infant": rng.choice(SUPPORT_NOTES["infant"])}
    needs: dict[str, str] = {}
    if age >= 75 and rng.random() < 0.5:
        needs["elderly"] = rng.choice(SUPPORT_NOTES["elderly"])
        extra = rng.choices(list(ELDERLY_EXTRA_NEEDS), weights=list(ELDERLY_EXTRA_NEEDS.values()))[0]
        if extra:
            needs[extra] = rng.choice(SUPPORT_NOTES[extra])
    elif sex == Sex.FEMALE and 22 <= age <= 40 and rng.random() < 0.08:
        needs["pregnant"] = rng.choice(SUPPORT_NOTES["pregnant"])
    elif rng.random() < 0.04:
        code = rng.choice(OTHER_NEEDS)
        needs[code] = rng.choice(SUPPORT_NOTES[code])
    return needs


def sample_households(*, today: date) -> list[list[PersonData]]:
    """The fictional households, the same every time for the same day (ages count from `today`)."""
    rng = random.Random(SEED)
    phone_numbers = rng.sample(range(10000), HOUSEHOLD_COUNT)
    city_os_numbers = itertools.count(1)
    households = []
    for index in range(HOUSEHOLD_COUNT):
        family, family_kana = rng.choice(FAMILY_NAMES)
        address = f"{PREFECTURE}{CITY}{rng.choice(TOWNS)}{rng.randint(1, 9)}-{rng.randint(1, 40)}（サンプル）"
        phone = f"0242-00-{phone_numbers[index]:04d}"
        used_given_names: set[str] = set()
        members = []
        for position, (age, sex) in enumerate(_household_shape(rng)):
            choices = [n for n in GIVEN_NAMES[_generation(age), sex] if n[0] not in used_given_names]
            given, given_kana = rng.choice(choices)
            used_given_names.add(given)
            needs = _support_needs(rng, age, sex)
            if position == 0 and rng.random() < 0.05:
                needs["pets"] = rng.choice(SUPPORT_NOTES["pets"])
            requires_support = bool(needs.keys() & (WELFARE_NEEDS | {"visual"})) or (age >= 88 and rng.random() < 0.3)
            members.append(
                PersonData(
                    name=f"{family} {given}",
                    name_kana=f"{family_kana} {given_kana}",
                    birth_date=_birth_date(rng, today, age),
                    sex=sex,
                    address=address,
                    phone=phone if age >= 18 else "",
                    city_os_id=f"AIZU-SAMPLE-{next(city_os_numbers):06d}" if rng.random() < 1 / 3 else None,
                    requires_evacuation_support=requires_support,
                    support_needs=needs or None,
                )
            )
        households.append(members)
    return households


# The City OS sandbox's sample residents (cityos/sandbox/, docs/city-os.md), the one sample file both read.
CITY_OS_SANDBOX_RESIDENTS = Path(settings.BASE_DIR) / "data" / "cityos-sandbox" / "residents.json"
# Sandbox residents checked in when the demo loads, with their households: the Yamada family (by the
# head's common ID) at 鶴城小学校, the demo manager's shelter, so signing in as one of them shows a stay.
# They do not share their location, so the sandbox's location count (those who do, outside shelters)
# never counts them twice. The others stay at home, as the sandbox has them.
SANDBOX_CHECK_INS = {"AIZU-SANDBOX-0001": "SAMPLE-AIZU-001"}
SAMPLE_DISASTER_NAME = "サンプル: 会津地方の地震（訓練用）"


def city_os_sandbox_households() -> list[list[PersonData]]:
    """The sandbox's sample residents who are known here too (`known_to_shelters`), by household, with
    their common IDs: a desk finds them by the QR code the sandbox shows them. Registered, not checked
    in (they are at home, as the sandbox's location count has them)."""
    households: dict[str, list[PersonData]] = {}
    for resident in json.loads(CITY_OS_SANDBOX_RESIDENTS.read_text())["residents"]:
        if not resident.get("known_to_shelters"):
            continue
        households.setdefault(resident["household"], []).append(
            PersonData(
                name=resident["name"],
                name_kana=resident["name_kana"],
                birth_date=date.fromisoformat(resident["birth_date"]),
                sex=resident["sex"],
                address=resident["address"],
                phone=resident["phone"],
                city_os_id=resident["city_os_id"],
                requires_evacuation_support=resident.get("requires_evacuation_support", False),
                support_needs=resident.get("support_needs"),
            )
        )
    return list(households.values())


def needs_welfare_shelter(person: PersonData) -> bool:
    return person.requires_evacuation_support or bool((person.support_needs or {}).keys() & WELFARE_NEEDS)


def _welfare_group(members: Sequence[PersonData], evacuee_ids: Sequence[int], *, today: date) -> list[int]:
    """Who in a household goes to a welfare shelter: those who need care, and one adult to help them."""
    needing = [pk for person, pk in zip(members, evacuee_ids, strict=True) if needs_welfare_shelter(person)]
    if not needing:
        return []
    helpers = [
        pk
        for person, pk in zip(members, evacuee_ids, strict=True)
        if pk not in needing and person.birth_date and (today - person.birth_date).days >= 18 * 365
    ]
    return needing + helpers[:1]


# --- Loading -------------------------------------------------------------------------------------


@dataclass
class DemoSummary:
    shelters: int
    open_shelters: int
    households: int
    evacuees: int
    with_support_needs: int
    checked_in: int  # open stays inside a shelter
    outside: int  # open stays at home or in a car, supported by a shelter
    created_people: bool  # False when sample people already existed and were left alone
    users: list[tuple[str, str]] = field(default_factory=list)  # (username, role)
    # The password each demo account logs in with, None for one its user has changed since.
    passwords: dict[str, str | None] = field(default_factory=dict)
    managed_shelters: list[str] = field(default_factory=list)
    # What every app's loader counted, by name (e.g. survey_responses, supply_depots).
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def survey_responses(self) -> int:
        return self.counts.get("survey_responses", 0)


def demo_load(*, reset: bool = False) -> DemoSummary:
    """Load the whole demo, every app's part; safe to run again. `reset` first removes the sample rows."""
    with transaction.atomic():
        if reset:
            source_rows_remove(source=DataSource.SAMPLE)
        counts = sample_data_load()
        return _summary(counts, passwords=_demo_logins())


def shelters_sample_load() -> dict[str, int]:
    """This app's part of the demo: the shelters, some opened, the sample disaster, the demo users and
    the sample people."""
    shelters = {row.code: _upsert_shelter(row) for row in SHELTERS}
    _open_shelters(shelters)
    _sample_disaster()
    _ensure_users(shelters)
    created_people = not Evacuee.objects.filter(source=DataSource.SAMPLE).exists()
    if created_people:
        _register_and_check_in(shelters)
    return {"sample_people_created": int(created_people)}


def _upsert_shelter(row: SampleShelter) -> Shelter:
    defaults = row.defaults()
    shelter = Shelter.objects.filter(code=row.code).first()
    # Skip the write when nothing differs, so a second run leaves updated_at alone.
    if shelter is None or any(getattr(shelter, name) != value for name, value in defaults.items()):
        shelter, _ = Shelter.objects.update_or_create(code=row.code, defaults=defaults)
    shelter.facilities.set(Facility.objects.filter(code__in=row.facilities))
    return shelter


def _opening_time() -> datetime:
    # The sample disaster began the evening before, so the dashboards show a day of history.
    return timezone.now().replace(second=0, microsecond=0) - timedelta(hours=20)


def _open_shelters(shelters: dict[str, Shelter]) -> None:
    started = _opening_time()
    for index, row in enumerate(row for row in SHELTERS if row.opens):
        shelter = shelters[row.code]
        if shelter.status == ShelterStatus.STANDBY:
            shelter_status_change(
                shelter_id=shelter.pk,
                to_status=ShelterStatus.OPEN,
                actor=None,
                reason=OPENING_REASON,
                at=started + timedelta(minutes=7 * index),
            )
            shelter.refresh_from_db()


def _sample_disaster() -> None:
    """The sample disaster, open since the sample shelters opened: the demo runs in the disaster
    context (consent is asked and given per context; HQ declares releases for a disaster)."""
    if not Disaster.objects.filter(source=DataSource.SAMPLE).exists():
        Disaster.objects.create(name=SAMPLE_DISASTER_NAME, started_at=_opening_time(), source=DataSource.SAMPLE)


def _ensure_users(shelters: dict[str, Shelter]) -> None:
    """The demo accounts and their shelters; their passwords are `_demo_logins`'."""
    for demo in DEMO_USERS:
        user, _created = User.objects.get_or_create(
            username=demo.username,
            defaults={"role": demo.role, "is_staff": demo.superuser, "is_superuser": demo.superuser},
        )
        if demo.manages:
            user.managed_shelters.add(*(shelters[code] for code in demo.manages))


def _register_and_check_in(shelters: dict[str, Shelter]) -> None:
    now, today = timezone.now(), timezone.localdate()
    households = sample_households(today=today)
    registered = [
        (members, household_register(members=members, actor=None, source=DataSource.SAMPLE)) for members in households
    ]
    for members in city_os_sandbox_households():
        household_register(members=members, actor=None, source=DataSource.SAMPLE)
    open_shelters = [s for s in shelters.values() if s.accepts_check_ins]
    if not open_shelters:
        return
    welfare = [s for s in open_shelters if s.kind == ShelterKind.WELFARE]
    general = [s for s in open_shelters if s.kind != ShelterKind.WELFARE] or open_shelters
    room = {s.pk: (s.capacity or 0) - s.occupancy for s in open_shelters}

    rng = random.Random(SEED + 1)
    # Some shelters draw more people than others, as they do: weight by capacity, varied.
    weights = [(s.capacity or 100) * rng.uniform(0.6, 1.4) for s in general]
    order = list(range(len(registered)))
    rng.shuffle(order)
    inside_count = round(len(order) * CHECKED_IN_SHARE)
    plans = []  # (at, shelter, evacuee ids, mode)
    for rank, index in enumerate(order[: inside_count + OUTSIDE_HOUSEHOLDS]):
        members, household = registered[index]
        evacuee_ids = list(household.members.order_by("id").values_list("id", flat=True))
        arrival = timedelta(minutes=rng.randint(15, 18 * 60))
        if rank >= inside_count:
            groups = [(rng.choices(general, weights)[0], evacuee_ids, rng.choice((StayMode.AT_HOME, StayMode.IN_CAR)))]
        else:
            # People who need care go to a welfare shelter with one family member; the rest of the
            # household to a school, as a desk would do it.
            groups = []
            welfare_ids = _welfare_group(members, evacuee_ids, today=today)
            fitting = [s for s in welfare if room[s.pk] >= len(welfare_ids)]
            if welfare_ids and fitting:  # shelters with room, so a positive capacity
                emptiest = max(fitting, key=lambda s: room[s.pk] / s.capacity)
                groups.append((emptiest, welfare_ids, StayMode.INSIDE))
                evacuee_ids = [pk for pk in evacuee_ids if pk not in welfare_ids]
            if evacuee_ids:
                groups.append((rng.choices(general, weights)[0], evacuee_ids, StayMode.INSIDE))
        for shelter, ids, mode in groups:
            if mode == StayMode.INSIDE:
                room[shelter.pk] -= len(ids)
            opened_at = max(shelter.opened_at or now, _opening_time())
            plans.append((min(now, opened_at + arrival), shelter, ids, mode))
    for at, shelter, evacuee_ids, mode in sorted(plans, key=lambda plan: plan[0]):
        stay_check_in(
            shelter_id=shelter.pk, evacuee_ids=evacuee_ids, actor=None, mode=mode, at=at, source=DataSource.SAMPLE
        )
    for city_os_id, code in SANDBOX_CHECK_INS.items():
        head = Evacuee.objects.filter(city_os_id=city_os_id).first()
        shelter = shelters.get(code)
        if head is None or shelter is None or not shelter.accepts_check_ins:
            continue
        family = Evacuee.objects.filter(household_id=head.household_id) if head.household_id else [head]
        stay_check_in(
            shelter_id=shelter.pk,
            evacuee_ids=sorted(person.pk for person in family),
            actor=None,
            at=min(now, _opening_time() + timedelta(hours=2)),
            source=DataSource.SAMPLE,
        )


def _demo_logins() -> dict[str, str | None]:
    """Each demo account's password, to print: given to a new account (no password yet) or one
    still on the published password; None for one whose user changed it. A password check is a
    deliberately slow hash, so the usual case, the account still on its own, costs one each."""
    passwords = demo_passwords()
    logins: dict[str, str | None] = {}
    for user in User.objects.filter(username__in=passwords):
        password = passwords[user.username]
        if user.check_password(password):
            logins[user.username] = password
        elif not user.password or user.check_password(PUBLISHED_PASSWORD):
            user.set_password(password)
            user.save(update_fields=["password"])
            logins[user.username] = password
        else:
            logins[user.username] = None
    return logins


def _summary(counts: dict[str, int], *, passwords: dict[str, str | None]) -> DemoSummary:
    sample_stays = Stay.objects.filter(evacuee__source=DataSource.SAMPLE, checked_out_at__isnull=True)
    sample_shelters = Shelter.objects.filter(source=DataSource.SAMPLE)
    return DemoSummary(
        shelters=sample_shelters.count(),
        open_shelters=sample_shelters.filter(status__in=(ShelterStatus.OPEN, ShelterStatus.FULL)).count(),
        households=Household.objects.filter(source=DataSource.SAMPLE).count(),
        evacuees=Evacuee.objects.filter(source=DataSource.SAMPLE).count(),
        with_support_needs=Evacuee.objects.filter(source=DataSource.SAMPLE, support_needs__isnull=False)
        .distinct()
        .count(),
        checked_in=sample_stays.filter(mode=StayMode.INSIDE).count(),
        outside=sample_stays.exclude(mode=StayMode.INSIDE).count(),
        created_people=bool(counts.get("sample_people_created")),
        users=[(demo.username, demo.role) for demo in DEMO_USERS],
        passwords=passwords,
        managed_shelters=list(
            Shelter.objects.filter(code__in=MANAGED_SHELTER_CODES).order_by("code").values_list("name", flat=True)
        ),
        counts=counts,
    )
