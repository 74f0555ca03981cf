"""factory_boy factories for the people and records tests talk about.

Users get no usable password (hashing is slow): tests log them in with `force_login`. Pass
`password=make_password("…")` for a test that logs in through a form.
"""

import factory
from django.contrib.auth import get_user_model

from payments.models import Customer, Payment, PaymentStatus, Provider
from tickets.models import Channel, Priority, Reason, SlaPolicy, Status, Team, Ticket


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team
        django_get_or_create = ("name",)
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Team {n}")


class UserFactory(factory.django.DjangoModelFactory):
    """Someone with an account who is neither staff nor on a team: not an agent."""

    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.com")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")


class AgentFactory(UserFactory):
    """A support agent: a member of `team` (a new team unless one is given)."""

    username = factory.Sequence(lambda n: f"agent{n}")

    @factory.post_generation
    def team(self, create: bool, team: Team | None, **kwargs) -> None:
        if create:
            self.teams.add(team or TeamFactory())


class AdminFactory(UserFactory):
    username = factory.Sequence(lambda n: f"admin{n}")
    is_staff = True
    is_superuser = True


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    name = factory.Faker("name")
    email = factory.Sequence(lambda n: f"customer{n}@example.com")
    stripe_customer_id = factory.Sequence(lambda n: f"cus_test{n:06d}")


class PaymentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Payment

    provider = Provider.STRIPE
    provider_payment_id = factory.Sequence(lambda n: f"pi_test{n:06d}")
    provider_charge_id = factory.Sequence(lambda n: f"ch_test{n:06d}")
    amount_minor = 4_900
    currency = "USD"
    status = PaymentStatus.FAILED
    customer = factory.SubFactory(CustomerFactory)


class TicketFactory(factory.django.DjangoModelFactory):
    """A ticket about a failed payment; pass `payments=[…]` to link payments to it."""

    class Meta:
        model = Ticket
        skip_postgeneration_save = True

    subject = factory.Sequence(lambda n: f"Payment failed #{n}")
    customer = factory.SubFactory(CustomerFactory)
    team = factory.SubFactory(TeamFactory)
    reason = Reason.PAYMENT_FAILED
    status = Status.NEW
    priority = Priority.NORMAL
    channel = Channel.WEBHOOK

    @factory.post_generation
    def payments(self, create: bool, payments, **kwargs) -> None:
        if create and payments:
            self.payments.add(*payments)


class SlaPolicyFactory(factory.django.DjangoModelFactory):
    """A policy for normal tickets of any reason and team: answer within an hour, solve within
    eight, in calendar time. Tests that count on the policies delete the default ones first."""

    class Meta:
        model = SlaPolicy

    name = factory.Sequence(lambda n: f"Policy {n}")
    priority = Priority.NORMAL
    reason = ""
    team = None
    first_response_minutes = 60
    resolution_minutes = 8 * 60
    business_hours = False
