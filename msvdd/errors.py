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
        self.field, self.value, self.allowed, self.problem = field, value, allowed, problem
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


class FolderInUseError(MsvddError):
    """Another live run holds the output folder: two runs never write into one folder."""


class OutputError(MsvddError):
    """An output file or folder cannot be written (no permission, a file in the way, a full disk)."""


class StorageError(MsvddError):
    """An Optuna storage that cannot be opened or read (corrupt file, wrong format)."""


class JobError(MsvddError):
    """Stands in for a sweep job's error that cannot be pickled, so its one-line reason still travels."""


def exit_with(err: BaseException, prog: str = "msvdd", code: int = 2):
    """The standard end of a run that a user can fix: one line on stderr, exit status 2."""
    import sys

    print(f"{prog}: error: {err}", file=sys.stderr)
    raise SystemExit(code)


def portable(err: BaseException) -> BaseException:
    """``err`` if it survives pickling, else a JobError with its one-line reason (the worker logs the traceback)."""
    import pickle

    try:
        pickle.loads(pickle.dumps(err))
        return err
    except Exception:  # noqa: BLE001 - any pickling failure means: send the reason as text
        return JobError(one_line(err))


def one_line(err: BaseException, limit: int = 500) -> str:
    """``Type: message`` on one line (the message alone for msvdd's own errors, which are written as one line)."""
    if isinstance(err, MsvddError) or not str(err):
        text = str(err) or type(err).__name__
    else:
        text = f"{type(err).__name__}: {err}"
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."
