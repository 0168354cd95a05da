import factory
from django.utils import timezone

from shelters.models import Evacuee, Household, Role, Shelter, ShelterStatus, User


class ShelterFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Shelter

    code = factory.Sequence(lambda n: f"TEST{n:05d}")
    name = factory.Sequence(lambda n: f"テスト避難所{n}")
    name_en = factory.Sequence(lambda n: f"Test shelter {n}")
    capacity = 100
    status = ShelterStatus.OPEN
    opened_at = factory.LazyFunction(timezone.now)
    latitude = "37.494700"
    longitude = "139.929900"


class EvacueeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Evacuee

    walk_in_id = factory.Sequence(lambda n: f"WTEST{n:06d}")
    name = factory.Sequence(lambda n: f"会津 太郎{n}")
    name_kana = factory.Sequence(lambda n: f"アイヅ タロウ{n}")
    phone = factory.Sequence(lambda n: f"0242-00-{n:04d}")


class HouseholdFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Household
        skip_postgeneration_save = True

    @factory.post_generation
    def members(self, create, extracted, **kwargs):
        """HouseholdFactory(members=3) makes three members, the first the representative."""
        if not create or not extracted:
            return
        people = EvacueeFactory.create_batch(extracted, household=self)
        self.representative = people[0]
        self.save(update_fields=["representative"])


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    role = Role.HQ
    password = factory.django.Password("pass-for-tests")

    @factory.post_generation
    def shelters(self, create, extracted, **kwargs):
        if create and extracted:
            self.managed_shelters.set(extracted)
