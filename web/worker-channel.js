// The page's end of the engine's worker: calls go out as group messages, answers come
// back matched to their calls (the messages are declared in protocol.js).
//
// Calls issued in the same task travel as one group, posted in a microtask. The worker
// numbers the groups it receives 1, 2, ..., so that one it cannot read is still answered,
// by its number.

import { errorOf } from "./errors.js";
import { groupMessage } from "./protocol.js";

export class WorkerChannel {
  #worker;
  #events;
  #pending = new Map(); // request id -> {resolve, reject, onProgress}
  #nextId = 1;
  #outbox = []; // calls issued in this task, [id, method, args], posted as one group
  #nextGroup = 1; // message number of the next group posted
  #groups = new Map(); // group number -> its calls, until answered

  /**
   * Talk to worker (a module Worker running worker.js). events: {message(data) for what is not an answer (boot,
   * storage, remote-change and stats messages), stats(update) for the counters an answer
   * carries, log(message) for an answered call's log lines, error(event) for an error the
   * worker did not catch}.
   */
  constructor(worker, events) {
    this.#events = events;
    this.#worker = worker;
    this.#worker.addEventListener("message", ({ data }) => {
      if (data.type === "progress") this.#pending.get(data.id)?.onProgress?.(...data.progress);
      else if (data.type === "answers" || data.type === "unreadable") this.#answer(data);
      else events.message(data);
    });
    this.#worker.addEventListener("error", (event) => {
      event.preventDefault();
      events.error(event);
    });
  }

  /** How many calls have not been answered yet. */
  get pending() {
    return this.#pending.size;
  }

  /** Call method(...args) in the worker; resolves to its value, rejects with its error. */
  call(method, args, onProgress) {
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject, onProgress });
      if (this.#outbox.length === 0) queueMicrotask(() => this.#flushOutbox());
      this.#outbox.push([id, method, args]);
    });
  }

  /** Reject every call not answered yet with error. */
  failAll(error) {
    for (const { reject } of this.#pending.values()) reject(error);
    this.#pending.clear();
  }

  /** Stop the worker at once; failAll the calls it would have answered. */
  terminate(error) {
    this.#worker.terminate();
    this.failAll(error);
  }

  #flushOutbox() {
    // posted even once closed: a relaxed close() flushes first (a terminated worker
    // ignores what is posted to it)
    const calls = this.#outbox;
    this.#outbox = [];
    if (!this.#post(calls) && calls.length > 1) {
      // one call cannot be cloned (a function as an argument, say): post them one by one,
      // in order, so that only that call fails
      for (const call of calls) this.#post([call]);
    }
  }

  // Post one group; returns whether it was posted.
  #post(calls) {
    const group = this.#nextGroup;
    try {
      this.#worker.postMessage(groupMessage(group, calls));
    } catch (error) {
      if (calls.length === 1) {
        const [id, method, args] = calls[0];
        const name = method === "replace" ? { import: "importState", reset: "reset" }[args[0]] : method;
        this.#settle(id, { ok: false, error: { type: "InvalidInputError", message: `Invalid argument for ${name}: ${error.message}` } });
      }
      return false;
    }
    this.#nextGroup += 1;
    this.#groups.set(group, calls);
    return true;
  }

  #answer(data) {
    const calls = this.#groups.get(data.group);
    if (calls === undefined) return;
    this.#groups.delete(data.group);
    if (data.type === "answers") {
      this.#events.stats(data.stats);
      for (let index = 0; index < calls.length; index += 1) this.#settle(calls[index][0], data.answers[index]);
    } else if (calls.length > 1 && data.group === this.#nextGroup - 1) {
      // the worker could not read the group (an argument nested too deeply) and ran none
      // of it; none posted since: send its calls one by one, so that only that one fails
      for (const call of calls) this.#post([call]);
    } else {
      for (const [id] of calls) this.#settle(id, data);
    }
  }

  #settle(id, { ok, value, error, logs }) {
    const request = this.#pending.get(id);
    if (request === undefined) return;
    this.#pending.delete(id);
    for (const message of logs ?? []) this.#events.log(message);
    if (ok) request.resolve(value);
    else request.reject(errorOf(error));
  }
}
