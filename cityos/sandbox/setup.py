"""What the sandbox does at every start, before it serves: its database, the site registered as an
OpenID Connect client, and the sample residents with their passwords and first opt-in choices."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone
from oauth2_provider.models import Application

from cityos.sandbox import instance
from cityos.sandbox.models import ConsentDecision, SampleResident


def sandbox_prepare(*, redirect_uris: list[str], post_logout_uris: list[str]) -> None:
    call_command("migrate", interactive=False, verbosity=0)
    instance.api_token(settings.SANDBOX_DIR)  # the site reads it from the same file
    client_register(redirect_uris=redirect_uris, post_logout_uris=post_logout_uris)
    residents_load()


@transaction.atomic
def client_register(*, redirect_uris: list[str], post_logout_uris: list[str]) -> Application:
    """The site, as a confidential client with the id and secret it reads from the same files."""
    directory = settings.SANDBOX_DIR
    application, _created = Application.objects.update_or_create(
        client_id=instance.client_id(directory),
        defaults={
            "name": "Aizuwakamatsu shelter operations",
            "client_type": Application.CLIENT_CONFIDENTIAL,
            "authorization_grant_type": Application.GRANT_AUTHORIZATION_CODE,
            "client_secret": instance.client_secret(directory),
            "redirect_uris": " ".join(redirect_uris),
            "post_logout_redirect_uris": " ".join(post_logout_uris),
            "algorithm": Application.RS256_ALGORITHM,
            # The City OS's own sign-in; what is shared with whom is the opt-in's business.
            "skip_authorization": True,
        },
    )
    return application


@transaction.atomic
def residents_load() -> None:
    """Each sample resident once (a password and choices changed since are kept)."""
    User = get_user_model()
    passwords = instance.sample_logins(settings.SANDBOX_DIR)
    now = timezone.now()
    for sample in instance.sample_residents():
        if SampleResident.objects.filter(city_os_id=sample["city_os_id"]).exists():
            continue
        user = User.objects.create_user(sample["login"], password=passwords[sample["login"]])
        resident = SampleResident.objects.create(
            user=user, city_os_id=sample["city_os_id"], timing=sample["consents"]["timing"], updated_at=now
        )
        for decision, cells in (
            ("given", sample["consents"].get("given", [])),
            ("refused", sample["consents"].get("refused", [])),
        ):
            for category, recipient, context in cells:
                ConsentDecision.objects.create(
                    resident=resident,
                    category=category,
                    recipient=recipient,
                    context=context,
                    decision=decision,
                    at=now,
                )
