"""Python's share of a JavaScript call (issue 12): Session.call_one / call_many under
CPython, against the engine's allocate_concept alone.

Usage: .venv/bin/python build/profile_session.py [--calls N] [--columns N] [--profile]
       .venv/bin/python build/profile_session.py --compare REV   (REV's session against
       this tree's, interleaved in one process run: read the ratio, not the values)
Sessions are built as the unit tests build them (a FakeHost clock); the figures are
medians of several rounds of N calls, in µs per call.
"""
import argparse, asyncio, cProfile, importlib, io, pstats, statistics, subprocess, sys, tempfile, time
from array import array
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def load(py_root: Path):
    """cortexkg.session (and the fake host) imported from ``py_root``."""
    for name in [n for n in sys.modules if n == "cortexkg" or n.startswith("cortexkg.")]:
        del sys.modules[name]
    sys.path.insert(0, str(py_root))
    try:
        session = importlib.import_module("cortexkg.session")
        from cortexkg import Host
    finally:
        sys.path.remove(str(py_root))
    modules = {n: m for n, m in sys.modules.items() if n == "cortexkg" or n.startswith("cortexkg.")}
    return session, Host, modules


def open_session(session_module, Host, columns: int):
    clock = [1000.0]
    host = Host(now_ms=lambda: clock[0], wall_ms=lambda: 1.7e12 + clock[0], log=lambda line: None)
    session_module.default_host = lambda: host
    s = session_module.Session({"columns": columns, "backend": "reference"})
    asyncio.run(s.open())
    return s


def figures(session_module, Host, columns: int, calls: int) -> dict:
    out = {}
    s = open_session(session_module, Host, columns)
    engine = s.kg.engine
    t = time.perf_counter()
    for i in range(calls):
        engine.allocate_concept(i)
    out["engine allocate_concept"] = (time.perf_counter() - t) / calls * 1e6
    s = open_session(session_module, Host, columns)
    t = time.perf_counter()
    for i in range(calls):
        s.call_one("allocateConcept", i, i)
    out["call_one allocateConcept"] = (time.perf_counter() - t) / calls * 1e6
    t = time.perf_counter()
    for i in range(calls):
        s.call_one("getFreeColumnCount", i)
    out["call_one getFreeColumnCount"] = (time.perf_counter() - t) / calls * 1e6
    s = open_session(session_module, Host, columns)
    group = [["allocateConcept", i, [i]] for i in range(calls)]
    t = time.perf_counter()
    s.call_many(group)
    out["call_many allocateConcept, per call"] = (time.perf_counter() - t) / calls * 1e6
    # What the worker hands Python for the same group: a session that takes runs gets one
    # item of ids (web/durable.js packs them), an older one the calls one by one.
    s = open_session(session_module, Host, columns)
    group = ([["allocateConcept", 0, array("I", range(calls))]] if hasattr(session_module, "_RUNS")
             else [["allocateConcept", i, [i]] for i in range(calls)])
    t = time.perf_counter()
    s.call_many(group)
    out["call_many as the worker sends it, per call"] = (time.perf_counter() - t) / calls * 1e6
    return out


def rounds(loaders, columns, calls, n=5):
    results = [{} for _ in loaders]
    for _ in range(n):
        for result, (session_module, Host, modules) in zip(results, loaders):
            sys.modules.update(modules)
            for key, value in figures(session_module, Host, columns, calls).items():
                result.setdefault(key, []).append(value)
    return [{k: statistics.median(v) for k, v in r.items()} for r in results]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=20_000)
    parser.add_argument("--columns", type=int, default=100_000)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--compare", metavar="REV")
    args = parser.parse_args()
    here = load(ROOT / "py")
    if args.profile:
        s = open_session(here[0], here[1], args.columns)
        profiler = cProfile.Profile()
        profiler.enable()
        for i in range(args.calls):
            s.call_one("allocateConcept", i, i)
        profiler.disable()
        text = io.StringIO()
        pstats.Stats(profiler, stream=text).sort_stats("cumulative").print_stats(25)
        print(text.getvalue())
        return
    if not args.compare:
        for key, value in rounds([here], args.columns, args.calls)[0].items():
            print(f"{key:40s} {value:8.2f} µs")
        return
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(["git", "-C", str(ROOT), "archive", args.compare, "py"], check=True,
                       stdout=open(Path(tmp) / "py.tar", "wb"))
        subprocess.run(["tar", "-xf", "py.tar"], cwd=tmp, check=True)
        before = load(Path(tmp) / "py")
        here = load(ROOT / "py")
        old, new = rounds([before, here], args.columns, args.calls)
    print(f"{'µs per call (median of 5 rounds)':40s} {args.compare[:10]:>10s} {'this tree':>10s} {'ratio':>6s}")
    for key in old:
        print(f"{key:40s} {old[key]:10.2f} {new[key]:10.2f} {new[key] / old[key]:6.2f}")


if __name__ == "__main__":
    main()
