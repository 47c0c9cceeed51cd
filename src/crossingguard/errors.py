"""One base error and a few subclasses; each message says what was expected, what came, and the fix."""


class CrossingGuardError(Exception):
    """Base class for every error CrossingGuard raises on purpose."""


class ModelError(CrossingGuardError):
    """A model could not be found, loaded or understood."""


class InputError(CrossingGuardError):
    """User input (prompts, conditions, files) is malformed."""


class ConfigError(CrossingGuardError):
    """A configuration or policy file is invalid."""


class DataError(CrossingGuardError):
    """A data file could not be read or holds unusable rows."""


class PolicyError(ConfigError):
    """A policy file or built-in pack is invalid or cannot be found."""
