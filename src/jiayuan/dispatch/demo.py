"""The demo's dispatch: every technician gets a profile from their teams' skills (the team
lead as expert), day and evening shifts in turn with a night on-call, and the first estate
offers lift repairs in the grab pool while everything else is dispatched by hand with
suggestions."""

from datetime import time

from jiayuan.accounts.models import User
from jiayuan.core.roles import Role
from jiayuan.dispatch import services
from jiayuan.dispatch.models import DispatchRule, GrabOffer, Mode, TechnicianProfile
from jiayuan.org.models import Company, Membership, Team
from jiayuan.sla.demo import DEMO_ADMIN

SHIFTS = (
    [(day, time(8), time(18)) for day in range(7)],  # day
    [(day, time(14), time(22)) for day in range(7)],  # evening
    [(day, time(20), time(8)) for day in range(7)],  # night on call
)


def build_dispatch_demo(company: Company) -> None:
    admin = User.objects.get(username=DEMO_ADMIN)
    for estate in company.estates.order_by("pk"):
        teams = list(Team.objects.filter(estate=estate).prefetch_related("memberships"))
        technicians = Membership.objects.filter(
            estate=estate, role=Role.TECHNICIAN, is_active=True
        ).select_related("user")
        for index, membership in enumerate(technicians.order_by("user_id")):
            user = membership.user
            own = [t for t in teams if any(m.user_id == user.pk for m in t.memberships.all())]
            skills = {
                code: 3 if team.lead_id == user.pk else 2 for team in own for code in team.skills
            }
            services.profile_save(
                actor=admin,
                estate=estate,
                user=user,
                team=own[0] if own else None,
                skills=skills or {"civil": 1},
                shifts=SHIFTS[index % len(SHIFTS)],
                max_open=5,
            )
    first = company.estates.order_by("pk").first()
    if first is not None:
        services.rule_save(
            actor=admin, estate=first, category="elevator", mode=Mode.GRAB, grab_minutes=15
        )


def delete_dispatch_demo(company: Company) -> None:
    GrabOffer.objects.filter(estate__company=company).delete()
    DispatchRule.objects.filter(estate__company=company).delete()
    TechnicianProfile.objects.filter(estate__company=company).delete()
