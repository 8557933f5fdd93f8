"""The people pages: residents (register, move in and out, owner portal), staff (add, grant,
revoke), teams, and a resident's own units."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from jiayuan.accounts.models import User
from jiayuan.core.middleware import ESTATE_SESSION_KEY
from jiayuan.core.roles import Role
from jiayuan.core.testing import PASSWORD, make_staff, make_unit
from jiayuan.org.models import Membership, Residency, Resident, Team, TeamMember

pytestmark = pytest.mark.django_db

HOSTILE = "<script>alert(1)</script>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"


def english(client):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def working_in(client, estate):
    """The estate switcher's choice, as core:switch_estate stores it."""
    session = client.session
    session[ESTATE_SESSION_KEY] = estate.pk
    session.save()
    return client


def add_residents(personas, count, start=0):
    """`count` more residents of estate A, each in a unit of their own."""
    for n in range(start, start + count):
        unit = make_unit(personas.building_a1, f"R{n:03}", floor=2)
        resident = Resident.objects.create(
            company=personas.company, name=f"住户{n:03}", mobile=f"1390000{n:04}"
        )
        Residency.objects.create(resident=resident, unit=unit, relation="owner")


def walk_in(**fields):
    return {
        "name": "王芳",
        "mobile": "139 0013 9000",
        "unit": "",
        "relation": "owner",
        "moved_in_on": "",
        "tier": "regular",
        "note": "",
    } | fields


class TestResidentList:
    def test_desk_sees_whole_mobiles_and_the_units(self, personas):
        response = personas.client_for(personas.clerk_a).get(reverse("org:resident_list"))
        page = response.content.decode()
        assert "13800138001" in page and "13800138002" in page
        assert "1号楼 101" in page

    def test_technician_sees_masked_mobiles(self, personas):
        response = personas.client_for(personas.technician_a).get(reverse("org:resident_list"))
        page = response.content.decode()
        assert "138****8001" in page
        assert "13800138001" not in page

    def test_search_by_name_and_by_mobile(self, personas):
        client = personas.client_for(personas.clerk_a)

        def found(q):
            response = client.get(reverse("org:resident_list"), {"q": q})
            return [r.name for r in response.context["page"].object_list]

        assert found("张") == ["张伟"]
        assert found("13800138001") == ["张伟"]
        assert found("nobody") == []

    def test_a_masked_viewer_cannot_confirm_a_whole_number(self, personas):
        client = personas.client_for(personas.technician_a)

        def found(q):
            response = client.get(reverse("org:resident_list"), {"q": q})
            return [r.name for r in response.context["page"].object_list]

        assert found("13800138001") == []
        assert found("8001") == ["张伟"]

    def test_estate_b_lists_its_own_residents_only(self, personas):
        response = personas.client_for(personas.clerk_b).get(reverse("org:resident_list"))
        assert list(response.context["page"].object_list) == []

    def test_oversized_search_is_cut_not_a_crash(self, personas):
        client = personas.client_for(personas.clerk_a)
        response = client.get(reverse("org:resident_list"), {"q": "张" * 10_000})
        assert response.status_code == 200

    def test_query_count_does_not_grow_with_residents(
        self, personas, django_assert_max_num_queries
    ):
        client = personas.client_for(personas.technician_a)
        with CaptureQueriesContext(connection) as few:
            client.get(reverse("org:resident_list"))
        add_residents(personas, 40)
        with django_assert_max_num_queries(len(few)):
            response = client.get(reverse("org:resident_list"))
        assert len(response.context["page"].object_list) == 42


