"""The model trained on a small corpus: what it predicts, that its NumPy predictions are
scikit-learn's, its held-out split, and how it is saved and loaded."""

import json

import numpy as np
import pytest

from jiayuan.triage import corpus, model
from jiayuan.triage.corpus import Example
from jiayuan.triage.tests.fixtures import rows, write_corpus
from jiayuan.triage.text import normalize


@pytest.fixture(scope="module")
def examples():
    return [Example(**row) for row in rows()]


@pytest.fixture(scope="module")
def triage(examples):
    return model.train(corpus.split(examples)[0])


def test_normalize_folds_width_case_spaces_and_shouting():
    assert normalize("  ＷＯ家  电梯\t坏了！！！？？ 快快快快快 ") == "wo家 电梯 坏了! 快快"


def test_predictions_are_sensible_for_texts_it_never_saw(triage):
    predictions = triage.predict(
        ["请问物业费在哪里交啊", "楼上邻居天天晚上很吵", "我家客厅灯坏了不亮", "建议小区多种些树"]
    )
    assert [(p.kind, p.category) for p in predictions] == [
        ("inquiry", "billing"),
        ("complaint", "noise_neighbor"),
        ("repair", "electrical"),
        ("suggestion", "greening"),
    ]
    assert all(p.urgency == "normal" and 0 < p.confidence <= 1 for p in predictions)


def test_a_safety_rule_overrides_the_model_and_says_so(triage):
    [prediction] = triage.predict(["请问 阳台那边好像着火了 冒烟"])
    assert prediction.urgency == "emergency"
    assert prediction.kind == "repair"
    assert prediction.category in {"fire_safety", "electrical", "gas"}
    assert "rule:fire_smoke" in prediction.reasons


def test_predictions_keep_order_across_batches(triage, monkeypatch):
    monkeypatch.setattr(model, "BATCH", 3)
    texts = ["物业费怎么交", "电梯困人了", "楼上装修太吵", "客厅的灯不亮了"] * 4
    one_by_one = [triage.predict([text])[0] for text in texts]
    assert triage.predict(texts) == one_by_one


def test_text_with_no_known_ngram_still_gets_an_answer(triage):
    [prediction] = triage.predict(["§§§"])
    assert prediction.kind in corpus.LABELS["kind"]
    assert 0 < prediction.confidence <= 1


def test_numpy_probabilities_equal_scikit_learns(examples, triage):
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    training = corpus.split(examples)[0]
    texts = [normalize(e.text) for e in training]
    vectorizer = TfidfVectorizer(
        analyzer=model.ngrams,
        sublinear_tf=True,
        min_df=model.MIN_DOCUMENT_FREQUENCY,
        max_features=model.MAX_FEATURES,
        dtype=np.float32,
    )
    features = vectorizer.fit_transform(texts)
    classifier = LogisticRegression(C=model.REGULARISATION, max_iter=3000)
    classifier.fit(features, [e.category for e in training])
    probe = [normalize(t) for t in ["电梯坏了", "物业费怎么交", "没见过的话"]]
    expected = classifier.predict_proba(vectorizer.transform(probe))
    assert np.allclose(triage.probabilities(probe)["category"], expected, atol=1e-4)


def test_the_split_is_stable_and_keeps_old_texts_where_they_were(examples):
    _training, held_out = corpus.split(examples)
    assert 0.1 < len(held_out) / len(examples) < 0.3
    more = [*examples, Example("新加的一条", "inquiry", "other", "normal")]
    assert set(corpus.split(more)[1]) - set(held_out) <= {more[-1]}
    # The same request typed differently lands on the same side.
    assert corpus.is_held_out("电梯坏了！！") == corpus.is_held_out("电梯坏了!")


def test_saved_and_loaded_model_predicts_the_same(triage, tmp_path):
    path = tmp_path / "triage" / "model.npz"
    triage.save(path)
    loaded = model.Triage.load(path)
    texts = ["物业费怎么交", "电梯困人了", "楼上装修太吵"]
    assert loaded.predict(texts) == triage.predict(texts)
    assert json.loads(path.with_suffix(".json").read_text())["features"] > 0


def test_an_unreadable_model_is_a_clear_error(tmp_path):
    path = tmp_path / "model.npz"
    path.write_bytes(b"not a model")
    with pytest.raises(model.ModelError):
        model.Triage.load(path)


def test_corpus_with_an_unknown_label_names_the_line(tmp_path):
    bad = [*rows()[:3], {"text": "x", "kind": "repair", "category": "plumbin", "urgency": "normal"}]
    with pytest.raises(corpus.CorpusError, match="4"):
        corpus.load(write_corpus(tmp_path / "bad.jsonl", bad))


def test_first_use_trains_from_the_corpus_and_then_reuses_the_file(tmp_path, monkeypatch):
    monkeypatch.setattr(corpus, "SHIPPED_CORPUS", write_corpus(tmp_path / "corpus.jsonl"))
    path = tmp_path / "data" / "model.npz"
    first = model.current(path)
    assert path.exists()
    assert model.current(path) is first
