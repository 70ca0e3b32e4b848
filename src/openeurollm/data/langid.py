"""Language identification restricted to a recipe's languages, with a script check.

One py3langid pass per document scores every language the model knows. From those
scores we read two answers at no extra cost: the best language overall (to catch text
in a language the recipe does not want, e.g. Russian in an EU-only run) and the best
among the recipe's languages with its probability renormalized over them (the label we
assign). Closely related languages (hr/bs/sr, da/no/nn, bg/mk, ...) are not "foreign"
to each other: a Bosnian-looking sentence in a Croatian-only run is Croatian text, which
is what restricted classification is for.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from py3langid import langid as _pl

# Longer texts are cut for identification: the first few KB decide the language as well
# as the whole document does, and the cost is linear in bytes.
MAX_CHARS = 4000

# Languages so close that the full model may pick one for text of the other.
NEIGHBOURS: dict[str, frozenset[str]] = {
    "hr": frozenset({"bs", "sr"}),
    "bs": frozenset({"hr", "sr"}),
    "sr": frozenset({"hr", "bs"}),
    "da": frozenset({"no", "nn", "sv"}),
    "no": frozenset({"da", "nn", "sv"}),
    "sv": frozenset({"da", "no"}),
    "bg": frozenset({"mk"}),
    "mk": frozenset({"bg"}),
    "cs": frozenset({"sk"}),
    "sk": frozenset({"cs"}),
    "es": frozenset({"gl", "ca", "an", "ext"}),
    "pt": frozenset({"gl"}),
    "gl": frozenset({"pt", "es"}),
    "ca": frozenset({"oc", "es"}),
    "fr": frozenset({"oc", "wa"}),
    "de": frozenset({"lb"}),
    "nl": frozenset({"af", "fy"}),
    "lv": frozenset({"ltg"}),
    "it": frozenset({"vec", "lij"}),
    "ga": frozenset({"gd"}),
}

EXPECTED_SCRIPTS: dict[str, frozenset[str]] = {
    "el": frozenset({"greek"}),
    "bg": frozenset({"cyrillic"}),
    "mk": frozenset({"cyrillic"}),
    "uk": frozenset({"cyrillic"}),
    "sr": frozenset({"cyrillic", "latin"}),
    "ka": frozenset({"georgian"}),
}

# Scripts are counted on UTF-8 bytes with one bincount (no per-character Python work):
# ASCII letters and the lead bytes of Latin-1/Latin Extended (U+00C0-U+024F), Greek
# (U+0370-U+03FF), Cyrillic (U+0400-U+052F); Georgian letters are 3 bytes led by E1 82/83,
# counted by their lead byte E1 (shared with rarer blocks, close enough for a majority).
_SCRIPT_BYTES = {
    "latin": np.array([*range(0x41, 0x5B), *range(0x61, 0x7B), *range(0xC3, 0xCA)]),
    "greek": np.array([0xCD, 0xCE, 0xCF]),
    "cyrillic": np.array([0xD0, 0xD1, 0xD2, 0xD3, 0xD4]),
    "georgian": np.array([0xE1]),
}


def script_counts(data: bytes) -> dict[str, int]:
    """Letters per script in UTF-8 `data` (only the scripts our languages use)."""
    counts = np.bincount(np.frombuffer(data, dtype=np.uint8), minlength=256)
    return {name: int(counts[idx].sum()) for name, idx in _SCRIPT_BYTES.items()}


def script_ok(lang: str, text: str | bytes, min_share: float = 0.5) -> bool:
    """True when most letters of `text` are in a script `lang` is written in."""
    data = text.encode("utf-8", errors="surrogatepass") if isinstance(text, str) else text
    counts = script_counts(data)
    total = sum(counts.values())
    if total == 0:
        return False
    expected = EXPECTED_SCRIPTS.get(lang, frozenset({"latin"}))
    return sum(counts[s] for s in expected) / total >= min_share


@lru_cache(maxsize=1)
def _model() -> _pl.LanguageIdentifier:
    model = _pl.LanguageIdentifier.from_model_file(_pl.MODEL_FILE)
    # The model ships float16 weights; gathering float32 rows skips a conversion per
    # document (about 15% of the time per document, for 57 MB more per process).
    ptc = np.ascontiguousarray(model.nb_ptc, dtype=np.float32)
    model.nb_ptc = ptc
    model._full_model = (ptc, model.nb_pc, model.nb_classes)
    return model


@dataclass(frozen=True)
class Prediction:
    lang: str  # best among the target languages
    score: float  # its probability renormalized over the target languages
    top: str  # best over every language the model knows
    top_score: float  # its probability over every language
    data: bytes = b""  # the (cut, NFC) UTF-8 bytes that were classified


@dataclass(frozen=True)
class Decision:
    lang: str  # final label ("" when dropped)
    score: float
    reason: str | None  # drop reason, None when kept
    relabelled: bool = False


class LanguageId:
    """Restricted language identification with per-language thresholds."""

    def __init__(
        self,
        languages: Iterable[str],
        min_score: float = 0.5,
        thresholds: dict[str, float] | None = None,
        relabel: bool = True,
    ) -> None:
        self.model = _model()
        self.languages = tuple(languages)
        classes = list(self.model.nb_classes)
        unknown = [lang for lang in self.languages if lang not in classes]
        if unknown:
            raise ValueError(f"py3langid does not know language(s) {unknown}")
        self.classes = classes
        self.target_set = frozenset(self.languages)
        # Column indices of target languages (a label may own several columns: script aliases).
        self._target_cols = np.array(
            [i for i, c in enumerate(classes) if c in self.target_set], dtype=np.intp
        )
        self._target_labels = [classes[i] for i in self._target_cols]
        # Script aliases (sr = Cyrillic + Latin columns) add up to one probability.
        self._cols: dict[str, np.ndarray] = {}
        for i, c in enumerate(classes):
            self._cols[c] = np.append(self._cols.get(c, np.empty(0, dtype=np.intp)), i)
        self.min_score = min_score
        self.thresholds = dict(thresholds or {})
        self.relabel = relabel
        self._nm = self.model.tk_nextmove
        self._rowbase = self.model._rowbase
        self._out = self.model.tk_output

    def threshold(self, lang: str) -> float:
        return self.thresholds.get(lang, self.min_score)

    def predict(self, text: str) -> Prediction:
        if len(text) > MAX_CHARS:
            text = text[:MAX_CHARS]
        if text.isupper():
            text = text.lower()
        data = unicodedata.normalize("NFC", text).encode("utf-8", errors="surrogatepass")
        visits = _pl.visit_counts(self._nm, self._rowbase, self._out, data)
        if not visits:
            return Prediction("", 0.0, "", 0.0, data)
        idx = np.fromiter(visits.keys(), dtype=np.intp, count=len(visits))
        counts = np.fromiter(visits.values(), dtype=np.float32, count=len(visits))
        raw = np.log1p(counts) @ self.model.nb_ptc[idx] + self.model.nb_pc
        # Same calibration as py3langid's normalized probabilities: temperature sqrt(bytes).
        raw *= 1.0 / math.sqrt(len(data) or 1)
        probs = np.exp(raw - raw.max())
        top = int(probs.argmax())
        top_label = self.classes[top]
        top_score = float(probs[self._cols[top_label]].sum() / probs.sum())
        sub = probs[self._target_cols]
        total = float(sub.sum())
        if total <= 0.0:
            return Prediction("", 0.0, top_label, top_score, data)
        best = int(sub.argmax())
        label = self._target_labels[best]
        score = float(probs[self._cols[label]].sum()) / total
        return Prediction(label, score, top_label, top_score, data)

    def decide(self, text: str, label: str) -> Decision:
        """Keep (maybe relabelled) or drop a document whose given language label is `label`."""
        pred = self.predict(text)
        if not pred.lang:
            return Decision("", 0.0, "lang_no_features")
        if (
            pred.top not in self.target_set
            and pred.top_score >= self.min_score
            and pred.top not in NEIGHBOURS.get(pred.lang, ())
        ):
            return Decision("", pred.top_score, "lang_not_target")
        if pred.score < self.threshold(pred.lang):
            return Decision("", pred.score, "lang_low_confidence")
        if not script_ok(pred.lang, pred.data):
            return Decision("", pred.score, "lang_script_mismatch")
        if label and label != pred.lang:
            if not self.relabel:
                return Decision("", pred.score, "lang_label_mismatch")
            return Decision(pred.lang, pred.score, None, relabelled=True)
        return Decision(pred.lang, pred.score, None)