class TestResidentRegistration:
    def test_walk_in_with_unit_in_one_form(self, personas):
        client = personas.client_for(personas.clerk_a)
        response = client.post(
            reverse("org:resident_create"),
            walk_in(unit=personas.unit_a102.pk, relation="tenant", moved_in_on="2026-03-01"),
        )
        resident = Resident.objects.get(mobile="13900139000")
        assert response["Location"] == reverse("org:resident_detail", args=[resident.pk])
        residency = resident.residencies.get()
        assert (residency.unit, residency.relation) == (personas.unit_a102, "tenant")
        assert residency.moved_in_on == dt.date(2026, 3, 1)

    def test_the_unit_comes_preselected_from_the_unit_page(self, personas):
        client = personas.client_for(personas.clerk_a)
        response = client.get(reverse("org:resident_create"), {"unit": personas.unit_a102.pk})
        assert response.context["form"]["unit"].value() == str(personas.unit_a102.pk)

    @pytest.mark.parametrize(
        ("data", "field"),
        [
            ({"mobile": "12345"}, "mobile"),
            ({"mobile": ""}, "mobile"),
            ({"mobile": "13800138001"}, "mobile"),
            ({"name": ""}, "name"),
            ({"name": "x" * 10_000}, "name"),
            ({"note": "x" * 10_000}, "note"),
            ({"moved_in_on": "yesterday"}, "moved_in_on"),
            ({"relation": "landlord"}, "relation"),
            ({"unit": ""}, "unit"),
            ({"unit": "999999"}, "unit"),
        ],
    )
    def test_bad_input_registers_nobody(self, personas, data, field):
        client = personas.client_for(personas.clerk_a)
        counts = Resident.objects.count(), Residency.objects.count()
        response = client.post(
            reverse("org:resident_create"), walk_in(unit=personas.unit_a102.pk) | data
        )
        assert response.status_code == 200
        assert response.context["form"].errors[field]
        assert (Resident.objects.count(), Residency.objects.count()) == counts

    def test_a_unit_of_estate_b_cannot_be_chosen_in_estate_a(self, personas):
        client = personas.client_for(personas.clerk_a)
        response = client.post(reverse("org:resident_create"), walk_in(unit=personas.unit_b101.pk))
        assert response.context["form"].errors["unit"]
        assert not Resident.objects.filter(mobile="13900139000").exists()

    def test_hostile_name_is_shown_escaped(self, personas):
        client = personas.client_for(personas.clerk_a)
        client.post(
            reverse("org:resident_create"), walk_in(name=HOSTILE, unit=personas.unit_a102.pk)
        )
        page = client.get(reverse("org:resident_list")).content.decode()
        assert ESCAPED in page
        assert HOSTILE not in page

    def test_technician_cannot_register(self, personas):
        client = personas.client_for(personas.technician_a)
        assert client.get(reverse("org:resident_create")).status_code == 403
        response = client.post(reverse("org:resident_create"), walk_in(unit=personas.unit_a102.pk))
        assert response.status_code == 403
        assert not Resident.objects.filter(mobile="13900139000").exists()


