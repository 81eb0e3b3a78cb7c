"""The benchmark's JavaScript port of the reference design (web/bench/reference.js), run
by Node on seeded random operation sequences: it answers as the Python port
(cortexkg.bench.baseline) does, defragmentation quirks included, and as our first-fit
engine does wherever the reference's semantics are ours (no optimize: the reference's
defragmentation does not always compact)."""

from __future__ import annotations

import json
import random
import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from cortexkg import AllocationEngine, AllocationError
from cortexkg.bench.baseline import ReferencePortEngine

from fakes import FakeHost

ROOT = Path(__file__).resolve().parents[2]
NODE = shutil.which("node")
pytestmark = pytest.mark.skipif(NODE is None, reason="needs Node (npm's node) on PATH")

# Runs every sequence on a new port engine; prints one list of answers per sequence.
RUNNER = """
import { ReferenceAllocationEngine } from "./reference.mjs";
console.log = () => {};  // optimizeAllocations logs a line per call
const sequences = JSON.parse(process.argv[2]);
const answers = sequences.map(({ n, ops }) => {
  const engine = new ReferenceAllocationEngine(n, true);
  return ops.map(([name, arg]) => {
    try {
      switch (name) {
        case "allocate": return engine.allocateConcept(arg);
        case "deallocate": return engine.deallocateConcept(arg);
        case "allocate_batch": return engine.allocateBatch(arg);
        case "info": return engine.getAllocationInfo(arg) ?? null;
        case "optimize": return engine.optimizeAllocations();
        case "counts": return [engine.getFreeColumnCount(), engine.getAllocatedCount(),
                               engine.getAllocationEfficiency()];
        case "history": return engine.getAllocationHistory().map((r) => [r.conceptId, r.columnId]);
      }
    } catch (error) {
      return error.message;
    }
  });
});
process.stdout.write(JSON.stringify(answers));
"""

NAMES = ["allocate"] * 5 + ["deallocate"] * 3 + ["allocate_batch", "info", "counts", "history"]


def sequences(seed: int, count: int, with_optimize: bool) -> list[dict]:
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        ops = []
        for _ in range(rng.randrange(60)):
            name = "optimize" if with_optimize and rng.random() < 0.08 else rng.choice(NAMES)
            arg = ([rng.randrange(16) for _ in range(rng.randrange(5))]
                   if name == "allocate_batch" else rng.randrange(16))
            ops.append([name, arg])
        out.append({"n": rng.randrange(13), "ops": ops})
    return out


def run_port(tmp_path: Path, seqs: list[dict]) -> list[list]:
    # a copy named .mjs: Node 20 reads a .js file outside a "type": "module" package as CommonJS
    shutil.copy(ROOT / "web" / "bench" / "reference.js", tmp_path / "reference.mjs")
    (tmp_path / "run.mjs").write_text(RUNNER)
    done = subprocess.run([NODE, "run.mjs", json.dumps(seqs)], cwd=tmp_path, check=True,
                          capture_output=True, text=True, timeout=60)
    return json.loads(done.stdout)


def apply(engine, name: str, arg):
    """One operation on a Python engine, answered as the runner answers it."""
    try:
        if name == "allocate":
            return engine.allocate_concept(arg)
        if name == "deallocate":
            return engine.deallocate_concept(arg)
        if name == "allocate_batch":
            return engine.allocate_batch(arg)
        if name == "info":
            return engine.get_allocation_info(arg)
        if name == "optimize":
            return engine.optimize_allocations()
        if name == "counts":  # the reference's efficiency is an f32
            f32 = struct.unpack("f", struct.pack("f", engine.get_allocation_efficiency()))[0]
            return [engine.get_free_column_count(), engine.get_allocated_count(), f32]
        return [[r["conceptId"], r["columnId"]] for r in engine.get_allocation_history()]
    except (RuntimeError, AllocationError) as error:
        return str(error)


def test_the_javascript_port_answers_as_the_python_port(tmp_path: Path) -> None:
    seqs = sequences(seed=12, count=150, with_optimize=True)
    assert any(op[0] == "optimize" for s in seqs for op in s["ops"])
    for seq, answers in zip(seqs, run_port(tmp_path, seqs)):
        engine = ReferencePortEngine(seq["n"])
        expected = [apply(engine, name, arg) for name, arg in seq["ops"]]
        assert answers == expected, seq


def test_the_javascript_port_answers_as_our_engine_without_optimize(tmp_path: Path) -> None:
    seqs = sequences(seed=7, count=150, with_optimize=False)
    answers = run_port(tmp_path, seqs)
    assert any("No free columns available" in json.dumps(a) for a in answers)  # full engines
    for seq, got in zip(seqs, answers):
        engine = AllocationEngine(seq["n"], strategy="first_fit", backend="reference",
                                  host=FakeHost())
        expected = [apply(engine, name, arg) for name, arg in seq["ops"]]
        assert got == expected, seq
