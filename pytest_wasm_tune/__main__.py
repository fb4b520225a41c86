"""Command line: `python -m pytest_wasm_tune {doctor,runtime,cache,matmul,report}`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .errors import WasmTuneError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pytest_wasm_tune")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("doctor", help="check emcc, node, browsers and the runtime cache")
    runtime = commands.add_parser("runtime", help="build (once) and verify the cached web runtime")
    runtime.add_argument("--rebuild", action="store_true", help="rebuild even if cached")
    cache = commands.add_parser("cache", help="list the runtime cache; --prune removes old keys")
    cache.add_argument(
        "--prune", action="store_true", help="remove other keys' builds and the build-only copy"
    )
    commands.add_parser(
        "matmul", help="build, run, verify and time an untuned matmul in headless Chromium"
    )
    report = commands.add_parser("report", help="list the stored runs; RUN --html rebuilds one's")
    report.add_argument("run", nargs="?", help="run id (or unique prefix), 'last' or report file")
    report.add_argument("--html", action="store_true", help="rebuild the run's report.html")
    report.add_argument("--artifacts", type=Path, default=Path("wasm-tune-artifacts"))
    args, rest = parser.parse_known_args(argv)
    try:
        if args.command == "doctor":
            from .doctor import format_results, run_checks

            results = run_checks()
            print(format_results(results))
            return 0 if all(r.ok for r in results) else 1
        if args.command == "runtime":
            from .toolchain import ensure_web_runtime

            runtime_ = ensure_web_runtime(rebuild=args.rebuild)
            print(f"web runtime: {runtime_.directory}")
            return 0
        if args.command == "cache":
            from .toolchain.prune import run_cache_command

            return run_cache_command(prune=args.prune)
        if args.command == "report":
            from .artifacts.publish import report_command

            return report_command(args.artifacts, args.run, args.html)
        from .main_job import run_main_job

        return run_main_job(rest)
    except WasmTuneError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
