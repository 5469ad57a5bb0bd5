"""Measure how long `mcpdeploy --version` and `mcpdeploy --help` take, each in a new process: the start-up cost
every invocation pays before a command does any work.

    python3 benchmarks/cli_startup.py [--runs N] [--warmup N] [--exe PATH]

Prints the median, fastest and slowest wall time of N runs of each. By default it runs the `mcpdeploy` found on
PATH (what a person types, launcher included); `--exe python` runs `<this python> -m mcpdeploy` instead. For a
breakdown by module: python3 -X importtime -c "import mcpdeploy.cli.app as a; a._register_commands()"
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time

ARGUMENTS = (["--version"], ["--help"])


def launcher(exe: str | None) -> list[str]:
    """The command line that starts mcpdeploy: the installed script, or this interpreter with -m."""
    if exe == "python":
        return [sys.executable, "-m", "mcpdeploy"]
    found = exe or shutil.which("mcpdeploy")
    if found is None:
        raise SystemExit("mcpdeploy is not on PATH: install the project (pip install -e .) or pass --exe python")
    return [found]


def wall_times(command: list[str], runs: int, warmup: int) -> list[float]:
    """Seconds per run, from starting the process to its exit; output is discarded."""
    env = {**os.environ, "NO_COLOR": "1"}
    times = []
    for number in range(warmup + runs):
        started = time.perf_counter()
        done = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, check=False)
        elapsed = time.perf_counter() - started
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(command)} exited {done.returncode}: {done.stderr.decode(errors='replace')}")
        if number >= warmup:  # the first runs fill the OS file cache and write .pyc files
            times.append(elapsed)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=20, help="Measured runs of each command (default 20).")
    parser.add_argument("--warmup", type=int, default=3, help="Unmeasured runs first (default 3).")
    parser.add_argument("--exe", help="The mcpdeploy executable, or `python` for `python -m mcpdeploy`.")
    args = parser.parse_args()
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    start = launcher(args.exe)
    print(f"{' '.join(start)}: {args.runs} runs each, after {args.warmup} warm-up run(s)")
    for arguments in ARGUMENTS:
        times = wall_times([*start, *arguments], args.runs, args.warmup)
        print(f"  {' '.join(['mcpdeploy', *arguments]):<20} median {statistics.median(times):.3f} s   "
              f"min {min(times):.3f} s   max {max(times):.3f} s")


if __name__ == "__main__":
    main()
