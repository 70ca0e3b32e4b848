"""Word splitting and per-language stop words for Latin, Greek, Cyrillic and Georgian text.

Words are runs of letters/digits (Unicode `\\w`), joined across inner apostrophes and
hyphens ("l'homme", "aujourd'hui", "e-mail"), so the same rule serves every script we
target; CJK text is out of scope. Stop words are short lists of the most frequent
function words of each language, written by us; the Gopher rule only needs a few hits.
"""

from __future__ import annotations

import re
from functools import lru_cache

_WORD = re.compile(r"\w+(?:['’\-]\w+)*")
_LETTER_WORD = re.compile(r"[^\W\d_]")


@lru_cache(maxsize=8)
def words(text: str) -> tuple[str, ...]:
    """The words of `text`, in order, case kept.

    Memoized for the last few texts: several filters of one document ask in turn.
    """
    return tuple(_WORD.findall(text))


def has_letter(word: str) -> bool:
    return _LETTER_WORD.search(word) is not None


def _split(s: str) -> frozenset[str]:
    return frozenset(s.split())


# Function words only (articles, pronouns, prepositions, conjunctions, auxiliaries):
# they occur in any running text of the language and rarely in boilerplate or spam.
STOP_WORDS: dict[str, frozenset[str]] = {
    "bg": _split("и в на за да се не от с е са че по като за това той тя те ще но или как"),
    "cs": _split("a v se na je že s z do to by jsou jako ale o k pro i ve po tak které který"),
    "da": _split("og i at er det en til på af med for den de som ikke har et var der om"),
    "de": _split("der die das und ist nicht zu den mit sich des auf für im dem ein eine von"),
    "el": _split("και το η ο να του της την με σε για που τα από είναι οι δεν στο στην των"),
    "en": _split("the and of to a in is that it for on was with as be by this are have not"),
    "es": _split("de la que el en y a los del se las por un para con no una su al es lo"),
    "et": _split("ja on ei et see oli ka kui mis ta aga nii või tema oma seda siis ning veel"),
    "fi": _split("ja on ei se että oli hän kun mutta niin tai myös ovat joka tämä sen kuin"),
    "fr": _split("de la le et les des en un une du est que pour dans qui pas au sur par il"),
    "ga": _split("an na agus ar a is i le go ag sé sí bhí ní do de ina leis atá sin seo"),
    "hr": _split("i je u na se da za od su ne s koji to kao ali ili iz što sve bi a o"),
    "hu": _split("a az és hogy nem is egy meg van de már csak mint el ki ez volt azt"),
    "it": _split("di e il la che in a per un non è del le della con si una i da al"),
    "lt": _split("ir kad yra į su iš o bet tai kaip jo ne buvo už per ar taip jis apie"),
    "lv": _split("un ir ar no par kas uz lai arī bet kā tas to vai ka ir nav viņš tā"),
    "mt": _split("il u ta li fil tal għal mill huwa hija minn kien ma biex dan din jew"),
    "nl": _split("de en van het een in is dat op te niet met zijn voor die aan er ook"),
    "pl": _split("i w na z się nie do to że jest o jak a ale co od po tak przez dla"),
    "pt": _split("de a o que e do da em um para é com não uma os no se na por mais"),
    "ro": _split("și în de la a cu pe că nu este un o care din se mai sau pentru au"),
    "sk": _split("a v sa na je že s z do to by sú ako ale o k pre aj vo po tak ktoré"),
    "sl": _split("in je v na se da za so ki z ne pa bi tudi po od kot ali iz to"),
    "sv": _split("och i att det som en på är av för med till den har de inte om ett"),
    "ca": _split("de la i el que a en els les per un una amb no es del al més o"),
    "eu": _split("eta da ez du bat ere izan zen dira baina edo hori hau dute zuen dago"),
    "gl": _split("de e a o que en do da un unha para con non os as se por no na"),
    "bs": _split("i je u na se da za od su ne s koji to kao ali ili iz što sve bi a"),
    "is": _split("og að í á er sem um við það var með til en ekki hann hún fyrir af"),
    "ka": _split("და რომ არ ეს იყო ის თუ მაგრამ ან როგორც უნდა არის კი ასე"),
    "mk": _split("и на во да се од со не за е што ќе го тоа како но или ја"),
    "sq": _split("të e dhe në një për me që është nga i së u nuk ka si por"),
    "sr": _split(
        "и у на се да за од су не с који то као али или из што је "
        "i u na se da za od su ne s koji to kao ali ili iz što je"
    ),
    "tr": _split("ve bir bu da de için ile ne gibi daha çok olarak olan ama kadar ya"),
    "uk": _split("і в на з що не до та у це як за від по а але його є був"),
    "no": _split("og i er det som en på til av for med at har de ikke om et var den"),
}


def stop_words(lang: str) -> frozenset[str]:
    return STOP_WORDS.get(lang, frozenset())
