from __future__ import annotations

import pytest

from openeurollm import EU_LANGUAGES, EXTRA_LANGUAGES
from openeurollm.data.langid import LanguageId, script_ok
from openeurollm.data.text import STOP_WORDS, stop_words, words


def test_words_split_latin_greek_cyrillic_and_keep_inner_apostrophes() -> None:
    assert list(words("L'homme d'aujourd'hui, e-mail: 42 ŻÓŁW!")) == [
        "L'homme",
        "d'aujourd'hui",
        "e-mail",
        "42",
        "ŻÓŁW",
    ]
    assert list(words("Η γάτα κοιμάται. Кошка спит.")) == ["Η", "γάτα", "κοιμάται", "Кошка", "спит"]


def test_every_target_language_has_stop_words_in_its_script() -> None:
    for lang in EU_LANGUAGES + EXTRA_LANGUAGES:
        stops = stop_words(lang)
        assert len(stops) >= 12, lang
        text = " ".join(sorted(stops))
        assert script_ok(lang, text), lang
    assert set(STOP_WORDS) == set(EU_LANGUAGES + EXTRA_LANGUAGES)


@pytest.fixture(scope="module")
def lid() -> LanguageId:
    return LanguageId(["de", "en", "fr", "el", "bg", "hr"], thresholds={"hr": 0.6})


def test_restricted_prediction_and_relabel(lid: LanguageId) -> None:
    text = "Le chat dort sur le canapé pendant que nous travaillons dans le jardin."
    d = lid.decide(text, "de")
    assert (d.lang, d.reason, d.relabelled) == ("fr", None, True)
    assert d.score > 0.9
    same = lid.decide(text, "fr")
    assert (same.lang, same.relabelled) == ("fr", False)


def test_non_target_language_dropped(lid: LanguageId) -> None:
    russian = "Вчера вечером мы долго гуляли по парку и разговаривали о погоде в Москве."
    assert lid.decide(russian, "bg").reason == "lang_not_target"
    italian = "Il gatto dorme sul divano mentre noi lavoriamo in giardino tutto il giorno."
    assert lid.decide(italian, "fr").reason == "lang_not_target"


def test_neighbour_language_is_not_foreign() -> None:
    # Text the full model may call Bosnian or Serbian is Croatian in a Croatian-only run.
    lid = LanguageId(["hr", "en"])
    text = "Ovo je kratak tekst o vremenu u gradu i okolici, gdje je jučer padala kiša."
    d = lid.decide(text, "hr")
    assert (d.lang, d.reason) == ("hr", None)


def test_relabel_disabled_drops_mismatch() -> None:
    lid = LanguageId(["de", "fr"], relabel=False)
    text = "Le chat dort sur le canapé pendant que nous travaillons dans le jardin."
    assert lid.decide(text, "de").reason == "lang_label_mismatch"


def test_low_confidence_and_no_features(lid: LanguageId) -> None:
    assert lid.decide("12345 67890", "de").reason in ("lang_no_features", "lang_low_confidence")
    strict = LanguageId(["de", "en"], min_score=0.999999)
    assert strict.decide("Das ist gut", "de").reason == "lang_low_confidence"
    assert lid.threshold("hr") == 0.6 and lid.threshold("de") == 0.5


def test_script_check() -> None:
    assert script_ok("el", "Η γάτα κοιμάται στον καναπέ.")
    assert not script_ok("el", "I gata koimatai ston kanape.")
    assert script_ok("sr", "Мачка спава.") and script_ok("sr", "Mačka spava.")
    assert not script_ok("de", "Кошка спит на диване.")


def test_ntrex_restricted_accuracy(shared_data) -> None:
    lid = LanguageId(EU_LANGUAGES)
    correct = total = 0
    for lang in EU_LANGUAGES:
        lines = (shared_data / "ntrex" / f"{lang}.txt").read_text(encoding="utf-8").splitlines()
        for i in range(0, 100, 5):  # 20 five-sentence documents per language
            text = " ".join(lines[i : i + 5])
            correct += lid.predict(text).lang == lang
            total += 1
    assert correct / total >= 0.99
