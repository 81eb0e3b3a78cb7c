"""The side-by-side benchmark (web/bench/side.js) in Chromium, part of
build/bench_browser.py: the reference design's JavaScript port (web/bench/reference.js)
against the synchronous engine (engine.js) and the async API in each durability mode
("relaxed" recorded as unavailable where create() or reset() refuses it): allocations one at a time,
pipelined, batched, and stats reads, at each size; one record per engine and size.
"""

from __future__ import annotations

from bench_records import record
from playwright.sync_api import Page


def side_by_side(page: Page, sizes: tuple[int, ...], counts: dict, budget_ms: float
                 ) -> list[dict]:
    """side.js in the bench page (web/bench/), on the async engine the page's API
    measurements leave (it resets it to each size and mode, so what they did before does
    not count): one ``side_by_side`` record per engine and size (us_per_op: µs per
    allocation called or awaited one at a time, the mean)."""
    result = page.evaluate("(options) => bench.sideBySide(options)",
                           {"sizes": sizes, "counts": counts, "budgetMs": budget_ms})
    return [side_record(r, budget_ms) for r in result["records"]]


def side_record(r: dict, budget_ms: float) -> dict:
    """One of side.js's records in the records' shape."""
    engine, n = r["engine"], r["n"]
    if not r["available"]:
        return record("side_by_side", n, None, r["counts"]["sequential"], engine=engine,
                      note=f"unavailable: {r['note']}", available=False)
    seq, batch, getters = r["sequential"], r["batch"], r["getters"]
    pipelined, stats = r["pipelined"] or {}, r["stats"] or {}
    seconds = seq["mean_us"] * seq["done"] / 1e6 if seq["done"] else None
    over = [f"{name} {m['done']:,} of {m['planned']:,}" for name, m in
            (("one at a time", seq), ("batch", batch)) if m["done"] < m["planned"]]
    note = {"reference": "JavaScript port of the reference design, in the page",
            "sync": "web/engine.js in the page's thread",
            "strict": "async API, durability strict",
            "relaxed": "async API, durability relaxed"}[engine]
    if over:
        note += f"; over its {budget_ms / 1000:g} s budget: " + ", ".join(over)
    if stats and not stats["available"]:
        note += f"; {stats['note']}"
    return {**record("side_by_side", n, seconds, seq["planned"], engine=engine, note=note),
            "done": seq["done"], "complete": seq["done"] == seq["planned"],
            "us_per_op": seq["mean_us"], "ops_per_s": 1e6 / seq["mean_us"] if seq["mean_us"] else None,
            "available": True,
            "p50_us": seq["p50_us"], "p99_us": seq["p99_us"],
            "pipelined_calls": pipelined.get("done"),
            "pipelined_us_per_call": pipelined.get("us_per_call"),
            "pipelined_p50_us": pipelined.get("p50_us"), "pipelined_p99_us": pipelined.get("p99_us"),
            "batch_items": batch["done"], "batch_us_per_item": batch["us_per_item"],
            "getters_us": getters["mean_us"], "getters_p50_us": getters.get("p50_us"),
            "stats_us": stats.get("mean_us")}
