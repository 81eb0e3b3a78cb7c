// The dedicated module worker: the only place Python runs. A thin adapter between the
// page's messages and cortexkg.session.Session; it decides nothing itself. Booting is in
// boot.js. Calls run one at a time in arrival order, so answers come back in order even
// when the page pipelines many requests.
//
// From the page:  {id, method: "open", args: [options]}   boot, then create the session
//                 {id, method, args}                      one API call
// To the page:    {type: "boot", message}                 a boot step
//                 {id, progress: [done, total]}           a long batch's progress
//                 {id, ok: true, value, logs}             an answer (typed arrays transferred)
//                 {id, ok: false, error: {type, message}} a failure, typed for the page
import { boot } from "./boot.js";

const booting = boot((message) => postMessage({ type: "boot", message }));
let session = null;
let queue = Promise.resolve();

self.addEventListener("message", ({ data }) => {
  queue = queue.then(() => handle(data));
});

async function handle({ id, method, args }) {
  try {
    const answer = method === "open" ? await open(args[0]) : await call(id, method, args);
    postMessage({ id, ...answer }, transferables(answer.value));
  } catch (error) {
    postMessage({ id, ok: false, error: { type: "Error", message: String(error?.message ?? error) } });
  }
}

async function open(options) {
  const { pyodide, runtime } = await booting;
  const { Session } = pyodide.pyimport("cortexkg.session");
  const reportProgress = (id, done, total) => postMessage({ id, progress: [done, total] });
  try {
    session = Session(options, reportProgress);
  } catch (error) {
    // a bad option raises in Python; report its message, typed as bad input
    return { ok: false, error: { type: "InvalidInputError", message: pythonMessage(error) } };
  } finally {
    Session.destroy();
  }
  const config = await session.open();
  try {
    return { ok: true, value: { runtime, config: toJs(config) }, logs: [] };
  } finally {
    config.destroy();
  }
}

async function call(id, method, args) {
  if (session === null) {
    return { ok: false, error: { type: "NotInitializedError", message: "CortexKG not initialized" } };
  }
  const answer = await session.call(method, id, ...args.map(withoutNull));
  try {
    return toJs(answer);
  } finally {
    answer.destroy();
  }
}

// Pyodide turns null into jsnull but undefined into None; to the engine both mean None,
// so a null id (alone or in an array) is reported as None like any other bad value.
function withoutNull(value) {
  if (value === null) return undefined;
  return Array.isArray(value) ? value.map((item) => (item === null ? undefined : item)) : value;
}

// Python data -> JavaScript: dicts become plain objects, buffers become typed arrays.
function toJs(proxy) {
  return proxy.toJs({ dict_converter: Object.fromEntries, create_pyproxies: false });
}

// The last line of a Python traceback: "ValueError: Invalid engine options: ..."
function pythonMessage(error) {
  const lines = String(error.message).trim().split("\n");
  return lines[lines.length - 1].replace(/^\w+: /, "");
}

// Typed arrays in an answer move to the page instead of being copied.
function transferables(value) {
  if (value === null || typeof value !== "object") return [];
  const items = ArrayBuffer.isView(value) ? [value] : Object.values(value);
  return items.filter((item) => ArrayBuffer.isView(item)).map((view) => view.buffer);
}
