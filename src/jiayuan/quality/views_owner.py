"""The owner's side, on their phone: the surveys open for their households, and the
answer page with its thank-you and "already answered" states. Someone who does not live in
a household asked gets the 404 of a page that is not there for them."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from jiayuan.quality import selectors, services
from jiayuan.quality.forms import AnswerForm
from jiayuan.servicedesk.views_owner import owner_page


@owner_page
def my_surveys(request):
    return render(
        request, "quality/my_surveys.html", {"surveys": selectors.open_surveys(request.user)}
    )


@owner_page
def owner_answer(request, campaign_pk, unit_pk):
    survey = selectors.survey_for_owner(request.user, campaign_pk, unit_pk)
    campaign = survey.campaign
    state = "thanks" if request.GET.get("done") and survey.answered else None
    if state is None and survey.answered:
        state = "answered"
    elif state is None and not services.is_open_for_answers(campaign):
        state = "closed"
    questions = list(campaign.template.questions.all())
    form = AnswerForm(request.POST if request.method == "POST" else None, questions=questions)
    if state is None and request.method == "POST" and form.is_valid():
        try:
            services.answer_submit(
                actor=request.user,
                campaign=campaign,
                unit=survey.unit,
                answers=form.answers(),
            )
        except services.AlreadyAnswered:
            state = "answered"
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            return redirect(f"{request.path}?done=1")
    if state == "closed" and request.method == "POST":
        messages.error(request, _("This survey is closed."))
    context = {
        "survey": survey,
        "campaign": campaign,
        "template": campaign.template,
        "form": form,
        "state": state,
        "days_left": selectors.days_left(campaign),
    }
    return render(request, "quality/owner_answer.html", context)
