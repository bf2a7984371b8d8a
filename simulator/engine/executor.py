"""Where tasks run: in this process, on local worker processes, or on a Dask cluster.

Every parallel piece of work (the engine's batches of paths, a staged policy's
candidate triggers, the stress test's points, a sweep's combinations) goes through
one interface: an :class:`Executor` runs ``function(context, *args)`` where
``context`` is what all tasks of one job share, handed to each worker once (forked
into local processes, scattered to a cluster's workers), never kept in a global of
the calling process: two runs in two threads each have their own.

A worker that dies (``kill -9``, the out-of-memory killer) fails the job at once with
:class:`WorkerLost`; the other workers are stopped, none is left behind.
"""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover - imported where a task is run
    from concurrent.futures import Future

__all__ = [
    "Executor",
    "InProcess",
    "LocalProcesses",
    "DaskCluster",
    "WorkerLost",
    "executor",
]


class WorkerLost(RuntimeError):
    """A worker process died, or a cluster lost the task, before the job finished."""


class Executor:
    """Runs ``function(context, *args)`` tasks; a context manager that stops its
    workers on the way out (at once, if the block ends with an exception).

    Attributes
    ----------
    workers
        Tasks that may run at the same time.
    holds_state
        Whether a worker keeps its copy of ``context`` from one task to the next
        (local processes): a task may then count into it and hand it back at the end.
    """

    workers: int = 1
    holds_state: bool = False

    def submit(self, function: Callable[..., Any], *args: Any) -> Future:
        """Start ``function(context, *args)``; a future of its result."""
        raise NotImplementedError

    def map(self, function: Callable[..., Any], items: Iterable[Any]) -> list[Any]:
        """``[function(context, item) for item in items]``, run side by side, in order."""
        futures = [self.submit(function, item) for item in items]
        return [result(future) for future in futures]

    def close(self, *, abandon: bool = False) -> None:
        """Stop the workers: let them finish, or with ``abandon`` stop them at once."""

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, kind, error, trace) -> None:
        self.close(abandon=kind is not None)


_DIED = "a worker process died before finishing its task (killed, or out of memory?)"


def result(future: Future) -> Any:
    """The future's result, with a lost worker reported as :class:`WorkerLost`."""
    from concurrent.futures.process import BrokenProcessPool

    try:
        return future.result()
    except BrokenProcessPool as err:
        raise WorkerLost(_DIED) from err
    except Exception as err:
        if type(err).__name__ != "KilledWorker":  # distributed's, not imported for this
            raise
        raise WorkerLost(f"the cluster lost a task with its workers: {err}") from err


class InProcess(Executor):
    """Every task at once, in the calling process."""

    def __init__(self, context: Any = None) -> None:
        self.context = context

    def submit(self, function, *args) -> Future:
        from concurrent.futures import Future

        future: Future = Future()
        future.set_result(function(self.context, *args))
        return future


# In a worker process only: the context of the job its pool was started for. The
# calling process never sets or reads it.
_WORKER_CONTEXT: Any = None


def _start_worker(context: Any) -> None:
    """Run in each local worker as it starts: Ctrl-C reaches the whole process group,
    but only the parent handles it (and stops the workers); SIGTERM kills a worker
    outright, whatever handler the parent installed before forking."""
    global _WORKER_CONTEXT
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    # Forked with both signals blocked (see _signals_held): one that came meanwhile
    # is delivered now, to these handlers, never to the parent's copied ones.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOP_SIGNALS)
    _WORKER_CONTEXT = context


_STOP_SIGNALS = {signal.SIGINT, signal.SIGTERM}


@contextlib.contextmanager
def _signals_held():
    """Hold SIGINT and SIGTERM back from this thread while the pool starts its
    workers: a signal in the middle of a fork would leave a worker counted nowhere,
    or a worker running the parent's handlers before its own are set. A signal that
    comes meanwhile is delivered as the block ends."""
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, _STOP_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _in_worker(function: Callable[..., Any], *args: Any) -> Any:
    return function(_WORKER_CONTEXT, *args)


