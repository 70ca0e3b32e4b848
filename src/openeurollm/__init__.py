"""openeurollm: raw multilingual text to a documented, EU-AI-Act-ready model release."""

__version__ = "0.1.0"

# The 24 official languages of the European Union (ISO 639-1).
EU_LANGUAGES: tuple[str, ...] = (
    "bg", "cs", "da", "de", "el", "en", "es", "et", "fi", "fr", "ga", "hr",
    "hu", "it", "lt", "lv", "mt", "nl", "pl", "pt", "ro", "sk", "sl", "sv",
)  # fmt: skip

# Languages of candidate and neighbouring countries a recipe may add.
EXTRA_LANGUAGES: tuple[str, ...] = (
    "ca", "eu", "gl", "bs", "is", "ka", "mk", "sq", "sr", "tr", "uk", "no",
)  # fmt: skip
