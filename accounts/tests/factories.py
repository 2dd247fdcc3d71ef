"""Factories for rows that are not household data.

Household data (accounts, memberships, events) is made through the services in
``conftest.make_household``: they enter the household's scope like the site
does, so fixtures cannot create rows the site itself could not.
"""

import factory
from allauth.account.models import EmailAddress
from django.utils import timezone
from factory.declarations import LazyAttribute, LazyFunction, Sequence
from factory.helpers import post_generation

from accounts.models import User

PASSWORD = "correct horse battery staple"


class UserFactory(factory.django.DjangoModelFactory[User]):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = Sequence(lambda n: f"person{n}@example.test")
    full_name = LazyAttribute(lambda user: user.email.split("@")[0].title())
    password = factory.django.Password(PASSWORD)
    email_verified_at = LazyFunction(timezone.now)

    @post_generation
    def email_address(user: User, create: bool, extracted: object, **kwargs: object) -> None:
        """Sign-in (allauth) reads addresses from its own table, as ``user_create`` writes them."""
        if create:
            EmailAddress.objects.create(
                user=user, email=user.email, primary=True, verified=user.email_verified_at is not None
            )