class TestResidentPages:
    def test_detail_shows_units_and_actions_to_the_desk(self, personas):
        client = personas.client_for(personas.clerk_a)
        response = client.get(reverse("org:resident_detail", args=[personas.resident_a101.pk]))
        page = response.content.decode()
        assert "1号楼 101" in page and "13800138001" in page
        assert reverse("org:resident_edit", args=[personas.resident_a101.pk]) in page

    def test_detail_masks_for_the_technician_and_hides_actions(self, personas):
        client = personas.client_for(personas.technician_a)
        response = client.get(reverse("org:resident_detail", args=[personas.resident_a101.pk]))
        page = response.content.decode()
        assert "138****8001" in page and "13800138001" not in page
        assert reverse("org:resident_edit", args=[personas.resident_a101.pk]) not in page

    def test_edit(self, personas):
        client = personas.client_for(personas.clerk_a)
        url = reverse("org:resident_edit", args=[personas.resident_a101.pk])
        response = client.post(
            url, {"name": "张伟", "mobile": "13911112222", "tier": "vip", "note": "老业主"}
        )
        assert response.status_code == 302
        resident = Resident.objects.get(pk=personas.resident_a101.pk)
        assert (resident.mobile, resident.tier) == ("13911112222", "vip")

    def test_technician_cannot_edit(self, personas):
        client = personas.client_for(personas.technician_a)
        url = reverse("org:resident_edit", args=[personas.resident_a101.pk])
        response = client.post(url, {"name": "改名", "mobile": "13800138001", "tier": "vip"})
        assert response.status_code == 403
        assert Resident.objects.get(pk=personas.resident_a101.pk).name == "张伟"

    def test_edit_with_a_bad_mobile_changes_nothing(self, personas):
        client = personas.client_for(personas.clerk_a)
        url = reverse("org:resident_edit", args=[personas.resident_a101.pk])
        response = client.post(url, {"name": "张伟", "mobile": "12345", "tier": "regular"})
        assert response.context["form"].errors["mobile"]
        assert Resident.objects.get(pk=personas.resident_a101.pk).mobile == "13800138001"

    def test_move_in_and_move_out(self, personas):
        client = personas.client_for(personas.clerk_a)
        resident = personas.resident_a101
        response = client.post(
            reverse("org:residency_start", args=[resident.pk]),
            {"unit": personas.unit_a102.pk, "relation": "family", "moved_in_on": "2026-01-05"},
        )
        assert response["Location"] == reverse("org:resident_detail", args=[resident.pk])
        residency = resident.residencies.get(unit=personas.unit_a102)
        response = client.post(
            reverse("org:residency_end", args=[residency.pk]), {"moved_out_on": "2026-02-01"}
        )
        assert response.status_code == 302
        residency.refresh_from_db()
        assert residency.moved_out_on == dt.date(2026, 2, 1)

    def test_move_out_before_move_in_is_refused_on_the_form(self, personas):
        residency = personas.resident_a101.residencies.get()
        residency.moved_in_on = dt.date(2026, 3, 1)
        residency.save()
        client = personas.client_for(personas.clerk_a)
        response = client.post(
            reverse("org:residency_end", args=[residency.pk]), {"moved_out_on": "2026-01-01"}
        )
        assert response.context["form"].errors["moved_out_on"]
        residency.refresh_from_db()
        assert residency.moved_out_on is None

    def test_technician_cannot_move_anyone_out(self, personas):
        residency = personas.resident_a101.residencies.get()
        client = personas.client_for(personas.technician_a)
        assert client.post(reverse("org:residency_end", args=[residency.pk])).status_code == 403
        residency.refresh_from_db()
        assert residency.moved_out_on is None

    def test_move_in_to_a_unit_of_another_estate_is_refused(self, personas):
        client = personas.client_for(personas.clerk_a)
        response = client.post(
            reverse("org:residency_start", args=[personas.resident_a101.pk]),
            {"unit": personas.unit_b101.pk, "relation": "owner"},
        )
        assert response.context["form"].errors["unit"]
        assert personas.resident_a101.residencies.count() == 1

    def test_open_the_owner_portal(self, personas):
        resident = Resident.objects.create(
            company=personas.company, name="王芳", mobile="13900139000"
        )
        Residency.objects.create(resident=resident, unit=personas.unit_a102, relation="tenant")
        client = english(personas.client_for(personas.clerk_a))
        url = reverse("org:resident_portal", args=[resident.pk])
        response = client.post(url, {"password": PASSWORD, "password_again": PASSWORD}, follow=True)
        assert "signs in with the mobile number 13900139000" in response.content.decode()
        account = User.objects.get(mobile="13900139000")
        assert account.check_password(PASSWORD)
        again = client.get(url)
        assert again["Location"] == reverse("org:resident_detail", args=[resident.pk])

    @pytest.mark.parametrize(
        "data",
        [
            {"password": "1234", "password_again": "1234"},
            {"password": PASSWORD, "password_again": PASSWORD + "x"},
            {"password": ""},
        ],
    )
    def test_portal_with_a_bad_password_opens_nothing(self, personas, data):
        client = personas.client_for(personas.clerk_a)
        resident = personas.resident_a101
        resident.user = None
        resident.save()
        response = client.post(reverse("org:resident_portal", args=[resident.pk]), data)
        assert response.status_code == 200
        assert response.context["form"].errors
        assert Resident.objects.get(pk=resident.pk).user is None


