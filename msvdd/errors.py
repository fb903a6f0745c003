"""Errors that tell the user what to change, not where the code broke.

Every error here must survive a pickle round trip with its message: sweep jobs run in worker
processes (joblib, submitit) and their error travels back to the sweep pickled. An exception whose
``__init__`` needs more than the message cannot be rebuilt there, and the launcher then loses every
job of the batch, the good ones included (issue 12). ``MsvddError.__reduce__`` rebuilds from the fields.
"""


class MsvddError(Exception):
    """Base of the errors a user can fix: the app prints the message as one line and exits 2."""

    def __reduce__(self):
        return _rebuild, (type(self), self.args, self.__dict__)


def _rebuild(cls, args, state):
    """Recreate an error without calling its ``__init__`` (whose signature is not the message's)."""
    err = cls.__new__(cls)
    Exception.__init__(err, *args)
    err.__dict__.update(state)
    return err


class ConfigError(MsvddError, ValueError):
    """A configuration value that cannot work, caught before any training.

    The message is one line that names the field, the value and what is allowed, so a user
    can fix a sweep from the log alone.
    """

    def __init__(self, field: str, value, allowed: str, problem: str | None = None):
        self.field, self.value, self.allowed = field, value, allowed
        what = f": {problem}" if problem else " is not allowed"
        super().__init__(f"{field}={value!r}{what}; allowed: {allowed}")


class DataNotFoundError(MsvddError, FileNotFoundError):
    """The dataset's files are not under the data root and could not be downloaded."""

    def __init__(self, dataset: str, folder, expected: list[str], reason: str = ""):
        self.dataset, self.folder, self.expected = dataset, folder, expected
        extra = f" ({reason})" if reason else ""
        super().__init__(
            f"{dataset}: files not found in {folder}{extra}; expected {', '.join(expected)}. "
            "Set the data root with dataset.root=PATH or the MSVDD_DATA environment variable."
        )


class TrainingDivergedError(MsvddError, RuntimeError):
    """The loss became NaN or infinite: the run stops and writes no results."""


class DataFileError(MsvddError, ValueError):
    """A dataset file that exists but cannot be what it claims (corrupt, truncated, inconsistent).

    One line naming the file and what is wrong with it: a user fixes the data folder from the log alone.
    """

    def __init__(self, path, problem: str):
        self.path, self.problem = str(path), " ".join(str(problem).split())
        super().__init__(f"{self.path}: {self.problem}")
