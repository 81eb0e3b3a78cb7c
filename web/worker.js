// The dedicated module worker: the only place Python runs. A thin adapter between the
// page's messages (declared in protocol.js) and the durable engine (durable.js); it
// decides nothing itself. Booting is in boot.js.
//
// Groups run one at a time in arrival order. The API calls of a group run in one Python
// call (DurableEngine.callMany), each as if it came alone; its mutations' records commit
// in one transaction, and the group is answered once they are committed, while later
// groups already run. A command (open, replace, flush, dump) finishes before the next call
// starts. Every call gets exactly one answer, whatever fails while handling or answering it.
//
// Calls: {method: "open", args: [options, assetsURL]}   boot, create the engine; resolves
//                                            to Opened
//        {method: "replace", args: [kind, payload]}   import or reset
//        {method: "flush" | "dump", args: []}
//        {method, args}                      an API call, run by the Python session
import { boot } from "./boot.js";
import { errorType } from "./errors.js";
import {
  answersMessage, isGroupMessage, statsBuffer, statsMessage, statsView, unreadableMessage, writeStats,
} from "./protocol.js";
import { messageOf, TypedError } from "./worker-errors.js";

// Booting waits for "open", which names the assets' folder: a bundler may have moved this
// worker away from them. The page posts "open" at once, so little time is lost.
let booting = null;
// Imported here, not above, so that the page's "open" is read before its module graph has loaded.
const durableModule = import("./durable.js");
durableModule.catch(() => {});
let durable = null;
let queue = Promise.resolve();
let shared = null; // the page's stats buffer (statsView), when cross-origin isolated

let lastGroup = 0;

function receive(data) {
  const readable = isGroupMessage(data);
  const group = readable ? data.group : lastGroup + 1;
  lastGroup = group;
  queue = queue.then(() => (readable ? runGroup(data) : postMessage(unreadableMessage(group, errorData(
    new TypedError("InvalidInputError", "The call's arguments could not be read by the engine's worker (nested too deeply?)"))))))
    .catch((error) => postMessage(unreadableMessage(group, errorData(error))));
}

self.addEventListener("message", ({ data }) => receive(data));
self.addEventListener("messageerror", () => receive(null));

const success = (value) => ({ ok: true, value, logs: [] });
const failure = (error) => ({ ok: false, error: errorData(error) });
const errorData = (error) => ({ type: errorType(error), message: messageOf(error) });

const commands = {
  replace: (kind, payload) => durable.replace(kind, payload),
  flush: () => durable.flush(),
  dump: () => durable.dump(),
};

const isApiCall = ([, method]) => method !== "open" && !(method in commands);

// Run a group (see above). Resolves once its calls have run; its answer is posted when
// their records are committed.
async function runGroup({ group, calls }) {
  const answers = new Array(calls.length);
  const committing = [];
  let stats = null;
  for (let start = 0; start < calls.length;) {
    if (durable === null || !isApiCall(calls[start])) {
      answers[start] = await command(calls[start]).catch(failure);
      start += 1;
      continue;
    }
    if (durable.gate !== null) await durable.gate; // a rollback is under way
    let end = start + 1;
    while (end < calls.length && isApiCall(calls[end])) end += 1;
    const run = calls.slice(start, end).map(([id, method, args]) => [method, id, args.map(withoutNull)]);
    try {
      const ran = durable.callMany(run);
      ran.answers.forEach((answer, index) => { answers[start + index] = answer; });
      stats = publish(ran.stats) ?? stats;
      const first = start;
      if (ran.acknowledged !== null) {
        committing.push(ran.acknowledged.catch((error) => {
          for (const index of ran.mutations) answers[first + index] = failure(error);
          publishEvent(durable.statsUpdate()); // rolled back
        }));
      }
    } catch (error) {
      for (let index = start; index < end; index += 1) answers[index] = failure(error);
    }
    start = end;
  }
  const answer = () => reply(group, answers, shared === null ? stats : null);
  if (committing.length === 0) answer();
  else Promise.all(committing).then(answer);
}

// A call that is not an API call, or any call before the engine opened.
async function command([, method, args]) {
  if (method === "open") return success(await open(args[0], args[1]));
  if (durable === null) return { ok: false, error: { type: "NotInitializedError", message: "CortexKG not initialized" } };
  if (durable.gate !== null) await durable.gate;
  const value = await commands[method](...args);
  publishEvent(durable.statsUpdate());
  return success(method === "replace" ? { config: value, storage: durable.storage } : value);
}

// The counters, when they changed: into the shared buffer if there is one. Returns them.
function publish(stats) {
  if (stats !== null && shared !== null) writeStats(shared, stats);
  return stats;
}

// The counters changed outside a call (a command, a rollback, another tab's change).
function publishEvent(stats) {
  if (stats !== null) postMessage(statsMessage(publish(stats)));
}

// An answer that cannot be posted (a value the structured clone refuses) becomes an error
// answer for that call alone, so that every call still settles.
function reply(group, answers, stats) {
  try {
    postMessage(answersMessage(group, answers, stats), answers.flatMap((answer) => transferables(answer.value)));
  } catch {
    const sendable = answers.map((answer) => {
      try {
        structuredClone(answer.value);
        return answer;
      } catch (error) {
        return { ok: false, error: { type: "Error", message: `The answer could not be sent: ${messageOf(error)}` } };
      }
    });
    postMessage(answersMessage(group, sendable, stats), sendable.flatMap((answer) => transferables(answer.value)));
  }
}

async function open(options, assetsURL) {
  if (durable !== null) throw new TypedError("StateError", "Already initialized");
  booting ??= boot((message, bytes) => postMessage({ type: "boot", message, bytes }), assetsURL);
  let pyodide, runtime, DurableEngine;
  try {
    [{ pyodide, runtime }, { DurableEngine }] = await Promise.all([booting, durableModule]);
  } catch (error) {
    throw new TypedError("BootError", `The Python runtime could not start: ${messageOf(error)}`);
  }
  durable = await DurableEngine.open(pyodide, options, (event) => {
    // another tab's change, a rollback, a takeover: the counters may have moved. They go
    // first, so that a page reacting to the event reads the new ones (cortexkg.js answers
    // a writer's counter getters from them).
    if (durable !== null && (event.type === "remote-change" || event.type === "storage")) {
      publishEvent(durable.statsUpdate());
    }
    postMessage(event);
  });
  const layout = durable.statsLayout();
  const update = durable.statsUpdate();
  const buffer = self.crossOriginIsolated ? statsBuffer(layout.numbers.length) : null;
  if (buffer !== null) {
    shared = statsView(buffer);
    writeStats(shared, update);
  }
  return { runtime, config: durable.config, storage: durable.storage, stats: { layout, update, buffer } };
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
