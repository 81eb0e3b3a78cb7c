"""Where the time of one awaited call goes (issue 12): an instrumented copy of dist/.

Usage: [NOBUILD=1] .venv/bin/python build/profile_call_path.py .
Copies dist/ to a temporary directory, adds timestamps to its worker.js and durable.js
(string patches; the script stops if they no longer match), serves it cross-origin
isolated and prints median per-step times of 1,800 awaited calls (after 200 warm-up)
at 100K columns. The worker and the page have separate clocks, so the two message hops
are reported together: page total minus worker total.
"""
import os, shutil, sys, statistics, tempfile
from pathlib import Path
from playwright.sync_api import sync_playwright
root = Path(sys.argv[1]); sys.path.insert(0, str(root / "tests/browser"))
import harness
if os.environ.get("NOBUILD") is None:
    harness.load_build_script("build_site").build_site()
site = Path(tempfile.mkdtemp()) / "dist"; shutil.copytree(root / "dist", site)
now = "(performance.timeOrigin + performance.now())"
w = (site / "worker.js").read_text()
w = w.replace("function receive(data) {", f"self.__t = {{}};\nfunction receive(data) {{ self.__t = {{recv: {now}}};")
w = w.replace("postMessage({ id, ...answer }, transferables(answer.value));",
              f"self.__t.post = {now}; postMessage({{ id, ...answer, t: self.__t }}, transferables(answer.value));")
w = w.replace("else acknowledged.then(() => reply(id, answer)", f"else acknowledged.then(() => {{ self.__t.acked = {now}; reply(id, answer); }}")
w = w.replace("const { answer, acknowledged } = durable.call(", f"self.__t.handle = {now}; const {{ answer, acknowledged }} = durable.call(")
assert w.count("self.__t") >= 5, w
(site / "worker.js").write_text(w)
d = (site / "durable.js").read_text()
old = "const answer = py(this.#session.call(method, id, ...args));"
assert old in d
d = d.replace(old, f"const __p = this.#session.call(method, id, ...args); self.__t.py = {now}; const answer = py(__p); self.__t.tojs = {now};")
old2 = "return { answer: reply, acknowledged: this.#commit([record], snapshot) };"
assert old2 in d
d = d.replace(old2, f"self.__t.record = {now}; const __a = this.#commit([record], snapshot); self.__t.queued = {now}; return {{ answer: reply, acknowledged: __a }};")
old3 = "await this.#db.write({ records, snapshot, lastSeq });"
assert old3 in d
d = d.replace(old3, f"self.__t.idbStart = {now}; await this.#db.write({{ records, snapshot, lastSeq }}); self.__t.idbDone = {now};")
(site / "durable.js").write_text(d)
SCRIPT = r"""async ([columns, n, method]) => {
  const api = await import('./cortexkg.js');
  const now = () => performance.timeOrigin + performance.now();
  const orig = Worker.prototype.postMessage; let sent = 0; let hooked = new WeakSet(); let last = null;
  Worker.prototype.postMessage = function (...a) { sent = now(); if (!hooked.has(this)) { hooked.add(this);
     this.addEventListener('message', ({data}) => { if (data.t) last = {...data.t, got: now()}; }); }
     return orig.apply(this, a); };
  const kg = await api.CortexKG.create({name: 'prof' + columns + method, columns});
  const rows = [];
  for (let i = 0; i < n; i++) {
    const start = now();
    if (method === 'alloc') await kg.allocateConcept(i);
    else if (method === 'free') await kg.getFreeColumnCount();
    else await kg.getStats();
    const end = now();
    rows.push({start, sent, ...last, end});
  }
  await kg.reset(); kg.close();
  return {isolated: crossOriginIsolated, rows};
}"""
with harness.serve(site, site.parent / "serve.log") as server:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=harness.chromium_executable(), args=harness.chromium_args())
        page = browser.new_page(); page.goto(server.url + "api.html")
        for method in ["alloc", "free", "stats"]:
            out = page.evaluate(SCRIPT, [100_000, 2000, method])
            rows = out["rows"][200:]
            def med(a, b):
                vals = [r[b] - r[a] for r in rows if a in r and b in r]
                return statistics.median(vals) * 1000 if vals else None
            steps = [("recv", "handle", "worker: receive -> durable.call"), ("handle", "py", "Python Session.call (engine + journal record)"),
                     ("py", "tojs", "answer toJs + proxy destroy"), ("tojs", "record", "record seq, compaction check"),
                     ("record", "idbStart", "commit queued, drain starts"),
                     ("idbStart", "queued", "IndexedDB transaction + put (synchronous part)"),
                     ("queued", "idbDone", "IndexedDB commit (waiting for complete)"), ("idbDone", "acked", "acknowledged -> reply"),
                     ("acked", "post", "reply build + postMessage"),
                     ("recv", "post", "WORKER TOTAL (receive -> answer posted)"),
                     ("start", "end", "PAGE TOTAL (call -> await resumes)")]
            for r in rows: r["hops"] = r["end"] - r["start"] - (r["post"] - r["recv"]); r["z"] = 0
            steps.append(("z", "hops", "both message hops + page-side promise work (total - worker)"))
            print(f"## {method} isolated={out['isolated']} n={len(rows)}")
            for a, b, label in steps:
                m = med(a, b)
                if m is not None: print(f"| {label} | {m:.0f} µs |")
            tot = sorted((r['end'] - r['start']) * 1000 for r in rows)
            print(f"p50 {tot[len(tot)//2]:.0f} p99 {tot[int(len(tot)*0.99)]:.0f}")
        browser.close()
