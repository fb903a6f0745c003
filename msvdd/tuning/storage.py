"""Where an Optuna study lives: the one place that turns ``storage`` into an Optuna storage.

Shared by the sweeper plugin (``hydra.sweeper.storage``) and ``python -m msvdd.study``
(``--storage``), so both read the same thing from the same string.  Accepted forms:

* ``None``                                  -> SQLite file ``outputs/optuna/<study_name>.db``
  (relative to the current directory, i.e. where ``python -m msvdd -m ...`` was started)
* an SQLAlchemy URL (anything with ``://``: ``sqlite:///path.db``, ``postgresql://...``)
  -> :class:`optuna.storages.RDBStorage` (relative SQLite paths are made absolute; SQLite
  gets a 60 s connect timeout so concurrent workers wait for the lock instead of failing)
* a path ending in ``.log`` or ``.journal`` -> :class:`optuna.storages.JournalStorage` with a
  :class:`optuna.storages.journal.JournalFileBackend` (for file systems where SQLite locking
  is unreliable, e.g. NFS)
* any other path                            -> SQLite file at that path

Optuna is imported lazily: the sweeper plugin imports this module, and Hydra imports every module
of a ``hydra_plugins`` package while it scans for plugins, for every Hydra app in the environment.
"""

import contextlib
import inspect
import os
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from msvdd.errors import StorageError, one_line

DEFAULT_DIR = Path(os.environ.get("MSVDD_OUTPUTS") or "outputs") / "optuna"  # as paths.root_dir
JOURNAL_SUFFIXES = (".log", ".journal")
SQLITE_CONNECT_TIMEOUT_S = 60


@dataclass(frozen=True)
class StorageSpec:
    """A resolved ``storage`` string.

    ``kind`` is ``"rdb"`` or ``"journal"``; ``url`` the SQLAlchemy URL (rdb) or the absolute file
    path (journal); ``path`` the local file holding the study (SQLite or journal file), ``None``
    for database servers and in-memory SQLite.
    """

    kind: str
    url: str
    path: Path | None

    @property
    def is_sqlite(self) -> bool:
        return self.kind == "rdb" and self.url.startswith("sqlite:")

    @property
    def lock_path(self) -> Path | None:
        """Side file used to serialise 'count trials + ask' between processes on one machine."""
        if self.path is None:
            return None
        return self.path.with_name(self.path.name + ".msvdd-ask.lock")

    def __str__(self) -> str:
        return str(self.path) if self.kind == "journal" else self.url


def _sqlite_path(url: str) -> Path | None:
    """File behind an ``sqlite://`` URL (``None`` for in-memory databases)."""
    rest = url[len("sqlite:") :]
    if not rest.startswith("///"):
        return None  # "sqlite://" == in-memory
    path = rest[3:].split("?", 1)[0]
    if path in ("", ":memory:") or path.startswith("file:"):
        return None
    return Path(path)


def storage_spec(
    storage: str | None, study_name: str | None = None, base_dir: str | Path | None = None
) -> StorageSpec:
    """Resolve a ``storage`` string (see module docstring) without touching the disk."""
    base = Path(base_dir) if base_dir is not None else Path.cwd()
    if storage is None or str(storage).strip() == "":
        if not study_name:
            raise ValueError("storage is null and no study name was given to name the SQLite file")
        path = (base / DEFAULT_DIR / f"{study_name}.db").resolve()
        return StorageSpec("rdb", f"sqlite:///{path}", path)
    storage = str(storage).strip()
    if "://" in storage:
        if storage.startswith("sqlite:"):
            path = _sqlite_path(storage)
            if path is None:
                return StorageSpec("rdb", storage, None)
            if not path.is_absolute():
                path = (base / path).resolve()
            query = storage.split("?", 1)[1] if "?" in storage else ""
            url = f"sqlite:///{path}" + (f"?{query}" if query else "")
            return StorageSpec("rdb", url, path)
        return StorageSpec("rdb", storage, None)
    path = Path(os.path.expanduser(storage))
    if not path.is_absolute():
        path = (base / path).resolve()
    if path.suffix in JOURNAL_SUFFIXES:
        return StorageSpec("journal", str(path), path)
    return StorageSpec("rdb", f"sqlite:///{path}", path)


def open_storage(
    spec: StorageSpec,
    *,
    heartbeat_interval: int | None = None,
    grace_period: int | None = None,
    stale_trial_callback: Callable[..., None] | None = None,
    must_exist: bool = False,
) -> Any:
    """Build the Optuna storage for ``spec``.

    ``heartbeat_interval``/``grace_period``/``stale_trial_callback`` go to :class:`RDBStorage`
    (Optuna's heartbeat); ``JournalStorage`` has no heartbeat support in Optuna (checked on
    5.0: it does not implement ``BaseHeartbeat``), so for journals the sweeper runs its own
    equivalent and these arguments are ignored here.  ``must_exist`` refuses to create an empty
    SQLite/journal file (for read-only tools).
    """
    import optuna

    if spec.path is not None:
        if must_exist and not spec.path.exists():
            raise FileNotFoundError(f"no Optuna storage at {spec.path}")
        spec.path.parent.mkdir(parents=True, exist_ok=True)

    if spec.kind == "journal":
        from optuna.storages.journal import JournalFileBackend

        return optuna.storages.JournalStorage(JournalFileBackend(str(spec.path)))

    kwargs: dict[str, Any] = {}
    if spec.is_sqlite:
        kwargs["engine_kwargs"] = {"connect_args": {"timeout": SQLITE_CONNECT_TIMEOUT_S}}
    else:
        kwargs["engine_kwargs"] = {"pool_pre_ping": True}
    if heartbeat_interval:
        kwargs["heartbeat_interval"] = int(heartbeat_interval)
        kwargs["grace_period"] = int(grace_period) if grace_period else None
        if stale_trial_callback is not None:
            params = inspect.signature(optuna.storages.RDBStorage.__init__).parameters
            name = (
                "heartbeat_stale_trial_callback"
                if "heartbeat_stale_trial_callback" in params
                else "failed_trial_callback"
            )
            kwargs[name] = stale_trial_callback
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        try:
            return optuna.storages.RDBStorage(spec.url, **kwargs)
        except Exception as err:  # noqa: BLE001 - a corrupt file or an unreachable server: say which, in one line
            raise unreadable(spec, err) from None


def unreadable(spec: StorageSpec, err: BaseException) -> Exception:
    """msvdd's one-line error for a storage that cannot be opened or read (a corrupt file, a bad URL)."""
    where = spec.path or spec.url
    hint = "; move the file away to start a new study" if spec.path is not None and spec.path.exists() else ""
    return StorageError(f"the Optuna storage {where} cannot be read ({one_line(err, 200)}){hint}")


@contextlib.contextmanager
def storage_lock(spec: StorageSpec) -> Iterator[bool]:
    """Exclusive inter-process lock for a file-backed storage; yields whether a lock is held.

    Used around "fail stale trials + count + ask" so that workers on one machine never ask more
    trials than the budget.  Database servers (no local file) yield ``False``; the sweeper then
    relies on its post-ask rank check alone.
    """
    lock_path = spec.lock_path
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        fcntl = None  # type: ignore[assignment]
    if lock_path is None or fcntl is None:
        yield False
        return
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "a+") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield True
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
