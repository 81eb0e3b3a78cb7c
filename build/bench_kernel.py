"""The scan kernel's micro-benchmark in Chromium, part of build/bench_browser.py.

The kernel's fused dot-product scan (best_match over n available columns of stride
floats) against a plain memory-bandwidth pass (SIMD loads of the same bytes, XOR-folded,
from a bench-only module assembled here), in the page, on a WebAssembly.Memory of its
own. Reported as GB/s of field bytes; ``ratio`` is the scan's time over the pass's
(the floor: within 3x). Each timing is the best of several timed loops.
"""

from __future__ import annotations

import wasmtime

SCAN_FLOOR = 3.0  # dot-product scan time / bandwidth pass time

# The bandwidth pass: reads [p, p + bytes) with four independent v128 loads per step and
# folds them with XOR, so nothing but the loads limits it. (Bench-only: not the kernel.)
BANDWIDTH_WAT = """
(module
  (import "env" "memory" (memory 0))
  (func (export "read") (param $p i32) (param $bytes i32) (result i32)
    (local $i i32) (local $a v128) (local $b v128) (local $c v128) (local $d v128)
    (block $done
      (loop $step
        (br_if $done (i32.gt_u (i32.add (local.get $i) (i32.const 64)) (local.get $bytes)))
        (local.set $a (v128.xor (local.get $a) (v128.load (i32.add (local.get $p) (local.get $i)))))
        (local.set $b (v128.xor (local.get $b) (v128.load offset=16 (i32.add (local.get $p) (local.get $i)))))
        (local.set $c (v128.xor (local.get $c) (v128.load offset=32 (i32.add (local.get $p) (local.get $i)))))
        (local.set $d (v128.xor (local.get $d) (v128.load offset=48 (i32.add (local.get $p) (local.get $i)))))
        (local.set $i (i32.add (local.get $i) (i32.const 64)))
        (br $step)))
    (i32x4.extract_lane 0 (v128.xor (v128.xor (local.get $a) (local.get $b))
                                    (v128.xor (local.get $c) (local.get $d))))))
"""

# In the page: {kernelUrl, bandwidth (bytes), cases: [{n, dim}], minMs} ->
# [{n, dim, bytes, scanMs, passMs}] (each the best of several timed loops of >= minMs)
SCAN_JS = """async ({kernelUrl, bandwidth, cases, minMs}) => {
  const kernelModule = await WebAssembly.compileStreaming(fetch(kernelUrl));
  const passModule = await WebAssembly.compile(new Uint8Array(bandwidth));
  const out = [];
  for (const {n, dim} of cases) {
    const stride = (dim + 3) & ~3, fieldBytes = n * stride * 4;
    const fields = 64, query = fields + fieldBytes, state = query + stride * 4 + 64;
    const score = state + n + 64, total = score + 64;
    const memory = new WebAssembly.Memory({initial: Math.ceil(total / 65536)});
    const env = {env: {memory}};
    const kernel = (await WebAssembly.instantiate(kernelModule, env)).exports;
    const pass = (await WebAssembly.instantiate(passModule, env)).exports;
    kernel.init_fields(fields, n, dim, stride, 12345, 678);  // seeded unit vectors
    kernel.init_fields(query, 1, dim, stride, 999, 1);
    // state bytes are 0 (available): every column is scored
    const time = (run) => {
      let best = Infinity;
      for (let round = 0; round < 5; round++) {
        let loops = 0;
        const start = performance.now();
        let elapsed = 0;
        do { run(); loops++; elapsed = performance.now() - start; } while (elapsed < minMs);
        best = Math.min(best, elapsed / loops);
      }
      return best;
    };
    let sink = 0;
    const scanMs = time(() => { sink ^= kernel.best_match(state, n, fields, stride, query, score); });
    const passMs = time(() => { sink ^= pass.read(fields, fieldBytes); });
    out.push({n, dim, bytes: fieldBytes, scanMs, passMs, sink});
  }
  return out;
}"""


def run_scan(page, url: str, sizes, dims, min_ms: float) -> list[dict]:
    """One row per nonzero dim and size: {n, dim, bytes, scanMs, passMs, ratio, scanGBs,
    passGBs}; page is any page of the site at url."""
    cases = [{"n": n, "dim": dim} for dim in dims if dim for n in sizes]
    rows = page.evaluate(SCAN_JS, {"kernelUrl": url + "kernel/scans.wasm",
                                   "bandwidth": list(wasmtime.wat2wasm(BANDWIDTH_WAT)),
                                   "cases": cases, "minMs": min_ms})
    for row in rows:
        row.pop("sink")
        row["ratio"] = row["scanMs"] / row["passMs"]
        row["scanGBs"] = row["bytes"] / row["scanMs"] / 1e6
        row["passGBs"] = row["bytes"] / row["passMs"] / 1e6
    return rows
