"""Map a function over argument tuples in worker processes, from any caller.

Why not a ``ProcessPoolExecutor`` with a start method chosen by the caller:

- With ``spawn`` and ``forkserver``, every worker first imports the
  caller's main module again, as ``__mp_main__`` (found through
  ``sys.modules['__main__'].__file__``, or ``__spec__`` for ``python -m`` and
  ``runpy.run_module``). A script or module without an
  ``if __name__ == '__main__':`` guard then runs again in each worker and
  tries to start processes while the worker bootstraps, so the pool breaks.
  They are also only fast with process-wide settings
  (``set_forkserver_preload``) that change every other pool of the program.
- ``fork`` imports nothing, but copies the caller as it is: safe only if no
  other thread holds a lock at that moment, which nothing can promise for a
  notebook kernel (several threads), a program that has run PyTorch's OpenMP
  pool or OpenCV's thread pool, or one whose numpy started OpenBLAS threads.
  Python 3.12 warns about it and 3.14 no longer forks by default.

So the workers are always forked (they start in milliseconds and share the
imported modules copy-on-write), and only from a process with one thread,
where fork is safe:

- If the calling process has a single thread (counted in
  ``/proc/self/task``, Linux), they are forked from it, at no cost. A
  command-line tool gets there by limiting OpenMP, OpenBLAS and MKL to one
  thread before it imports numpy (:data:`SINGLE_THREAD_ENVIRONMENT`), as
  ``tools/analysis_tools/eval_davis.py`` does.
- Otherwise one fresh Python process is started with :mod:`subprocess`,
  where the caller's main module plays no part: a private fork server. It
  gets the caller's ``sys.path``, imports the function's module with those
  libraries limited to one thread, so it has a single thread too, and forks
  the workers. This costs an interpreter start and the imports (2-3 s with
  mmsmtc's, PyTorch included). The request and the results travel as
  pickles over its stdin and stdout; its error output is relayed to the
  caller's ``sys.stderr``.

No process outlives the call: workers ignore SIGINT (the caller handles
Ctrl+C) and are killed by the process that forked them when a call fails or
it is interrupted; the server runs in a session of its own (terminal
signals do not reach it) and is killed by the caller in the same cases; and
every worker and the server exit within half a second once their parent is
gone.
"""
import multiprocessing
import os
import pickle
import signal
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Callable, List, Optional, Sequence

#: Environment variables that keep OpenMP, OpenBLAS and MKL from starting
#: thread pools (each worker uses one core anyway).
SINGLE_THREAD_ENVIRONMENT = {
    'OMP_NUM_THREADS': '1',
    'OPENBLAS_NUM_THREADS': '1',
    'MKL_NUM_THREADS': '1',
}

#: How often a worker or the server checks that its parent still exists.
PARENT_CHECK_SECONDS = 0.5

#: How much of the server's error output a failure message quotes.
_ERROR_TAIL_CHARS = 2000

#: The server's ``python -c`` program: the caller's import path, stdout kept
#: for the reply (anything printed goes to stderr), then :func:`serve`.
_SERVER_PROGRAM = ('import os, sys\n'
                   'sys.path[:] = {sys_path!r}\n'
                   'channel = os.dup(1)\n'
                   'os.dup2(2, 1)\n'
                   'from {module} import serve\n'
                   'serve({caller}, channel)\n')


def available() -> bool:
    """Whether this platform can run :func:`map_in_worker_processes`."""
    return hasattr(os, 'fork')


def forks_this_process() -> bool:
    """Whether workers would be forked from this process directly (it has
    a single thread), rather than from a fork server."""
    try:
        return len(os.listdir('/proc/self/task')) == 1
    except OSError:  # no /proc: the thread count is unknown
        return False


def map_in_worker_processes(
        function: Callable,
        arguments: Sequence[tuple],
        nproc: int,
        initializer: Optional[Callable[[], None]] = None) -> List[Any]:
    """``[function(*args) for args in arguments]`` in ``nproc`` processes.

    Args:
        function: A module-level function (pickled by reference when a fork
            server runs it, like its arguments and results).
        arguments: One argument tuple per call; calls are handed out in this
            order to whichever worker is free.
        nproc: Number of worker processes.
        initializer: Module-level function each worker runs first.

    Returns:
        list: The results, in the order of ``arguments``.

    Raises:
        Exception: The exception of the first call (in the order of
            ``arguments``) that raised one, as raised in the worker; the
            workers are then killed, so the other calls do not finish.
        RuntimeError: If a worker or the fork server dies, or this platform
            cannot fork.
    """
    if not available():
        raise RuntimeError('worker processes are forked, which this '
                           f'platform ({sys.platform}) cannot do')
    arguments = list(arguments)
    if forks_this_process():
        return _run_pool(function, arguments, nproc, initializer)
    return _run_in_fork_server(function, arguments, nproc, initializer)


