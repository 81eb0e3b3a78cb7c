"""The records build/bench_browser.py and its parts write, and their progress lines."""

from __future__ import annotations

from cortexkg.bench.runner import new_record


def record(workload: str, size: int, seconds: float | None, ops: int = 1, *, engine: str = "wasm",
           note: str = "", **extra) -> dict:
    """A complete chromium record in the runner's shape."""
    return {**new_record(workload, size, engine, ops, ops, seconds, note, **extra),
            "runtime": "chromium"}


def show_progress(message) -> None:
    """Print the bench page's progress lines (web/bench/main.js logs them)."""
    if message.text.startswith("bench: "):
        print(message.text, flush=True)
