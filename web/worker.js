// The dedicated module worker: the only place Python runs. A thin adapter between the
// page's messages and the durable session (durable.js); it decides nothing itself.
// Booting is in boot.js. Calls run one at a time in arrival order; a mutation's answer
// waits for its journal record to be committed while later calls already run.
//
// From the page:  {id, method: "open", args: [options]}   boot, create the engine
//                 {id, method: "replace", args: [kind, payload]}   import or reset
//                 {id, method: "flush" | "dump", args: []}
//                 {id, method, args}                      one API call
// To the page:    {type: "boot", message}                 a boot step
//                 {type: "storage", storage}              the storage state changed
//                 {type: "remote-change"}                 another tab's writer changed state
//                 {id, progress: [done, total]}           a long batch's progress
//                 {id, ok: true, value, logs}             an answer (typed arrays transferred)
//                 {id, ok: false, error: {type, message}} a failure, typed for the page
import { boot } from "./boot.js";

const booting = boot((message) => postMessage({ type: "boot", message }));
// Imported here, not above, so that booting starts before its module graph has loaded.
const durableModule = import("./durable.js");
let durable = null;
let queue = Promise.resolve();

self.addEventListener("message", ({ data }) => {
  queue = queue.then(() => handle(data));
});

const reply = (id, answer) => postMessage({ id, ...answer }, transferables(answer.value));
const success = (value) => ({ ok: true, value, logs: [] });

const commands = {
  replace: (kind, payload) => durable.replace(kind, payload),
  flush: () => durable.flush(),
  dump: () => durable.dump(),
};

async function handle({ id, method, args }) {
  try {
    if (method === "open") {
      reply(id, success(await open(args[0])));
    } else if (durable === null) {
      reply(id, { ok: false, error: { type: "NotInitializedError", message: "CortexKG not initialized" } });
    } else if (method in commands) {
      const value = await commands[method](...args);
      reply(id, success(method === "replace" ? { config: value, storage: durable.storage } : value));
    } else {
      const { answer, acknowledged } = durable.call(id, method, args.map(withoutNull));
      if (acknowledged === null) reply(id, answer);
      else acknowledged.then(() => reply(id, answer));
    }
  } catch (error) {
    const { pythonMessage } = await durableModule;
    reply(id, { ok: false, error: { type: errorType(error), message: pythonMessage(error) } });
  }
}

async function open(options) {
  const [{ pyodide, runtime }, { DurableSession }] = await Promise.all([booting, durableModule]);
  durable = await DurableSession.open(pyodide, options, (event) => postMessage(event));
  return { runtime, config: durable.config, storage: durable.storage };
}

// A Python exception (PythonError) names its class in .type: a bad option is bad input.
function errorType(error) {
  const type = error?.type;
  if (type === "StateError" || type === "InvalidInputError") return type;
  return type === "ValueError" || type === "TypeError" ? "InvalidInputError" : "Error";
}

// Pyodide turns null into jsnull but undefined into None; to the engine both mean None,
// so a null id (alone or in an array) is reported as None like any other bad value.
function withoutNull(value) {
  if (value === null) return undefined;
  return Array.isArray(value) ? value.map((item) => (item === null ? undefined : item)) : value;
}

// Typed arrays in an answer move to the page instead of being copied.
function transferables(value) {
  if (value === null || typeof value !== "object") return [];
  const items = ArrayBuffer.isView(value) ? [value] : Object.values(value);
  return items.filter((item) => ArrayBuffer.isView(item)).map((view) => view.buffer);
}