class TestStaff:
    def test_list_groups_roles_by_person(self, personas):
        make_staff("multi", "多面手", personas.estate_a, Role.CLEANER)
        Membership.objects.create(
            user=User.objects.get(username="multi"),
            company=personas.company,
            estate=personas.estate_a,
            role=Role.SECURITY,
        )
        client = working_in(personas.client_for(personas.company_admin), personas.estate_a)
        response = client.get(reverse("org:staff_list"))
        people = {
            p.user.username: [m.role for m in p.memberships] for p in response.context["people"]
        }
        assert people["multi"] == [Role.CLEANER, Role.SECURITY]
        assert people["admin"] == [Role.COMPANY_ADMIN]
        assert "clerk_b" not in people
        page = response.content.decode()
        assert reverse("accounts:password_reset", args=[personas.clerk_a.pk]) in page

    def test_revoke_is_offered_only_where_it_would_work(self, personas):
        page = personas.client_for(personas.manager_a).get(reverse("org:staff_list"))
        revoke = "org:membership_revoke"
        content = page.content.decode()
        assert reverse(revoke, args=[personas.clerk_a.memberships.get().pk]) in content
        assert reverse(revoke, args=[personas.manager_a.memberships.get().pk]) not in content
        client = working_in(personas.client_for(personas.company_admin), personas.estate_a)
        content = client.get(reverse("org:staff_list")).content.decode()
        assert reverse(revoke, args=[personas.manager_a.memberships.get().pk]) in content

    def test_desk_sees_the_list_without_management(self, personas):
        response = personas.client_for(personas.clerk_a).get(reverse("org:staff_list"))
        assert response.status_code == 200
        assert reverse("org:staff_add") not in response.content.decode()

    def test_query_count_does_not_grow_with_staff(self, personas, django_assert_max_num_queries):
        client = personas.client_for(personas.manager_a)
        with CaptureQueriesContext(connection) as few:
            client.get(reverse("org:staff_list"))
        for n in range(30):
            make_staff(f"cleaner{n}", f"保洁{n}", personas.estate_a, Role.CLEANER)
        with django_assert_max_num_queries(len(few)):
            response = client.get(reverse("org:staff_list"))
        assert len(response.context["people"]) > 30

    def staff_form(self, **fields):
        return {
            "username": "new_tech",
            "name": "新师傅",
            "mobile": "13600136000",
            "email": "new@example.com",
            "role": Role.TECHNICIAN,
            "password": PASSWORD,
            "password_again": PASSWORD,
        } | fields

    def test_manager_adds_a_technician(self, personas):
        client = personas.client_for(personas.manager_a)
        response = client.post(reverse("org:staff_add"), self.staff_form())
        assert response["Location"] == reverse("org:staff_list")
        user = User.objects.get(username="new_tech")
        assert user.memberships.get().estate == personas.estate_a

    @pytest.mark.parametrize("role", [Role.ESTATE_MANAGER, Role.COMPANY_ADMIN])
    def test_manager_cannot_add_managers_and_is_told_why(self, personas, role):
        client = english(personas.client_for(personas.manager_a))
        response = client.post(reverse("org:staff_add"), self.staff_form(role=role))
        assert response.status_code == 403
        assert "Only a company admin can grant this role." in response.content.decode()
        assert not User.objects.filter(username="new_tech").exists()

    @pytest.mark.parametrize(
        ("data", "field"),
        [
            ({"mobile": "12345"}, "mobile"),
            ({"username": "clerk_a"}, "username"),
            ({"username": ""}, "username"),
            ({"email": "nope"}, "email"),
            ({"password": "123", "password_again": "123"}, "password"),
            ({"password_again": "other"}, "password_again"),
            ({"role": "king"}, "role"),
            ({"name": "x" * 10_000}, "name"),
        ],
    )
    def test_bad_input_adds_nobody(self, personas, data, field):
        client = personas.client_for(personas.manager_a)
        users = User.objects.count()
        response = client.post(reverse("org:staff_add"), self.staff_form(**data))
        assert response.status_code == 200
        assert response.context["form"].errors[field]
        assert User.objects.count() == users

    def test_clerk_cannot_add_staff(self, personas):
        client = personas.client_for(personas.clerk_a)
        assert client.get(reverse("org:staff_add")).status_code == 403
        assert client.post(reverse("org:staff_add"), self.staff_form()).status_code == 403
        assert not User.objects.filter(username="new_tech").exists()

    def test_manager_grants_another_role(self, personas):
        client = personas.client_for(personas.manager_a)
        response = client.post(
            reverse("org:membership_grant"),
            {"user": personas.technician_a.pk, "role": Role.SECURITY},
        )
        assert response.status_code == 302
        assert set(personas.technician_a.memberships.values_list("role", flat=True)) == {
            Role.TECHNICIAN,
            Role.SECURITY,
        }

    def test_manager_cannot_grant_a_manager_role(self, personas):
        client = english(personas.client_for(personas.manager_a))
        response = client.post(
            reverse("org:membership_grant"),
            {"user": personas.clerk_a.pk, "role": Role.ESTATE_MANAGER},
        )
        assert response.status_code == 403
        assert "Only a company admin" in response.content.decode()
        assert personas.clerk_a.memberships.count() == 1

    def test_company_admin_role_is_granted_company_wide(self, personas):
        client = personas.client_for(personas.company_admin)
        client.post(
            reverse("org:membership_grant"),
            {"user": personas.manager_a.pk, "role": Role.COMPANY_ADMIN},
        )
        membership = personas.manager_a.memberships.get(role=Role.COMPANY_ADMIN)
        assert membership.estate is None

    def test_people_outside_the_estate_cannot_be_chosen(self, personas):
        client = personas.client_for(personas.manager_a)
        for person in (personas.clerk_b, personas.outsider, personas.owner_a101):
            response = client.post(
                reverse("org:membership_grant"), {"user": person.pk, "role": Role.SECURITY}
            )
            assert response.context["form"].errors["user"]
            assert not person.memberships.filter(role=Role.SECURITY).exists()

    def test_granting_the_same_role_twice_is_a_form_error(self, personas):
        client = personas.client_for(personas.manager_a)
        response = client.post(
            reverse("org:membership_grant"),
            {"user": personas.technician_a.pk, "role": Role.TECHNICIAN},
        )
        assert response.context["form"].errors["role"]

    def test_manager_revokes_a_role(self, personas):
        membership = personas.clerk_a.memberships.get()
        client = personas.client_for(personas.manager_a)
        response = client.post(reverse("org:membership_revoke", args=[membership.pk]))
        assert response["Location"] == reverse("org:staff_list")
        assert not Membership.objects.filter(pk=membership.pk).exists()

    def test_revoke_is_post_only(self, personas):
        membership = personas.clerk_a.memberships.get()
        client = personas.client_for(personas.manager_a)
        assert client.get(reverse("org:membership_revoke", args=[membership.pk])).status_code == 405
        assert Membership.objects.filter(pk=membership.pk).exists()

    def test_clerk_cannot_revoke(self, personas):
        membership = personas.technician_a.memberships.get()
        client = personas.client_for(personas.clerk_a)
        assert (
            client.post(reverse("org:membership_revoke", args=[membership.pk])).status_code == 403
        )
        assert Membership.objects.filter(pk=membership.pk).exists()

    def test_company_admin_cannot_drop_their_own_admin_role(self, personas):
        membership = personas.company_admin.memberships.get()
        client = english(personas.client_for(personas.company_admin))
        response = client.post(reverse("org:membership_revoke", args=[membership.pk]), follow=True)
        assert "You cannot remove your own company admin role." in response.content.decode()
        assert Membership.objects.filter(pk=membership.pk).exists()


