"""The intent classifier: training, calibrated confidence, artefacts, evaluation, the CLI
and the model shipped in `models/`."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from skops import io as skops_io

from ticketflow.cli import main
from ticketflow.flows.taxonomy import compile_taxonomy, load_taxonomy
from ticketflow.infra.settings import Settings
from ticketflow.tagging import artefacts, evaluation, features, svm, training
from ticketflow.tagging.model import IntentModel
from ticketflow.tagging.tagger import tag

DATA = Path(__file__).resolve().parent.parent / "data" / "intents.csv"


@pytest.fixture(scope="module")
def model() -> IntentModel:
    texts, labels = training.read_examples(DATA)
    return training.train(texts, labels, source=DATA.name)


@pytest.fixture(scope="module")
def shipped() -> IntentModel:
    path = Settings().intent_model
    assert path is not None and path.is_file(), "the trained model ships with the code"
    return artefacts.load(path)


@pytest.mark.parametrize(("text", "intent"), [
    ("could you refund me", "refund"),
    ("my password does not work and I cannot log in", "login"),
    ("where is my package", "shipping"),
    ("the app shows an error and crashes", "bug"),
    ("申请退款", "refund"),
    ("密码错误无法登录", "login"),
    ("包裹没到", "shipping"),
    ("app 闪退", "bug"),
])
def test_learns_intents_in_english_and_chinese(model: IntentModel, text: str,
                                               intent: str) -> None:
    predicted, confidence = model.predict(text)
    assert predicted == intent
    assert 0.25 < confidence <= 1.0  # 4 intents: better than chance


def test_confidence_is_lower_for_text_unlike_any_example(model: IntentModel) -> None:
    _, clear = model.predict("please refund my order, I want my money back")
    _, vague = model.predict("hello")
    assert vague < clear


def test_fast_path_equals_the_pipeline(model: IntentModel) -> None:
    texts = ["I want my money back", "退款", "", "!!!", "zzz qqq", "my parcel 没有发货, error"]
    expected = model.pipeline.predict_proba([t.casefold() for t in texts])
    ours = np.array([model._scorer.probabilities(t.casefold()) for t in texts])
    assert np.allclose(ours, expected, atol=1e-12)


def test_text_the_embedding_cannot_read_is_scored_by_the_ngrams_alone(
        model: IntentModel) -> None:
    svm = model.pipeline.named_steps["classifier"].calibrated_classifiers_[0].estimator
    features = model.pipeline.named_steps["features"].transform(["包裹没到", "app 闪退", "!!!"])
    text, _, readable = svm._split(features)
    assert list(readable) == [False, True, False]  # Chinese and punctuation: no embedding
    scores = svm.decision_function(features)
    assert np.allclose(scores[[0, 2]], svm.text_.decision_function(text[[0, 2]]))
    assert not np.allclose(scores[1], svm.text_.decision_function(text[1]))


def test_same_data_same_model_and_version(model: IntentModel) -> None:
    texts, labels = training.read_examples(DATA)
    again = training.train(texts, labels)
    assert again.version == model.version
    assert again.predict("where is my refund") == model.predict("where is my refund")
    assert training.train(texts[1:], labels[1:]).version != model.version


def test_artefact_round_trip_and_hot_reload(model: IntentModel, tmp_path: Path) -> None:
    path = tmp_path / "intents.skops"
    artefacts.save(model, path)
    assert not artefacts.is_loaded(path)
    loaded = artefacts.current(path)
    assert artefacts.is_loaded(path)
    assert loaded is not None and loaded.version == model.version
    assert loaded.labels == ["bug", "login", "refund", "shipping"]
    assert loaded.meta["examples"] == 40
    assert artefacts.current(path) is loaded  # unchanged file, no reload

    texts, labels = training.read_examples(DATA)
    newer = training.train(texts[:30], labels[:30])  # no bug examples
    artefacts.save(newer, path)
    os.utime(path, ns=(1, 1))  # a different stamp even within the clock's resolution
    assert not artefacts.is_loaded(path)
    assert artefacts.current(path).version == newer.version

    path.write_bytes(b"not a model")  # a broken file is refused, the last good one stays
    assert artefacts.current(path).version == newer.version
    with pytest.raises(ValueError, match="not an intent model"):
        artefacts.load(path)
    assert artefacts.current(tmp_path / "missing.skops") is None
    assert artefacts.current(None) is None
    assert artefacts.is_loaded(None) and artefacts.is_loaded(tmp_path / "missing.skops")


def test_a_model_saved_under_the_former_module_names_still_loads(
        model: IntentModel, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Models trained before the classifier had a package named their types
    # ticketflow.intents.*; a worker upgraded beside such a model keeps serving it.
    for held in (features.tokens, features.SentenceEmbedding, svm.TextAndEmbeddingSVM):
        monkeypatch.setattr(held, "__module__", "ticketflow.intents")
    path = tmp_path / "older.skops"
    artefacts.save(model, path)
    monkeypatch.undo()
    assert "ticketflow.intents.tokens" in skops_io.get_untrusted_types(file=path)
    older = artefacts.load(path)
    assert older.version == model.version
    assert older.predict("where is my refund") == model.predict("where is my refund")


class Foreign:
    pass


def test_refuses_artefacts_holding_unknown_types(tmp_path: Path) -> None:
    path = tmp_path / "foreign.skops"
    skops_io.dump({"pipeline": Foreign(), "version": "x", "meta": "{}"}, path)
    with pytest.raises(ValueError, match="not an intent model"):
        artefacts.load(path)


def test_report_names_the_worst_classes_and_their_confusions() -> None:
    truth = ["a"] * 4 + ["b"] * 4 + ["c"] * 2
    predicted = ["a", "a", "a", "a", "b", "b", "a", "c", "c", "c"]
    confidence = [0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.4, 0.6, 0.9, 0.9]
    report = evaluation.report(truth, list(zip(predicted, confidence, strict=True)), worst=2)
    assert report.accuracy == 0.8
    assert report.worst[0] == {"class": "b", "recall": 0.5, "confused_with": [("a", 1), ("c", 1)]}
    assert report.worst[1]["class"] == "a"
    assert "accuracy   0.8000" in report.text()
    # Leaving the 0.4 guess (wrong) and the 0.6 one (wrong) to the taxonomy:
    assert report.by_confidence[1] == {"min_confidence": 0.5, "coverage": 0.9, "accuracy": 0.8889}
    assert report.by_confidence[2] == {"min_confidence": 0.7, "coverage": 0.8, "accuracy": 1.0}


def test_cross_validation_holds_out_every_example() -> None:
    texts, labels = training.read_examples(DATA)
    report = evaluation.cross_validate(texts, labels, folds=5)
    assert report.examples == 40
    assert report.accuracy >= 0.6


def test_cli_trains_and_evaluates(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "m.skops"
    assert main(["tagger", "train", str(DATA), "--out", str(out)]) == 0
    assert "4 intents from 40 examples" in capsys.readouterr().out
    assert main(["tagger", "eval", str(DATA), "--model", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "accuracy   1.0000" in printed and "macro-F1" in printed and "worst classes" in printed
    assert main(["tagger", "eval", str(DATA), "--cv", "3"]) == 0
    assert "3-fold cross-validation" in capsys.readouterr().out


def test_cli_explains_bad_training_data(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("body,label\nhello,x\n")
    assert main(["tagger", "train", str(bad), "--out", str(tmp_path / "m.skops")]) == 2
    assert "missing column(s) category, text" in capsys.readouterr().err
    bad.write_text("text,category\nhello,x\nbye,x\n")
    assert main(["tagger", "train", str(bad), "--out", str(tmp_path / "m.skops")]) == 2
    assert "at least two categories" in capsys.readouterr().err
    assert not (tmp_path / "m.skops").exists()


def test_tagging_takes_a_confident_intent_and_the_tags_it_earns(model: IntentModel) -> None:
    taxonomy = compile_taxonomy("tags:\n  money:\n    intents: [refund]\n"
                                "  greeting:\n    intent: true\n    en: [hello]\n")
    confident = tag("", "please refund my order", taxonomy, model, min_confidence=0.3)
    assert (confident.intent, confident.tags) == ("refund", ["money"])
    assert confident.model_version == f"{taxonomy.version}+{model.version}"
    # Not confident enough: the taxonomy's intent tag speaks instead.
    assert model.predict("hello")[1] < 0.9
    fallback = tag("", "hello", taxonomy, model, min_confidence=0.9)
    assert (fallback.intent, fallback.intent_confidence, fallback.tags) == ("greeting", 1.0, ["greeting"])
    assert tag("", "please refund my order", taxonomy, model, 0.3) == confident  # deterministic


@pytest.mark.parametrize(("text", "intent", "tag_name"), [
    ("My new card still hasn't arrived, it's been two weeks", "card_arrival", "shipping"),
    ("I would like a refund for an item I returned", "request_refund", "refund"),
    ("There is a payment on my statement I did not make", "card_payment_not_recognised", "fraud"),
    ("I forgot my passcode", "passcode_forgotten", "login"),
])
def test_shipped_banking77_model(shipped: IntentModel, text: str, intent: str,
                                 tag_name: str) -> None:
    assert shipped.meta["classes"] == 77 and shipped.meta["examples"] == 10_003
    predicted, confidence = shipped.predict(text)
    assert predicted == intent and confidence >= 0.5
    tagging = tag("", text, load_taxonomy(), shipped)
    assert tagging.intent == intent
    assert tagging.intent_confidence == pytest.approx(confidence, abs=0.01)
    assert tag_name in tagging.tags


def test_the_embedding_loads_from_the_installed_package_without_network(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    def refuse(*_: object, **__: object) -> None:
        raise OSError("no network in this test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    features._wordllama.cache_clear()
    vectors = features.embed(["my card has not arrived", "包裹没到"])
    assert vectors.shape == (2, features.EMBEDDING_WIDTH)
    assert np.isclose(np.linalg.norm(vectors[0]), 1.0) and not vectors[1].any()
