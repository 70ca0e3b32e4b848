"""Names and dataset codes of the 24 official EU languages (ISO 639-1 keys), for prompts
and for the published suites' file names (FLORES-200 / Belebele codes, INCLUDE names)."""

from __future__ import annotations

# ISO 639-1 -> (English name, FLORES-200 code). FLORES-200 writes Latvian as `lvs`.
EU_LANGUAGES: dict[str, tuple[str, str]] = {
    "bg": ("Bulgarian", "bul_Cyrl"), "cs": ("Czech", "ces_Latn"), "da": ("Danish", "dan_Latn"),
    "de": ("German", "deu_Latn"), "el": ("Greek", "ell_Grek"), "en": ("English", "eng_Latn"),
    "es": ("Spanish", "spa_Latn"), "et": ("Estonian", "est_Latn"), "fi": ("Finnish", "fin_Latn"),
    "fr": ("French", "fra_Latn"), "ga": ("Irish", "gle_Latn"), "hr": ("Croatian", "hrv_Latn"),
    "hu": ("Hungarian", "hun_Latn"), "it": ("Italian", "ita_Latn"),
    "lt": ("Lithuanian", "lit_Latn"), "lv": ("Latvian", "lvs_Latn"),
    "mt": ("Maltese", "mlt_Latn"), "nl": ("Dutch", "nld_Latn"), "pl": ("Polish", "pol_Latn"),
    "pt": ("Portuguese", "por_Latn"), "ro": ("Romanian", "ron_Latn"),
    "sk": ("Slovak", "slk_Latn"), "sl": ("Slovenian", "slv_Latn"), "sv": ("Swedish", "swe_Latn"),
}  # fmt: skip


def language_name(lang: str) -> str:
    return EU_LANGUAGES[lang][0] if lang in EU_LANGUAGES else lang


def flores_code(lang: str) -> str:
    return EU_LANGUAGES[lang][1] if lang in EU_LANGUAGES else lang


def from_flores_code(code: str) -> str:
    """ISO 639-1 for a FLORES-200 code of an EU language, else the code unchanged."""
    for iso, (_, flores) in EU_LANGUAGES.items():
        if flores == code:
            return iso
    return code


def from_language_name(name: str) -> str:
    for iso, (english, _) in EU_LANGUAGES.items():
        if english.lower() == name.lower():
            return iso
    return name
