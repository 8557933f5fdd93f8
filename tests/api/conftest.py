import pytest


@pytest.fixture(autouse=True)
def _triage_model(triage_model):
    """POST /triage/classify answers from a model, as on a started server."""