class LocalProcesses(Executor):
    """``workers`` forked processes of this machine (``concurrent.futures``).

    The context reaches the workers through the fork, without being pickled; each
    worker keeps its own copy for the whole job (``holds_state``).
    """

    holds_state = True

    def __init__(self, workers: int, context: Any = None) -> None:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        self.workers = workers
        # With fork, every worker starts with the pool: a task that waits for all
        # of them (a barrier) cannot wait for one that is never started.
        self._pool = ProcessPoolExecutor(
            max_workers=workers,
            mp_context=multiprocessing.get_context("fork"),
            initializer=_start_worker,
            initargs=(context,),
        )

    def submit(self, function, *args) -> Future:
        from concurrent.futures.process import BrokenProcessPool

        try:
            with _signals_held():  # the first submit forks the workers
                return self._pool.submit(_in_worker, function, *args)
        except BrokenProcessPool as err:  # a worker died before this task was sent
            raise WorkerLost(_DIED) from err

    def close(self, *, abandon: bool = False) -> None:
        pool = self._pool
        if not abandon:
            pool.shutdown(wait=True)
            return
        # Stop the workers first (they hold nothing worth finishing), then let the
        # pool's own thread see them gone; waiting on it could wait for a task.
        processes = list((pool._processes or {}).values())
        for process in processes:
            if process.is_alive():
                process.kill()
        manager, results = pool._executor_manager_thread, pool._result_queue
        pool.shutdown(wait=False, cancel_futures=True)
        for process in processes:
            process.join(timeout=10)
        # A worker killed while sending its result leaves half a message in the result
        # pipe, and the pool's thread, reading it, would wait for the rest for ever (and
        # the interpreter waits for that thread at exit). The workers and this process
        # held the pipe's write end; with the workers gone, closing this process's copy
        # ends the read with an error the thread takes as the pool broken, and it ends.
        results._writer.close()
        # The pool's thread closes its wake-up pipe as it ends; at exit, the
        # interpreter writes to that pipe unless it is closed already, and a write
        # racing the close prints "Bad file descriptor" (Python 3.11).
        if manager is not None:
            manager.join(timeout=10)


CONNECT_TIMEOUT_S = 10
"""Seconds to reach a cluster's scheduler before giving up."""


def _on_cluster(function: Callable[..., Any], context: Any, *args: Any) -> Any:
    return function(context, *args)


class DaskCluster(Executor):
    """The workers of a Dask distributed cluster at ``address`` (``tcp://HOST:PORT``).

    The context is sent to every worker once; tasks carry only their own arguments.
    A worker keeps no state between tasks, so each task returns all it found.
    """

    def __init__(self, address: str, context: Any = None) -> None:
        from ..scenario.errors import ScenarioError

        try:
            from distributed import Client
        except ImportError:
            raise ScenarioError(
                "running on a cluster needs dask.distributed: pip install 'distributed'",
                key="scheduler",
            ) from None
        try:
            self._client = Client(address, set_as_default=False, timeout=CONNECT_TIMEOUT_S)
        except (OSError, TimeoutError, ValueError) as err:
            raise ScenarioError(
                f"cannot reach a Dask scheduler at {address!r}: {err}", key="scheduler"
            ) from None
        self.workers = max(1, sum(self._client.nthreads().values()))
        self._context = self._client.scatter(context, broadcast=True, hash=False)
        # The cluster forgets a task whose future is dropped: held until it is done.
        self._running: set[Any] = set()

    def submit(self, function, *args) -> Future:
        """Start the task on the cluster: a ``concurrent.futures`` future of its result
        (so that ``concurrent.futures.wait`` serves local and cluster runs alike)."""
        from concurrent.futures import Future

        remote = self._client.submit(_on_cluster, function, self._context, *args, pure=False)
        local: Future = Future()
        self._running.add(remote)

        def copy(done) -> None:
            self._running.discard(done)
            try:
                local.set_result(done.result())
            except BaseException as err:  # the task's own error, or the cluster's
                local.set_exception(err)

        remote.add_done_callback(copy)
        return local

    def close(self, *, abandon: bool = False) -> None:
        if abandon:
            self._client.cancel([self._context], force=True)
        self._client.close()


def executor(workers: int, context: Any = None, *, scheduler: str | None = None) -> Executor:
    """The executor for a job: a Dask cluster when ``scheduler`` names one, else
    ``workers`` local processes, or this process alone for one worker."""
    if scheduler is not None:
        return DaskCluster(scheduler, context)
    if workers <= 1:
        return InProcess(context)
    return LocalProcesses(workers, context)
