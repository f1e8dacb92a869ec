"""Where corpus preparation tasks run: a local pool, or an existing Dask or Ray cluster (`--engine`).

Every engine maps one picklable function over a list of tasks and yields results as they finish.
The heavy work of a task happens in subprocesses (ffmpeg, the tracker worker), so the local
engine is a thread pool that keeps `jobs` of them busy. Dask and Ray workers must see the same
paths (a shared file system) and have the tracker venv in the same place.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed

from ventriloquist.device.errors import VentriloquistError

DASK_ADDRESS_ENV = "DASK_SCHEDULER_ADDRESS"
RAY_ADDRESS_ENV = "RAY_ADDRESS"
INSTALL_HINTS = {"dask": "pip install 'dask[distributed]'", "ray": "pip install 'ray[default]'"}


def map_local(fn: Callable, tasks: list, jobs: int) -> Iterator:
    """Run on this machine, `jobs` tasks at a time."""
    pool = ThreadPoolExecutor(max_workers=max(1, jobs))
    try:
        futures = [pool.submit(fn, task) for task in tasks]
        for future in as_completed(futures):
            yield future.result()
    finally:  # on Ctrl-C or an error: start nothing new; running tasks finish their files
        pool.shutdown(wait=True, cancel_futures=True)


def map_dask(fn: Callable, tasks: list, jobs: int) -> Iterator:
    """Run on the Dask scheduler at $DASK_SCHEDULER_ADDRESS, or on a local Dask cluster of `jobs` workers."""
    try:
        from dask.distributed import Client, LocalCluster
        from dask.distributed import as_completed as dask_completed
    except ImportError:
        raise VentriloquistError(f"--engine dask needs Dask: {INSTALL_HINTS['dask']}") from None
    address = os.environ.get(DASK_ADDRESS_ENV)
    cluster = None if address else LocalCluster(n_workers=max(1, jobs), threads_per_worker=1, dashboard_address=":0")
    client = Client(address or cluster)
    try:
        for future in dask_completed(client.map(fn, tasks, pure=False)):
            yield future.result()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def map_ray(fn: Callable, tasks: list, jobs: int) -> Iterator:
    """Run on the Ray cluster at $RAY_ADDRESS, or on a local Ray instance with `jobs` CPUs."""
    try:
        import ray
    except ImportError:
        raise VentriloquistError(f"--engine ray needs Ray: {INSTALL_HINTS['ray']}") from None
    address = os.environ.get(RAY_ADDRESS_ENV)
    started_here = not ray.is_initialized()
    if started_here:
        ray.init(address=address, num_cpus=None if address else max(1, jobs), include_dashboard=False)
    remote = ray.remote(num_cpus=1)(fn)
    pending = [remote.remote(task) for task in tasks]
    try:
        while pending:
            done, pending = ray.wait(pending, num_returns=1)
            yield ray.get(done[0])
    finally:  # Ray ends a driver's unfinished tasks when it leaves; their files are written atomically or not at all
        if started_here:
            ray.shutdown()


ENGINES: dict[str, Callable[[Callable, list, int], Iterator]] = {"local": map_local, "dask": map_dask, "ray": map_ray}


def check_engine(engine: str) -> None:
    """Raise a VentriloquistError now if `engine` is unknown or not installed."""
    import importlib.util

    if engine not in ENGINES:
        raise VentriloquistError(f"unknown engine {engine!r}: choose one of {', '.join(ENGINES)}")
    if engine in INSTALL_HINTS and importlib.util.find_spec(engine) is None:
        raise VentriloquistError(f"--engine {engine} needs {engine.capitalize()}: {INSTALL_HINTS[engine]}")


def run_tasks(engine: str, fn: Callable, tasks: list, jobs: int) -> Iterator:
    """Results of fn(task) for every task, in completion order, on the named engine."""
    check_engine(engine)
    return ENGINES[engine](fn, tasks, jobs)
