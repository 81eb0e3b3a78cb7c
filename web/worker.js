// The dedicated module worker: the only place Python runs. A thin adapter between the
// page's messages and the durable session (durable.js); it decides nothing itself.
// Booting is in boot.js. Calls run one at a time in arrival order; a mutation's answer
// waits for its journal record to be committed while later calls already run. The page
// sends the calls issued in one task as one group message, answered by one message.
// Every call gets exactly one answer, whatever fails while handling or answering it.
//
// From the page:  {group, ids, calls: [{method, args}, ...]}   group n (1, 2, ...) of calls:
//                   {method: "open", args: [options, buffer]}  boot, create the engine;
//                                                    buffer: a SharedArrayBuffer for the stats
//                   {method: "replace", args: [kind, payload]} import or reset
//                   {method: "flush" | "dump", args: []}
//                   {method, args}                             one API call
// To the page:    {type: "boot", message}                 a boot step
//                 {type: "storage", storage}              the storage state changed
//                 {type: "remote-change", stats}          another tab's writer changed state
//                 {id, progress: [done, total]}           a long batch's progress
//                 {group, answers: [answer, ...], stats}  the group's answers, in order,
//                                                         and getStats() after them:
//                   {id, ok: true, value, logs}           (typed arrays transferred)
//                   {id, ok: false, error: {type, message}}  a failure, typed for the page
//                 {group, ok: false, error}               the group message was unreadable
import { boot } from "./boot.js";
import { STAT_NUMBERS } from "./stats.js";
import { messageOf, TypedError } from "./worker-errors.js";

const booting = boot((message) => postMessage({ type: "boot", message }));
booting.catch(() => {}); // handled when "open" awaits it; not an unhandled rejection before
// Imported here, not above, so that booting starts before its module graph has loaded.
const durableModule = import("./durable.js");
durableModule.catch(() => {});
let durable = null;
let queue = Promise.resolve();

// The engine's counters (getStats()) after the last change: sent with every answer, and
// written to the page's SharedArrayBuffer when it gave one (see publish()).
let latestStats = null;
let shared = null; // {seq: Int32Array, numbers: Float64Array}

// The page numbers its messages 1, 2, ... in the order it posts them, so a message that
// arrives unreadable (nested too deeply to deserialize) is still answered, by its number.
let lastGroup = 0;

function receive(data) {
  const readable = data !== null && typeof data === "object" && Number.isInteger(data.group)
    && Array.isArray(data.ids) && Array.isArray(data.calls) && data.ids.length === data.calls.length;
  const group = readable ? data.group : lastGroup + 1;
  lastGroup = group;
  queue = queue.then(() => (readable ? runGroup(data) : postGroupError(group, new TypedError("InvalidInputError",
    "The call's arguments could not be read by the engine's worker (nested too deeply?)"))))
    .catch((error) => postGroupError(group, error));
}

self.addEventListener("message", ({ data }) => receive(data));
self.addEventListener("messageerror", () => receive(null));

const success = (value) => ({ ok: true, value, logs: [] });
const failure = (error) => ({ ok: false, error: { type: errorType(error), message: messageOf(error) } });

function postGroupError(group, error) {
  postMessage({ group, ...failure(error) });
}

// Run a group's calls in order, each as if it came alone: a command (open, replace, ...)
// finishes before the next call starts; a mutation's answer waits for its record's commit
// while the next calls already run. The group is answered once, when all have settled.
async function runGroup({ group, ids, calls }) {
  const answers = [];
  for (let i = 0; i < calls.length; i += 1) {
    const id = ids[i];
    answers.push(start(id, calls[i]).then((answer) => ({ id, ...answer }), (error) => ({ id, ...failure(error) })));
    // a command must finish before the next call: await its answer
    if (!isApiCall(calls[i])) await answers[i];
  }
  Promise.all(answers).then((settled) => {
    try {
      // queries change nothing, unless refractory columns are there to expire
      if (calls.some((call) => !QUERIES.has(call?.method)) || !(latestStats?.refractory === 0)) publish();
    } catch {
      // stale counters must not cost the calls their answers; the next group retries
    }
    reply(group, settled);
  });
}

// Read the counters once all of a group settled (a rollback included), and publish them:
// in the shared buffer under a sequence lock (odd while writing: the page retries), in
// STAT_NUMBERS order; the strings and flags travel with the answers.
function publish() {
  if (durable === null) return;
  const { answer } = durable.call(0, "getStats", []);
  if (!answer.ok) return;
  latestStats = answer.value;
  if (shared === null) return;
  Atomics.add(shared.seq, 0, 1);
  STAT_NUMBERS.forEach((key, index) => { shared.numbers[index] = Number(latestStats[key]); });
  Atomics.add(shared.seq, 0, 1);
}

// The calls that change no counter, as long as no column is refractory (a read expires
// refractory columns whose time is up).
const QUERIES = new Set([
  "getAllocationInfo", "getFreeColumnCount", "getAllocatedCount", "getAverageTime",
  "getAllocationEfficiency", "getAllocationHistory", "getAllocationTimes", "getFragmentation",
  "getStats", "getColumnStates", "getColumn", "validate", "exportState", "getDiagnostics", "dump",
]);

function isApiCall(call) {
  return durable !== null && durable.gate === null && !(call?.method in commands) && call?.method !== "open";
}

// An answer that cannot be posted (a value the structured clone refuses) becomes an error
// answer for that call alone, so that every call still settles.
function reply(group, answers) {
  try {
    postMessage({ group, answers, stats: latestStats }, answers.flatMap((answer) => transferables(answer.value)));
  } catch {
    const cloned = answers.map((answer) => {
      try {
        structuredClone(answer.value);
        return answer;
      } catch (error) {
        return { id: answer.id, ok: false, error: { type: "Error", message: `The answer could not be sent: ${messageOf(error)}` } };
      }
    });
    postMessage({ group, answers: cloned, stats: latestStats }, cloned.flatMap((answer) => transferables(answer.value)));
  }
}

const commands = {
  replace: (kind, payload) => durable.replace(kind, payload),
  flush: () => durable.flush(),
  dump: () => durable.dump(),
};

// One call; resolves to its answer {ok, value, logs} | {ok: false, error}.
async function start(id, { method, args }) {
  if (method === "open") return success(await open(args[0], args[1]));
  if (durable === null) return { ok: false, error: { type: "NotInitializedError", message: "CortexKG not initialized" } };
  if (durable.gate !== null) await durable.gate; // a rollback is under way
  if (method in commands) {
    const value = await commands[method](...args);
    return success(method === "replace" ? { config: value, storage: durable.storage } : value);
  }
  const { answer, acknowledged } = durable.call(id, method, args.map(withoutNull));
  return acknowledged === null ? answer : acknowledged.then(() => answer);
}

async function open(options, buffer) {
  if (durable !== null) throw new TypedError("StateError", "Already initialized");
  let pyodide, runtime, DurableSession;
  try {
    [{ pyodide, runtime }, { DurableSession }] = await Promise.all([booting, durableModule]);
  } catch (error) {
    throw new TypedError("BootError", `The Python runtime could not start: ${messageOf(error)}`);
  }
  if (buffer !== undefined && buffer !== null) { // given only when the page is cross-origin isolated
    shared = { seq: new Int32Array(buffer, 0, 1), numbers: new Float64Array(buffer, 8, STAT_NUMBERS.length) };
  }
  durable = await DurableSession.open(pyodide, options, (event) => {
    if (event.type !== "remote-change") postMessage(event);
    else {
      publish();
      postMessage({ ...event, stats: latestStats });
    }
  });
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
