"""How long a pool of demo workers takes to start: the fork server of demos/common.py vs spawn.

Starts `--pools` pools of `--workers` workers one after another, each worker returning at once,
first with run_jobs's own context (common.worker_context: a fork server on Linux), then with
spawn, and prints each pool's wall time. With spawn it also prints the CPU time of the workers
(the fork server's workers are not this process's children, so their CPU is not counted here).

    python tools/pool_start.py [--pools 3] [--workers 2]

Not part of the test suite: it only times.
"""

import argparse
import multiprocessing
import pathlib
import resource
import sys
import time
from concurrent.futures import ProcessPoolExecutor

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "demos"))
import common  # demos/common.py, now on the path


def children_cpu():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def time_pools(context, pools, workers):
    """[(wall seconds, CPU seconds of the waited-for workers)] for each pool in turn."""
    out = []
    for _ in range(pools):
        cpu, start = children_cpu(), time.perf_counter()
        with ProcessPoolExecutor(workers, mp_context=context, initializer=common.limit_threads,
                                 initargs=(1,)) as pool:
            list(pool.map(abs, range(workers)))          # one call per worker, returns at once
        out.append((time.perf_counter() - start, children_cpu() - cpu))
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--pools", type=int, default=3, help="pools, one after another (default 3)")
    p.add_argument("--workers", type=int, default=2, help="workers per pool (default 2)")
    args = p.parse_args()
    for name, context in (("run_jobs", common.worker_context()),
                          ("spawn", multiprocessing.get_context("spawn"))):
        for i, (wall, cpu) in enumerate(time_pools(context, args.pools, args.workers)):
            cpu_text = f", workers' CPU {cpu:.2f} s" if context.get_start_method() == "spawn" else ""
            print(f"{name} ({context.get_start_method()}) pool {i + 1}: {wall:.2f} s{cpu_text}")


if __name__ == "__main__":
    main()
