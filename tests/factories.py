"""Factories for the cast every test builds on."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model

from contracts.models import Contract, Membership, Organisation, Role
from kpis import models as k


class MeasureSetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = k.MeasureSet
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Measure set {n}")
    slug = factory.Sequence(lambda n: f"set-{n}")


class MeasureFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = k.Measure

    measure_set = factory.SubFactory(MeasureSetFactory)
    code = factory.Sequence(lambda n: f"KPI {n}")
    slug = factory.LazyAttribute(lambda o: k.measure_slug(o.code))
    title = factory.LazyAttribute(lambda o: f"Measure {o.code}")
    kind = k.Kind.KPI
    unit = k.Unit.PERCENT
    decimals = 1
    polarity = k.Polarity.UP
    frequency = k.Frequency.MONTHLY
    year_type = k.YearType.FINANCIAL


class TargetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = k.Target

    measure = factory.SubFactory(MeasureFactory)
    valid_from = dt.date(2017, 4, 1)
    target = Decimal("95")
    tolerance_low = Decimal("85")
    tolerance_high = Decimal("100")


class ObservationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = k.Observation

    measure = factory.SubFactory(MeasureFactory)
    period = "2018-04"
    period_start = factory.LazyAttribute(lambda o: o.measure.parse_period(o.period).start)
    period_end = factory.LazyAttribute(lambda o: o.measure.parse_period(o.period).end)
    value = Decimal("90")
    is_official = True


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Organisation {n}")
    slug = factory.Sequence(lambda n: f"org-{n}")
    kind = Organisation.Kind.COUNCIL


class ContractFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contract

    slug = factory.Sequence(lambda n: f"contract-{n}")
    name = factory.Sequence(lambda n: f"Contract {n}")
    commissioner = factory.SubFactory(OrganisationFactory, kind=Organisation.Kind.COUNCIL)
    provider = factory.SubFactory(OrganisationFactory, kind=Organisation.Kind.PROVIDER)
    start = dt.date(2017, 4, 1)
    measure_set = factory.SubFactory(MeasureSetFactory)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.PostGenerationMethodCall("set_password", "pw")


def member(organisation: Organisation, role: str = Role.READER, username: str | None = None):
    """A user working for an organisation in a role."""
    user = UserFactory(username=username) if username else UserFactory()
    user.save()
    Membership.objects.create(user=user, organisation=organisation, role=role)
    return user
