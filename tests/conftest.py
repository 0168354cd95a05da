"""Standing personas: HQ, the manager of shelter A, the manager of shelter B, an official, anonymous."""

import importlib

import pytest
from django.test import Client
from rest_framework.test import APIClient

from shelters.models import Role
from tests.factories import ShelterFactory, UserFactory


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
