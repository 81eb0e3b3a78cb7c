// The messages between the page (cortexkg.js) and its worker (worker.js), declared once:
// both sides build and read them with what is here.
//
// The page posts the calls issued in one task as one group; the worker runs them in order,
// each as if it came alone, and answers the group with one message, an answer per call
// in the same order. Groups are numbered 1, 2, ... in the order they are posted, so that
// one that arrives unreadable is still answered, by its number.
//
// The counters of getStats() are published to the page as a StatsUpdate whenever they
// change (the newest version wins). When the page is cross-origin isolated, the worker
// also writes their numbers to a SharedArrayBuffer, under a sequence lock, where the page
// reads them synchronously.

/** @typedef {[id: number, method: string, args: unknown[]]} Call  one API call */
/** @typedef {{group: number, calls: Call[]}} GroupMessage  page -> worker, the only kind */

/** @typedef {{type: string, message: string}} ErrorData  type: a class of errors.js */
/**
 * @typedef {{ok: true, value: unknown, logs?: string[]} | {ok: false, error: ErrorData}} Answer
 * typed arrays in a value are transferred, not copied; logs: the call's log lines, if any
 */
/**
 * @typedef {{version: number, numbers: number[], others: unknown[]}} StatsUpdate
 * getStats() in the key order of a StatsLayout
 */
/** @typedef {{numbers: string[], others: string[]}} StatsLayout  getStats() keys */

/**
 * Worker -> page, one of:
 * @typedef {{type: "boot", message: string, bytes?: {loaded: number, total: number}}
 *   | {type: "storage", storage: object}       the storage state changed
 *   | {type: "remote-change"}                   another tab's writer changed the state
 *   | {type: "stats", stats: StatsUpdate}       the counters changed outside a call
 *   | {type: "progress", id: number, progress: [done: number, total: number]}
 *   | {type: "answers", group: number, answers: Answer[], stats: StatsUpdate | null}
 *   | {type: "unreadable", group: number, error: ErrorData}} WorkerMessage
 * answers: stats is the update the group's calls made, when not published in shared memory
 * unreadable: the group message could not be read; each of its calls fails with error
 */

/** The value the "open" call resolves to. The buffer is there when cross-origin isolated.
 * @typedef {{runtime: object, config: object, storage: object,
 *   stats: {layout: StatsLayout, update: StatsUpdate, buffer: SharedArrayBuffer | null}}} Opened
 */

/** @returns {GroupMessage} */
export const groupMessage = (group, calls) => ({ group, calls });

/** Whether data is a readable GroupMessage (anything else is answered as unreadable). */
export function isGroupMessage(data) {
  return data !== null && typeof data === "object" && Number.isInteger(data.group)
    && Array.isArray(data.calls) && data.calls.every((call) => Array.isArray(call)
      && Number.isInteger(call[0]) && typeof call[1] === "string" && Array.isArray(call[2]));
}

/** @returns {WorkerMessage} */
export const answersMessage = (group, answers, stats) => ({ type: "answers", group, answers, stats });
/** @returns {WorkerMessage} */
export const unreadableMessage = (group, error) => ({ type: "unreadable", group, error });
/** @returns {WorkerMessage} */
export const progressMessage = (id, done, total) => ({ type: "progress", id, progress: [done, total] });
/** @returns {WorkerMessage} */
export const statsMessage = (stats) => ({ type: "stats", stats });

// The shared stats buffer: Int32 [sequence, version], then the numbers as Float64. The
// sequence is odd while the worker writes; a reader retries a read that overlapped one.

/** A SharedArrayBuffer for count numbers. */
export const statsBuffer = (count) => new SharedArrayBuffer(8 + 8 * count);

/** Views of a stats buffer: {words: Int32Array [sequence, version], numbers}. */
export const statsView = (buffer) => ({ words: new Int32Array(buffer, 0, 2), numbers: new Float64Array(buffer, 8) });

/** Write an update's numbers (the worker's side). */
export function writeStats({ words, numbers }, update) {
  Atomics.add(words, 0, 1);
  numbers.set(update.numbers);
  Atomics.store(words, 1, update.version);
  Atomics.add(words, 0, 1);
}

/** The sequence number of the last completed write (even). */
export const statsSequence = ({ words }) => Atomics.load(words, 0);

/** Copy the numbers into target (a Float64Array) as of one completed write; returns the
 *  sequence number of that write (the page's side). */
export function readStats({ words, numbers }, target) {
  for (;;) {
    const before = Atomics.load(words, 0);
    if (before % 2 === 0) {
      target.set(numbers);
      if (Atomics.load(words, 0) === before) return before;
    }
  }
}
