"""``python -m cortexkg.bench``: run the benchmark, print its tables, write JSON lines."""

import argparse
import shlex
import sys
from pathlib import Path

from cortexkg.bench.report import check_floors, format_report, machine_info, write_jsonl
from cortexkg.bench.runner import run

DEFAULT_SIZES = (1_000, 10_000, 100_000, 1_000_000)
QUICK_SIZES = (1_000, 5_000)
DEFAULT_BACKENDS = ("numpy", "reference")
DEFAULT_BUDGET_S = 20.0
QUICK_BUDGET_S = 0.5
DEFAULT_OUT = Path("bench-results/cpython.jsonl")


def _sizes(text: str) -> list[int]:
    sizes = [int(part) for part in text.split(",") if part]
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError(f"sizes must be positive integers: {text!r}")
    return sizes


def _names(text: str) -> list[str]:
    return [name for name in text.split(",") if name]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m cortexkg.bench",
        description="Benchmark the allocation engine against a port of the reference design.",
    )
    parser.add_argument(
        "--sizes",
        type=_sizes,
        help=f"column counts, comma-separated (default: {','.join(map(str, DEFAULT_SIZES))})",
    )
    parser.add_argument(
        "--backends",
        type=_names,
        default=list(DEFAULT_BACKENDS),
        help=f"engine backends, comma-separated (default: {','.join(DEFAULT_BACKENDS)})",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"sizes {','.join(map(str, QUICK_SIZES))} unless --sizes is given, and a"
        f" {QUICK_BUDGET_S:g} s budget unless --budget is given",
    )
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help=f"JSON-lines file (default: {DEFAULT_OUT})"
    )
    parser.add_argument(
        "--budget",
        type=float,
        metavar="SECONDS",
        help="time the baseline's chain and mixed stream, and every engine's affinity loop,"
        f" may take per size; they report how far they got (default: {DEFAULT_BUDGET_S:g})",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    """Command line of ``python -m cortexkg.bench``; returns the exit status."""
    argv = sys.argv[1:] if argv is None else argv
    args = _parser().parse_args(argv)
    sizes = args.sizes or (QUICK_SIZES if args.quick else DEFAULT_SIZES)
    budget_s = args.budget
    if budget_s is None:
        budget_s = QUICK_BUDGET_S if args.quick else DEFAULT_BUDGET_S
    records = run(sizes, args.backends, budget_s)
    print(format_report(records, check_floors(records)))
    machine = {
        **machine_info(),
        "command": shlex.join(["python", "-m", "cortexkg.bench", *argv]),
        "settings": {"sizes": list(sizes), "backends": args.backends, "budget_s": budget_s},
    }
    write_jsonl(args.out, machine, records)
    print(f"\nwrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
