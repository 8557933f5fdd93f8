"""The tenancy rules: who sees which rows, and missing equals forbidden."""

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404

from jiayuan.core.access import ensure_allowed, get_visible
from jiayuan.org.models import Building, Company, Estate, Membership, Resident, Unit


def names(queryset):
    return sorted(str(obj) for obj in queryset)


@pytest.mark.django_db
class TestEstateScope:
    def test_company_admin_sees_every_estate_of_the_company_only(self, personas):
        visible = Estate.objects.restrict(personas.company_admin)
        assert set(visible) == {personas.estate_a, personas.estate_b}

    def test_estate_staff_see_only_their_estate(self, personas):
        for user in (personas.manager_a, personas.clerk_a, personas.technician_a):
            assert list(Estate.objects.restrict(user)) == [personas.estate_a]
        assert list(Estate.objects.restrict(personas.clerk_b)) == [personas.estate_b]

    def test_outsider_and_stranger_see_nothing_of_the_company(self, personas):
        assert list(Estate.objects.restrict(personas.outsider)) == [personas.estate_c]
        assert list(Estate.objects.restrict(personas.stranger)) == []
        assert list(Unit.objects.restrict(personas.stranger)) == []
        assert personas.company not in Company.objects.restrict(personas.outsider)

    def test_anonymous_sees_nothing(self, personas):
        from django.contrib.auth.models import AnonymousUser

        assert not Estate.objects.restrict(AnonymousUser()).exists()
        assert not Estate.objects.restrict(None).exists()

    def test_inactive_membership_grants_nothing(self, personas):
        Membership.objects.filter(user=personas.clerk_a).update(is_active=False)
        personas.clerk_a.__dict__.pop("_jiayuan_grants", None)
        assert not Estate.objects.restrict(personas.clerk_a).exists()

    def test_deactivated_user_sees_nothing(self, personas):
        personas.manager_a.is_active = False
        assert not Unit.objects.restrict(personas.manager_a).exists()


@pytest.mark.django_db
class TestResidentScope:
    def test_owner_sees_only_own_unit_and_building(self, personas):
        assert list(Unit.objects.restrict(personas.owner_a101)) == [personas.unit_a101]
        assert list(Building.objects.restrict(personas.owner_a101)) == [personas.building_a1]
        assert list(Estate.objects.restrict(personas.owner_a101)) == [personas.estate_a]

    def test_staff_only_leaves_out_what_a_person_sees_as_a_resident(self, personas):
        p = personas
        assert not Estate.objects.restrict(p.owner_a101, staff_only=True).exists()
        assert not Unit.objects.restrict(p.owner_a101, staff_only=True).exists()
        assert list(Estate.objects.restrict(p.clerk_b, staff_only=True)) == [p.estate_b]
        # A clerk of estate B who owns a flat in estate A: B as staff, A as an owner too.
        Resident.objects.filter(pk=p.resident_a101.pk).update(user=p.clerk_b)
        assert set(Estate.objects.restrict(p.clerk_b)) == {p.estate_a, p.estate_b}
        assert list(Estate.objects.restrict(p.clerk_b, staff_only=True)) == [p.estate_b]
        assert set(Unit.objects.restrict(p.clerk_b, staff_only=True)) == set(
            Unit.objects.filter(estate=p.estate_b)
        )
        assert not Estate.objects.restrict(None, staff_only=True).exists()

    def test_owner_sees_own_resident_record_only(self, personas):
        assert list(Resident.objects.restrict(personas.owner_a101)) == [personas.resident_a101]

    def test_owner_cannot_change_units(self, personas):
        assert not Unit.objects.restrict(personas.owner_a101, "change").exists()

    def test_moved_out_owner_loses_sight_of_unit(self, personas, time_machine):
        import datetime as dt

        residency = personas.resident_a101.residencies.get()
        residency.moved_out_on = dt.date(2026, 1, 31)
        residency.save()
        time_machine.move_to(dt.datetime(2026, 1, 31, 12, tzinfo=dt.UTC))
        assert Unit.objects.restrict(personas.owner_a101).exists()
        time_machine.move_to(dt.datetime(2026, 2, 2, 12, tzinfo=dt.UTC))
        assert not Unit.objects.restrict(personas.owner_a101).exists()


@pytest.mark.django_db
class TestActions:
    def test_clerk_may_view_but_not_change_a_building(self, personas):
        ensure_allowed(personas.clerk_a, "view", personas.building_a1)
        with pytest.raises(PermissionDenied):
            ensure_allowed(personas.clerk_a, "change", personas.building_a1)

    def test_forbidden_object_is_reported_as_missing(self, personas):
        with pytest.raises(Http404):
            ensure_allowed(personas.clerk_b, "change", personas.building_a1)
        with pytest.raises(Http404):
            get_visible(Building, personas.clerk_b, pk=personas.building_a1.pk)
        with pytest.raises(Http404):
            get_visible(Building, personas.clerk_b, pk=987654)
        with pytest.raises(Http404):
            get_visible(Building, personas.clerk_b, pk="not-a-number")

    def test_residents_are_listed_once_even_with_several_units(self, personas):
        from jiayuan.org.models import Residency

        Residency.objects.create(
            resident=personas.resident_a101, unit=personas.unit_a102, relation="family"
        )
        visible = list(Resident.objects.restrict(personas.manager_a))
        assert visible.count(personas.resident_a101) == 1
