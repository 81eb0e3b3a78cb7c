"""Where the time of a call goes (issue 12): an instrumented copy of dist/.

Usage: [NOBUILD=1] .venv/bin/python build/profile_call_path.py [--columns N]
Copies dist/ to a temporary directory, adds performance.now() marks to its worker-channel.js,
worker.js, durable.js and group-commit.js (string patches: the script stops if one no
longer matches), serves it cross-origin isolated and prints, for awaited allocateConcept
calls in each durability mode and for 5,000 pipelined ones, the median time of each step,
and for relaxed awaited calls the hops of those whose messages crossed a journal
transaction apart from the others. The page's and the worker's clocks are not compared: the two
message hops (postMessage, structured clone, delivery) are what the page waited minus
what it and the worker accounted for.
"""
import argparse, os, shutil, statistics, sys, tempfile
from pathlib import Path
from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests/browser"))
import harness

NOW = "performance.now()"


def patch(text: str, old: str, new: str) -> str:
    if old not in text:
        sys.exit(f"profile_call_path: the instrumented code changed, no match for {old!r}")
    return text.replace(old, new, 1)


def instrument(site: Path) -> None:
    page = (site / "worker-channel.js").read_text()
    page = patch(page, 'this.#worker.addEventListener("message", ({ data }) => {',
                 f'this.#worker.addEventListener("message", ({{ data }}) => {{ globalThis.__got = {NOW};'
                 ' if (data.t) globalThis.__marks = {...data.t, lastWrite: data.lastWrite};')
    page = patch(page, "this.#worker.postMessage(groupMessage(group, calls));",
                 f"globalThis.__flush = {NOW}; this.#worker.postMessage(groupMessage(group, calls)); globalThis.__sent = {NOW};")
    (site / "worker-channel.js").write_text(page)
    worker = (site / "worker.js").read_text()
    worker = patch(worker, "function receive(data) {", f"function receive(data) {{ self.__t = {{recv: {NOW}}};")
    worker = patch(worker, "const ran = durable.callMany(run);",
                   f"self.__t.call = {NOW}; const ran = durable.callMany(run); self.__t.called = {NOW};")
    worker = patch(worker, "function reply(group, answers, stats) {\n  try {\n    postMessage(answersMessage(group, answers, stats),",
                   f"function reply(group, answers, stats) {{\n  try {{\n    self.__t.reply = {NOW};"
                   f" postMessage({{...answersMessage(group, answers, stats), t: self.__t, lastWrite: self.__lastWrite}},")
    (site / "worker.js").write_text(worker)
    durable = (site / "durable.js").read_text()
    durable = patch(durable, "const [values, failures, logs, ran, mutations, compact, stats] = fromPython(calls.length === 1",
                    f"self.__t.py = {NOW}; const __answer = (calls.length === 1")
    durable = patch(durable, ": this.#callMany(packRuns(calls)));",
                    f": this.#callMany(packRuns(calls))); self.__t.toJs = {NOW};"
                    " const [values, failures, logs, ran, mutations, compact, stats] ="
                    f" fromPython(__answer); self.__t.converted = {NOW};")
    (site / "durable.js").write_text(durable)
    commit = (site / "group-commit.js").read_text()
    commit = patch(commit, "await this.db.write({ records, snapshot, lastSeq });",
                   f"self.__t.write = self.__lastWrite = {NOW}; await this.db.write({{ records, snapshot, lastSeq }});"
                   f" self.__t.written = {NOW};")
    (site / "group-commit.js").write_text(commit)


SCRIPT = r"""async ([columns, durability, pipelined]) => {
  const { CortexKG } = await import('./cortexkg.js');
  const kg = await CortexKG.create({name: `profile-${durability}-${columns}`, columns, durability});
  const rows = [];
  let next = 0;
  const marks = () => ({flush: globalThis.__flush, sent: globalThis.__sent, got: globalThis.__got, ...globalThis.__marks});
  if (pipelined) {
    for (let round = 0; round < 6; round++) {
      const start = performance.now();
      await Promise.all(Array.from({length: 5000}, () => kg.allocateConcept(next++)));
      const end = performance.now();
      rows.push({start, end, ...marks()});
    }
  } else {
    for (let i = 0; i < 1200; i++) {
      const start = performance.now();
      await kg.allocateConcept(next++);
      rows.push({start, end: performance.now(), ...marks()});
    }
  }
  await kg.reset(); kg.close();
  return rows;
}"""

