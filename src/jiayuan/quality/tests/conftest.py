"""A launched campaign of the default template in estate A of the shared personas, whose
two flats (101 and 102 of building 1) are lived in."""

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import translation

from jiayuan.core.testing import Personas, build_personas
from jiayuan.org.models import Unit
from jiayuan.quality import services
from jiayuan.quality.models import Campaign, QuestionKind, SurveyTemplate

SHANGHAI = ZoneInfo("Asia/Shanghai")
# A Monday in the middle of the second quarter.
NOW = dt.datetime(2026, 5, 11, 10, 0, tzinfo=SHANGHAI)
DEADLINE = dt.datetime(2026, 5, 25, 18, 0, tzinfo=SHANGHAI)


@dataclass
class Survey:
    p: Personas
    template: SurveyTemplate
    campaign: Campaign

    def answers(self, rating: int = 5, **by_dimension) -> dict[str, object]:
        """Answers to every question of the template: `rating` for each rating question
        (or the dimension's own, given as content=1...), the first option, a text."""
        return answers_to(self.template, rating, **by_dimension)


def answers_to(template, rating: int = 5, **by_dimension) -> dict[str, object]:
    found = {}
    for question in template.questions.all():
        if question.kind == QuestionKind.RATING:
            found[str(question.pk)] = by_dimension.get(question.dimension, rating)
        elif question.kind == QuestionKind.SINGLE:
            found[str(question.pk)] = question.options[0]
        elif question.kind == QuestionKind.MULTIPLE:
            found[str(question.pk)] = question.options[:2]
        else:
            found[str(question.pk)] = "电梯间再干净些就好了"
    return found


def lived_in(p: Personas) -> None:
    Unit.objects.filter(pk__in=[p.unit_a101.pk, p.unit_a102.pk, p.unit_b101.pk]).update(
        status=Unit.Status.OCCUPIED
    )


def launched(p: Personas, template, *, estate=None, anonymous=False, **options) -> Campaign:
    campaign = services.campaign_create(
        actor=p.company_admin if estate is None else p.manager_a,
        company=p.company,
        template=template,
        estate=estate,
        deadline=options.pop("deadline", DEADLINE),
        anonymous=anonymous,
        **options,
    )
    return services.campaign_launch(actor=p.company_admin, campaign=campaign)


@pytest.fixture(autouse=True)
def _english(settings):
    """Assertions read English: in the code and in pages asked for without a language."""
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def survey(db, clock) -> Survey:
    p = build_personas()
    lived_in(p)
    template = services.template_create_default(actor=p.manager_a, company=p.company)
    return Survey(p, template, launched(p, template, estate=p.estate_a))


@pytest.fixture
def anonymous_survey(survey) -> Survey:
    campaign = launched(survey.p, survey.template, estate=survey.p.estate_a, anonymous=True)
    return Survey(survey.p, survey.template, campaign)
