"""`jiayuan triage`, `jiayuan triage_train` and `jiayuan triage_eval` as people and scripts
use them."""

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from jiayuan.triage import corpus
from jiayuan.triage.tests.fixtures import rows, write_corpus


@pytest.fixture
def corpus_file(tmp_path):
    return write_corpus(tmp_path / "corpus.jsonl")


@pytest.fixture
def model_file(tmp_path, corpus_file):
    path = tmp_path / "model.npz"
    call_command("triage_train", corpus=corpus_file, model=path, stdout=io.StringIO())
    return path


def triage(model_file, text: str) -> list[dict]:
    out = io.StringIO()
    call_command("triage", model=str(model_file), stdin=io.StringIO(text), stdout=out)
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_one_answer_per_line_in_the_same_order(model_file):
    texts = ["物业费怎么交", "电梯困人了！！", "楼上装修太吵了", "客厅的灯不亮了"] * 3
    lines = "".join(json.dumps({"text": t}, ensure_ascii=False) + "\n" for t in texts)
    answers = triage(model_file, lines)
    assert len(answers) == len(texts)
    assert all(set(a) == {"kind", "category", "urgency", "confidence", "reasons"} for a in answers)
    assert [a["category"] for a in answers[:4]] == [
        "billing",
        "elevator",
        "noise_neighbor",
        "electrical",
    ]
    assert answers[1]["urgency"] == "emergency"
    assert answers[:4] == answers[4:8] == answers[8:]


def test_bad_lines_are_answered_with_an_error_in_place(model_file):
    lines = [
        '{"text": "物业费怎么交"}',
        "{not json",
        '{"txt": "电梯坏了"}',
        '{"text": 42}',
        '["text"]',
        '{"text": "   "}',
        "",
        '{"text": "楼上装修太吵了"}',
    ]
    answers = triage(model_file, "\n".join(lines) + "\n")
    assert len(answers) == len(lines)
    assert answers[0]["kind"] == "inquiry"
    assert answers[-1]["category"] == "noise_neighbor"
    for number, answer in enumerate(answers[1:-1], start=2):
        assert set(answer) == {"error"}
        assert str(number) in answer["error"]
    # Messages to people speak the configured language.
    assert "JSON" in answers[1]["error"] and "行" in answers[1]["error"]


def test_empty_input_gives_no_output(model_file):
    assert triage(model_file, "") == []


def test_standard_input_of_a_real_process(model_file, tmp_path):
    # The middle line is not UTF-8; the last one has no line ending.
    lines = '{"text": "物业费怎么交"}\n'.encode() + b'{"text": "\xff\xfe"}\n'
    lines += '{"text": "电梯困人"}'.encode()
    done = subprocess.run(  # noqa: S603 - the project's own command
        [sys.executable, "-m", "jiayuan.cli", "triage", "--model", str(model_file)],
        input=lines,
        capture_output=True,
        check=True,
        env={**os.environ, "JIAYUAN_DATA_DIR": str(tmp_path), "LOG_LEVEL": "WARNING"},
    )
    answers = [json.loads(line) for line in done.stdout.decode().splitlines()]
    assert [a.get("kind") for a in answers] == ["inquiry", None, "repair"]
    assert "error" in answers[1]
    assert answers[2]["urgency"] == "emergency"


def scrambled(path: Path) -> Path:
    """The same held-out lines, but training lines with their categories shifted by one:
    a model trained on it is worse on the held-out split."""
    categories = corpus.LABELS["category"]
    bad = []
    for row in rows():
        if not corpus.is_held_out(row["text"]):
            shifted = categories[(categories.index(row["category"]) + 1) % len(categories)]
            row = {**row, "category": shifted}
        bad.append(row)
    return write_corpus(path, bad)


def test_train_refuses_a_worse_model_unless_forced(model_file, tmp_path):
    before = model_file.read_bytes()
    out = io.StringIO()
    worse_corpus = scrambled(tmp_path / "worse.jsonl")
    with pytest.raises(CommandError, match="category_accuracy"):
        call_command("triage_train", corpus=worse_corpus, model=model_file, stdout=out)
    assert model_file.read_bytes() == before
    assert "category_accuracy" in out.getvalue()
    out = io.StringIO()
    call_command("triage_train", corpus=worse_corpus, model=model_file, force=True, stdout=out)
    assert model_file.read_bytes() != before
    assert "category_accuracy" in out.getvalue()


def test_train_replaces_a_model_no_worse(model_file, corpus_file):
    out = io.StringIO()
    call_command("triage_train", corpus=corpus_file, model=model_file, stdout=out)
    assert str(model_file) in out.getvalue()
    metadata = json.loads(model_file.with_suffix(".json").read_text())
    assert metadata["corpus_sha256"] == corpus.digest(corpus_file)
    assert metadata["held_out"]["accuracy"]["kind"] == 1.0


def test_eval_prints_accuracy_confusion_and_recall(model_file, corpus_file):
    out = io.StringIO()
    call_command("triage_eval", corpus=corpus_file, model=model_file, stdout=out)
    report = out.getvalue()
    for field in ("kind", "category", "urgency"):
        assert field in report
    assert "1.000" in report
    # The urgency matrix: a row per label, a column per prediction.
    assert "emer urge norm" in report


def test_eval_fails_below_the_bar(model_file, corpus_file):
    with pytest.raises(CommandError):
        call_command(
            "triage_eval", corpus=corpus_file, model=model_file, min_kind=1.01, stdout=io.StringIO()
        )


def test_a_missing_corpus_is_a_clear_error(tmp_path):
    with pytest.raises(CommandError):
        call_command("triage_train", corpus=tmp_path / "none.jsonl", model=tmp_path / "m.npz")


@pytest.mark.parametrize("name", ["triage", "triage_train", "triage_eval"])
def test_each_command_explains_itself(name):
    from django.core.management import load_command_class

    command = load_command_class("jiayuan.triage", name)
    text = command.create_parser("jiayuan", name).format_help()
    assert command.help.split()[0] in text
