"""Errors that tell the user what to change, not where the code broke."""


class ConfigError(ValueError):
    """A configuration value that cannot work, caught before any training.

    The message is one line that names the field, the value and what is allowed, so a user
    can fix a sweep from the log alone.
    """

    def __init__(self, field: str, value, allowed: str, problem: str | None = None):
        self.field, self.value, self.allowed = field, value, allowed
        what = f": {problem}" if problem else " is not allowed"
        super().__init__(f"{field}={value!r}{what}; allowed: {allowed}")


class DataNotFoundError(FileNotFoundError):
    """The dataset's files are not under the data root and could not be downloaded."""

    def __init__(self, dataset: str, folder, expected: list[str], reason: str = ""):
        self.dataset, self.folder, self.expected = dataset, folder, expected
        extra = f" ({reason})" if reason else ""
        super().__init__(
            f"{dataset}: files not found in {folder}{extra}; expected {', '.join(expected)}. "
            "Set the data root with dataset.root=PATH or the MSVDD_DATA environment variable."
        )


class TrainingDivergedError(RuntimeError):
    """The loss became NaN or infinite: the run stops and writes no results."""
