"""`jiayuan triage_export` writes what people corrected as corpus rows, and
`jiayuan triage_train --extra` learns from them without touching the held-out split."""

import datetime as dt
import io
import json

import pytest
from django.core.management import CommandError, call_command

from jiayuan.servicedesk import services
from jiayuan.servicedesk.models import Kind
from jiayuan.triage import corpus
from jiayuan.triage.model import Triage
from jiayuan.triage.tests.fixtures import rows, write_corpus

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("triage_model")]


def report(p, description, category, **changes):
    return services.request_create(
        actor=p.owner_a101,
        estate=p.estate_a,
        kind=Kind.REPAIR,
        category=category,
        description=description,
        unit=p.unit_a101,
        **changes,
    )


def export(tmp_path, *args) -> list[corpus.Example]:
    path = tmp_path / "corrections.jsonl"
    call_command("triage_export", "--output", str(path), *args, stderr=io.StringIO())
    return corpus.load(path)


def test_the_export_writes_corrections_that_the_corpus_loads(personas, tmp_path):
    p = personas
    kept = report(p, "厨房水龙头一直滴水", "plumbing")
    corrected = report(p, "卧室插座没电了", "civil")
    services.request_reclassify(actor=p.clerk_a, request=kept, urgency="urgent")
    examples = export(tmp_path)
    assert {(e.text, e.category, e.urgency) for e in examples} == {
        ("厨房水龙头一直滴水", "plumbing", "urgent"),
        ("卧室插座没电了", "civil", "normal"),
    }
    lines = [json.loads(line) for line in (tmp_path / "corrections.jsonl").read_text().splitlines()]
    assert {line["source"] for line in lines} == {"correction"}
    assert {line["request"] for line in lines} == {kept.number, corrected.number}


def test_confirmed_requests_are_written_on_request(personas, tmp_path):
    p = personas
    confirmed = report(p, "客厅的灯不亮了", "electrical")
    report(p, "阳台灯开关坏了", "electrical")  # still waiting: nobody has looked at it
    services.request_accept(actor=p.clerk_a, request=confirmed)
    assert export(tmp_path) == []
    out = io.StringIO()
    call_command("triage_export", "--confirmed", stdout=out)
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [(line["text"], line["source"]) for line in lines] == [("客厅的灯不亮了", "confirmed")]


def test_since_and_company_filter(personas, tmp_path, time_machine):
    p = personas
    time_machine.move_to(dt.datetime(2026, 5, 1, 10, tzinfo=dt.UTC))
    report(p, "厨房水龙头一直滴水", "civil")
    time_machine.move_to(dt.datetime(2026, 6, 2, 10, tzinfo=dt.UTC))
    report(p, "卧室插座没电了", "civil")
    assert [e.text for e in export(tmp_path, "--since", "2026-06-01")] == ["卧室插座没电了"]
    assert len(export(tmp_path, "--company", p.company.code)) == 2
    assert export(tmp_path, "--company", p.other_company.code) == []
    with pytest.raises(CommandError):
        call_command("triage_export", "--since", "June", stdout=io.StringIO())
    with pytest.raises(CommandError):
        call_command("triage_export", "--company", "nobody", stdout=io.StringIO())


# ----------------------------------------------------------------------------- retraining


def train(tmp_path, model, *extra, force=False):
    corpus_file = write_corpus(tmp_path / "corpus.jsonl")
    arguments = ["--corpus", str(corpus_file), "--model", str(model)]
    for path in extra:
        arguments += ["--extra", str(path)]
    if force:
        arguments.append("--force")
    call_command("triage_train", *arguments, stdout=io.StringIO())
    return Triage.load(model)


def test_extra_rows_are_trained_on_and_the_held_out_split_stays(tmp_path):
    model = tmp_path / "model.npz"
    plain = train(tmp_path, model)
    extra = write_corpus(
        tmp_path / "extra.jsonl",
        [
            {
                "text": "车库入口的道闸抬不起来",
                "kind": "repair",
                "category": "parking",
                "urgency": "urgent",
                "source": "correction",
                "request": "BX1",
            },
            {
                "text": "地库道闸坏了车出不去",
                "kind": "repair",
                "category": "parking",
                "urgency": "urgent",
                "source": "correction",
                "request": "BX2",
            },
        ],
    )
    assert "parking" not in {row["category"] for row in rows() if row["kind"] == "repair"}
    retrained = train(tmp_path, model, extra, force=True)
    assert retrained.metadata["extra_examples"] == 2
    assert retrained.metadata["training_examples"] == plain.metadata["training_examples"] + 2
    assert retrained.metadata["held_out_examples"] == plain.metadata["held_out_examples"]
    (prediction,) = retrained.predict(["车库入口的道闸抬不起来"])
    assert prediction.category == "parking"


def test_a_worse_model_from_extra_rows_is_refused(tmp_path):
    model = tmp_path / "model.npz"
    before = train(tmp_path, model)
    training, _held_out = corpus.split(corpus.load(write_corpus(tmp_path / "corpus.jsonl")))
    # Every training text labelled as another intent: a model that learns nonsense.
    shifted = training[7:] + training[:7]
    wrong = [
        {"text": ex.text, "kind": other.kind, "category": other.category, "urgency": other.urgency}
        for ex, other in zip(training, shifted, strict=True)
    ]
    extra = write_corpus(tmp_path / "wrong.jsonl", wrong)
    with pytest.raises(CommandError, match=r"accuracy|recall"):  # the measures it is worse on
        train(tmp_path, model, extra)
    assert Triage.load(model).metadata["trained_at"] == before.metadata["trained_at"]
    assert "extra" not in Triage.load(model).metadata


def test_an_extra_row_with_a_held_out_text_is_left_out(tmp_path):
    model = tmp_path / "model.npz"
    _training, held_out = corpus.split(corpus.load(write_corpus(tmp_path / "corpus.jsonl")))
    leak = held_out[0]
    extra = write_corpus(
        tmp_path / "extra.jsonl",
        [
            {
                "text": leak.text,
                "kind": leak.kind,
                "category": leak.category,
                "urgency": leak.urgency,
            }
        ],
    )
    plain = train(tmp_path, model)
    again = train(tmp_path, model, extra, force=True)
    assert again.metadata["training_examples"] == plain.metadata["training_examples"]