class TestTeams:
    def test_list_shows_skills_and_members(self, personas):
        client = english(personas.client_for(personas.dispatcher_a))
        page = client.get(reverse("org:team_list")).content.decode()
        assert "工程部" in page
        assert "Plumbing" in page and "Electrical" in page
        assert "王师傅" in page

    def test_manager_creates_a_team_with_skills_and_lead(self, personas):
        client = personas.client_for(personas.manager_a)
        response = client.post(
            reverse("org:team_create"),
            {
                "name": "电梯班",
                "skills": ["elevator", "electrical"],
                "lead": personas.technician_a.pk,
            },
        )
        team = Team.objects.get(name="电梯班")
        assert response["Location"] == reverse("org:team_detail", args=[team.pk])
        assert (team.skills, team.lead) == (["elevator", "electrical"], personas.technician_a)

    @pytest.mark.parametrize(
        ("data", "field"),
        [
            ({"skills": ["juggling"]}, "skills"),
            ({"name": ""}, "name"),
            ({"name": "x" * 10_000}, "name"),
            ({"name": "工程部"}, None),
            ({"lead": "clerk_b"}, "lead"),
        ],
    )
    def test_bad_teams_are_not_created(self, personas, data, field):
        if data.get("lead") == "clerk_b":
            data = {"lead": personas.clerk_b.pk}
        client = personas.client_for(personas.manager_a)
        response = client.post(reverse("org:team_create"), {"name": "电梯班"} | data)
        assert response.context["form"].errors[field or "__all__"]
        assert Team.objects.count() == 1

    def test_edit_keeps_the_current_values_as_initial(self, personas):
        client = personas.client_for(personas.manager_a)
        url = reverse("org:team_edit", args=[personas.team_a.pk])
        assert client.get(url).context["form"].initial["skills"] == ["plumbing", "electrical"]
        client.post(url, {"name": "工程部", "skills": ["plumbing"]})
        assert Team.objects.get(pk=personas.team_a.pk).skills == ["plumbing"]

    def test_technician_cannot_edit(self, personas):
        client = personas.client_for(personas.technician_a)
        url = reverse("org:team_edit", args=[personas.team_a.pk])
        assert client.post(url, {"name": "改名"}).status_code == 403
        assert Team.objects.get(pk=personas.team_a.pk).name == "工程部"

    def test_add_and_remove_a_member(self, personas):
        client = personas.client_for(personas.manager_a)
        client.post(
            reverse("org:team_member_add", args=[personas.team_a.pk]),
            {"user": personas.security_a.pk},
        )
        member = TeamMember.objects.get(team=personas.team_a, user=personas.security_a)
        response = client.post(reverse("org:team_member_remove", args=[member.pk]))
        assert response["Location"] == reverse("org:team_detail", args=[personas.team_a.pk])
        assert not TeamMember.objects.filter(pk=member.pk).exists()

    def test_adding_someone_from_another_estate_is_refused(self, personas):
        client = personas.client_for(personas.manager_a)
        response = client.post(
            reverse("org:team_member_add", args=[personas.team_a.pk]),
            {"user": personas.clerk_b.pk},
        )
        assert response.context["form"].errors["user"]
        assert personas.team_a.memberships.count() == 1

    def test_technician_cannot_remove_members(self, personas):
        member = personas.team_a.memberships.get()
        client = personas.client_for(personas.technician_a)
        assert client.post(reverse("org:team_member_remove", args=[member.pk])).status_code == 403
        assert TeamMember.objects.filter(pk=member.pk).exists()


class TestMyUnits:
    def test_owner_sees_their_unit_estate_and_service_phone(self, personas):
        personas.estate_a.service_phone = "0571-88886666"
        personas.estate_a.save()
        client = english(personas.client_for(personas.owner_a101))
        response = client.get(reverse("org:my_units"))
        page = response.content.decode()
        for text in ("1号楼 101", "阳光花园", "89.50", "Owner", "0571-88886666"):
            assert text in page
        assert "1号楼 102" not in page

    def test_moved_out_owner_sees_an_empty_page(self, personas, time_machine):
        residency = personas.resident_a101.residencies.get()
        residency.moved_out_on = dt.date(2026, 1, 31)
        residency.save()
        time_machine.move_to(dt.datetime(2026, 3, 1, 12, tzinfo=dt.UTC))
        response = personas.client_for(personas.owner_a101).get(reverse("org:my_units"))
        assert response.status_code == 200
        assert list(response.context["residencies"]) == []

    @pytest.mark.parametrize("who", ["manager_a", "technician_a", "stranger", "outsider"])
    def test_staff_and_strangers_get_404(self, personas, who):
        client = personas.client_for(getattr(personas, who))
        assert client.get(reverse("org:my_units")).status_code == 404
