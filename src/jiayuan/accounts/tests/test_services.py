"""Account services that the pages call: sign-in/out records and the saved language."""

import pytest
from django.core.exceptions import ValidationError

from jiayuan.accounts.events import AccountEvent
from jiayuan.accounts.services import (
    user_record_sign_in,
    user_record_sign_out,
    user_set_language,
)
from jiayuan.core.models import AuditEvent

pytestmark = pytest.mark.django_db


def test_sign_in_and_out_each_record_one_event_about_the_person(personas):
    user_record_sign_in(actor=personas.owner_a101)
    user_record_sign_out(actor=personas.owner_a101)
    events = list(AuditEvent.objects.order_by("pk"))
    assert [e.code for e in events] == [AccountEvent.SIGNED_IN, AccountEvent.SIGNED_OUT]
    assert {(e.actor_id, e.target_id) for e in events} == {
        (personas.owner_a101.pk, str(personas.owner_a101.pk))
    }


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_every_offered_language_is_saved(personas, language):
    user_set_language(actor=personas.manager_a, language=language)
    personas.manager_a.refresh_from_db()
    assert personas.manager_a.preferred_language == language


@pytest.mark.parametrize("language", ["", None, "fr", "zh-Hans", "en ", "<script>", 7])
def test_a_language_not_offered_is_refused_without_a_write(personas, language):
    with pytest.raises(ValidationError) as refused:
        user_set_language(actor=personas.manager_a, language=language)
    assert "language" in refused.value.message_dict
    personas.manager_a.refresh_from_db()
    assert personas.manager_a.preferred_language == ""
    assert not AuditEvent.objects.exists()