PAGE_STEPS = [
    ("start", "flush", "page: call -> group flushed (microtask)"),
    ("flush", "sent", "page: postMessage (structured clone of the group)"),
    ("recv", "call", "worker: receive -> callMany (queue, checks, argument arrays)"),
    ("py", "toJs", "worker: Python call_one/call_many (conversion in, engine, journal record)"),
    ("toJs", "converted", "worker: answer toJs + proxy destroy"),
    ("converted", "called", "worker: seq numbers, commit queued"),
    ("write", "written", "worker: IndexedDB write + commit (strict: awaited)"),
    ("called", "reply", "worker: callMany returned -> reply (strict: the commit wait)"),
    ("recv", "reply", "WORKER TOTAL (receive -> answer posted)"),
    ("got", "end", "page: answer received -> await resumes"),
    ("start", "end", "PAGE TOTAL (call -> await resumes)"),
]


def median(rows, a, b, per=1):
    values = [r[b] - r[a] for r in rows if r.get(a) is not None and r.get(b) is not None]
    return statistics.median(values) * 1000 / per if values else None


def print_crossings(rows) -> None:
    """The hops of the calls whose messages crossed a journal transaction (one started
    between the previous answer and this one, in the worker's clock) and of the others."""
    split = {True: [], False: []}
    for previous, row in zip(rows, rows[1:]):
        started = row.get("lastWrite")
        crossed = started is not None and previous["reply"] < started < row["reply"]
        split[crossed].append(row["hops"] * 1000)
    for crossed, hops in split.items():
        if hops:
            print(f"{'crossed a transaction' if crossed else 'crossed none'}: {len(hops)} calls,"
                  f" hops median {statistics.median(hops):,.0f} µs")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--columns", type=int, default=100_000)
    args = parser.parse_args()
    if os.environ.get("NOBUILD") is None:
        harness.load_build_script("build_site").build_site()
    site = Path(tempfile.mkdtemp()) / "dist"
    shutil.copytree(ROOT / "dist", site)
    instrument(site)
    with harness.serve(site, site.parent / "serve.log") as server, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=harness.chromium_executable(), args=harness.chromium_args())
        page = browser.new_page()
        page.set_default_timeout(600_000)
        page.goto(server.url + "api.html")
        for durability, pipelined in (("strict", False), ("relaxed", False), ("strict", True), ("relaxed", True)):
            rows = page.evaluate(SCRIPT, [args.columns, durability, pipelined])
            rows = rows[1:] if pipelined else rows[200:]
            per = 5000 if pipelined else 1
            for r in rows:  # what neither side accounted for: the two hops
                r["zero"] = 0
                r["hops"] = ((r["end"] - r["start"]) - (r["sent"] - r["start"]) - (r["end"] - r["got"])
                             - (r["reply"] - r["recv"]))
            label = f"{durability}, {'5,000 pipelined (per call)' if pipelined else 'awaited one at a time'}"
            print(f"\n### {label}, {args.columns:,} columns, {len(rows)} samples, median µs\n")
            print("| step | µs |\n|---|---|")
            for a, b, text in PAGE_STEPS + [("zero", "hops", "both message hops (total - accounted)")]:
                value = median(rows, a, b, per)
                if value is not None:
                    print(f"| {text} | {value:,.1f} |")
            if not pipelined:
                totals = sorted((r["end"] - r["start"]) * 1000 for r in rows)
                print(f"\np50 {totals[len(totals) // 2]:,.0f} µs, p99 {totals[int(len(totals) * 0.99)]:,.0f} µs")
                if durability == "relaxed":  # a strict call waits for its own transaction
                    print_crossings(rows)
        browser.close()


if __name__ == "__main__":
    main()
