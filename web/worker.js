// The dedicated module worker: the only place Python runs. A thin adapter between the
// page's messages and the durable session (durable.js); it decides nothing itself.
// Booting is in boot.js. Calls run one at a time in arrival order; a mutation's answer
// waits for its journal record to be committed while later calls already run.
// Every message gets exactly one answer, whatever fails while handling or answering it.
//
// From the page:  {id, method: "open", args: [options, assetsURL]}   boot, create the engine
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
import { messageOf, TypedError } from "./worker-errors.js";

// Booting waits for "open", which names the assets' folder: a bundler may have moved this
// worker away from them. The page posts "open" at once, so little time is lost.
let booting = null;
// Imported here, not above, so that the page's "open" is read before its module graph has loaded.
const durableModule = import("./durable.js");
durableModule.catch(() => {});
let durable = null;
let queue = Promise.resolve();

// The page numbers its messages 1, 2, ... in the order it posts them, so a message that
// arrives unreadable (nested too deeply to deserialize) is still answered, by its number.
let lastId = 0;

function receive(data) {
  const readable = data !== null && typeof data === "object" && Number.isInteger(data.id);
  const id = readable ? data.id : lastId + 1;
  lastId = id;
  queue = queue.then(() => (readable ? handle(data) : replyError(id, new TypedError("InvalidInputError",
    "The call's arguments could not be read by the engine's worker (nested too deeply?)"))))
    .catch((error) => replyError(id, error));
}

self.addEventListener("message", ({ data }) => receive(data));
self.addEventListener("messageerror", () => receive(null));

const success = (value) => ({ ok: true, value, logs: [] });

// An answer that cannot be posted (a value the structured clone refuses) becomes an error
// answer, so that the call still settles.
function reply(id, answer) {
  try {
    postMessage({ id, ...answer }, transferables(answer.value));
  } catch (error) {
    postMessage({ id, ok: false, error: { type: "Error", message: `The answer could not be sent: ${messageOf(error)}` } });
  }
}

function replyError(id, error) {
  reply(id, { ok: false, error: { type: errorType(error), message: messageOf(error) } });
}

const commands = {
  replace: (kind, payload) => durable.replace(kind, payload),
  flush: () => durable.flush(),
  dump: () => durable.dump(),
};

async function handle({ id, method, args }) {
  try {
    if (method === "open") {
      reply(id, success(await open(args[0], args[1])));
    } else if (durable === null) {
      reply(id, { ok: false, error: { type: "NotInitializedError", message: "CortexKG not initialized" } });
    } else {
      if (durable.gate !== null) await durable.gate; // a rollback is under way
      if (method in commands) {
        const value = await commands[method](...args);
        reply(id, success(method === "replace" ? { config: value, storage: durable.storage } : value));
      } else {
        const { answer, acknowledged } = durable.call(id, method, args.map(withoutNull));
        if (acknowledged === null) reply(id, answer);
        else acknowledged.then(() => reply(id, answer), (error) => replyError(id, error));
      }
    }
  } catch (error) {
    replyError(id, error);
  }
}

async function open(options, assetsURL) {
  if (durable !== null) throw new TypedError("StateError", "Already initialized");
  booting ??= boot((message) => postMessage({ type: "boot", message }), assetsURL);
  let pyodide, runtime, DurableSession;
  try {
    [{ pyodide, runtime }, { DurableSession }] = await Promise.all([booting, durableModule]);
  } catch (error) {
    throw new TypedError("BootError", `The Python runtime could not start: ${messageOf(error)}`);
  }
  durable = await DurableSession.open(pyodide, options, (event) => postMessage(event));
  return { runtime, config: durable.config, storage: durable.storage };
}

// A Python exception (PythonError) names its class in .type, as do the worker's own
// typed errors; a bad option is bad input.
function errorType(error) {
  const type = error?.type;
  if (["StateError", "InvalidInputError", "StorageError", "BootError", "AllocationError"].includes(type)) return type;
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
