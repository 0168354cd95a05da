"""The access tests' small world (a resident, a household, a follow-up case, a supply request) for
the API-wide tests."""

from tests.access.conftest import people, world  # noqa: F401  (fixtures)