def _run_pool(function: Callable,
              arguments: List[tuple],
              nproc: int,
              initializer: Optional[Callable[[], None]],
              once_forked: Optional[Callable[[], None]] = None) -> List[Any]:
    """Run the calls in ``nproc`` workers forked from this process, which
    must have a single thread; ``once_forked`` runs after the forks.

    On any failure the workers are killed: calls in progress or queued are
    not waited for.
    """
    other_children = set(multiprocessing.active_children())
    pool = ProcessPoolExecutor(nproc,
                               mp_context=multiprocessing.get_context('fork'),
                               initializer=_start_worker,
                               initargs=(os.getpid(), initializer))
    # Everything from the first fork on is inside the try: an interrupt
    # that arrives while the workers start, or in ``once_forked``, kills
    # them too, instead of leaving the pool's shutdown to wait for every
    # queued call.
    try:
        # The first submit forks all the workers (a fork pool never starts
        # more), before the pool starts its own threads.
        futures = [pool.submit(function, *args) for args in arguments]
        if once_forked is not None:
            once_forked()
        return [future.result() for future in futures]
    except BrokenProcessPool as error:
        raise RuntimeError(
            'a worker process died (killed, out of memory or a crash in '
            'native code)') from error
    except BaseException:
        for worker in set(multiprocessing.active_children()) - other_children:
            worker.kill()
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _start_worker(parent: int, initializer: Optional[Callable[[],
                                                              None]]) -> None:
    """Set up a worker: ignore Ctrl+C, exit with the parent, initialise."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_exit_with_parent, args=(parent, ),
                     daemon=True).start()
    if initializer is not None:
        initializer()


def _exit_with_parent(parent: int) -> None:
    """End this process once the process ``parent`` is no longer its
    parent (it exited or was killed, and this one was adopted)."""
    while os.getppid() == parent:
        time.sleep(PARENT_CHECK_SECONDS)
    os._exit(1)


def _run_in_fork_server(
        function: Callable, arguments: List[tuple], nproc: int,
        initializer: Optional[Callable[[], None]]) -> List[Any]:
    """Start a fork server, send it the calls and return its results."""
    program = _SERVER_PROGRAM.format(sys_path=list(sys.path),
                                     module=__name__,
                                     caller=os.getpid())
    with tempfile.TemporaryFile() as error_output:
        server = subprocess.Popen([sys.executable, '-c', program],
                                  stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE,
                                  stderr=error_output,
                                  env={
                                      **os.environ,
                                      **SINGLE_THREAD_ENVIRONMENT
                                  },
                                  start_new_session=True)
        try:
            reply = _exchange(server,
                              (function, arguments, nproc, initializer))
            status = server.wait()
        except BaseException:
            server.kill()
            server.wait()
            raise
        finally:
            server.stdin.close()
            server.stdout.close()
        error_output.seek(0)
        errors = error_output.read().decode(errors='replace')
    if reply is None:
        raise RuntimeError(
            f'the worker processes\' fork server exited with status {status} '
            'before it answered; the end of its error output:\n'
            f'{errors[-_ERROR_TAIL_CHARS:]}')
    if errors:
        sys.stderr.write(errors)
    kind, value = reply
    if kind == 'error':
        raise value
    return value


def _exchange(server: subprocess.Popen, request: tuple) -> Optional[tuple]:
    """Send the request; return the reply, or None if the server died."""
    try:
        pickle.dump(request, server.stdin)
        server.stdin.flush()
    except BrokenPipeError:
        return None
    try:
        return pickle.load(server.stdout)
    except EOFError:
        return None


def serve(caller: int, channel: int) -> None:
    """Main of the fork server: read one request from stdin, run it in
    forked workers and write the reply to the file descriptor ``channel``.

    The reply is ``('results', list)`` or ``('error', exception)``.
    """
    # A caller that dies before this point closes stdin: pickle.load fails.
    function, arguments, nproc, initializer = pickle.load(sys.stdin.buffer)

    def exit_with_caller():
        threading.Thread(target=_exit_with_parent,
                         args=(caller, ),
                         daemon=True).start()

    try:
        reply = ('results',
                 _run_pool(function, arguments, nproc, initializer,
                           exit_with_caller))
    except Exception as error:  # every failure goes back to the caller
        reply = ('error', error)
    try:
        payload = pickle.dumps(reply)
    except Exception:  # an exception that cannot be pickled
        payload = pickle.dumps(('error', RuntimeError(repr(reply[1]))))
    with os.fdopen(channel, 'wb') as output:
        output.write(payload)
