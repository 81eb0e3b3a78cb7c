// The bench page's one engine through the async API (../cortexkg.js), which api.js and
// side.js share, one measurement at a time: reset to each one's size and durability (a
// new, empty engine in the same worker, as create() makes in a new one: a worker per
// measurement would only add boots), and replaced by the new instance a reopen makes.
// Only a reopen's boot is measured (the restore it times).
import { CortexKG } from "../cortexkg.js";

const NAME = "bench";
let current = null; // the open instance of NAME

/** NAME as a new, empty engine: create(options) the first time (create's options
 *  besides name, e.g. {columns}), then reset(resetOptions) (default: those options). */
export async function engine(options, resetOptions = options) {
  if (current === null) current = await CortexKG.create({ name: NAME, ...options });
  else await current.reset(resetOptions);
  return current;
}

/** Close NAME (without waiting for its idle compaction: the store stays as written) and
 *  open it again in a new instance: what that instance restored. */
export async function reopen() {
  current.close();
  current = await CortexKG.create({ name: NAME });
  return current.storage.restored;
}

/** Close NAME, if open: its worker stops (relaxed: once what was acknowledged is
 *  written), so no idle compaction runs in the background of what is measured next. */
export async function close() {
  const closing = current?.close();
  current = null;
  await closing;
}
