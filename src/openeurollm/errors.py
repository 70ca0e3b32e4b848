"""The few exception types a user sees. Anything else escaping a stage is a bug."""


class OpenEuroLLMError(Exception):
    """Base class: the CLI prints these as one line, without a traceback."""


class RecipeError(OpenEuroLLMError):
    """The recipe (or a --set override) is invalid; the message names the field."""


class InputError(OpenEuroLLMError):
    """Input data cannot be used at all (not: a bad record, which is quarantined)."""


class StageError(OpenEuroLLMError):
    """A stage could not finish; the message says what to do about it."""


class RunLockedError(OpenEuroLLMError):
    """Another process is running on the same run directory."""
