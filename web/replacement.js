// Replacing the whole state, by an import or a reset to a new engine: the new state is
// stored first, in one transaction (its snapshot, the journal emptied), and the engine
// takes it only once that succeeded, so a failed write leaves both as they were.

import { durabilityOf } from "./group-commit.js";
import { databaseName } from "./persistence.js";
import { describeWriteError, TypedError } from "./worker-errors.js";

// How long a reset waits for other tabs to close a database it must delete.
const DELETE_WAIT_MS = 30_000;

/** A reset's options may also change this tab's durability, which the engine does not
 *  store: {payload (for Session.prepare_replace), durability}. */
export function replacementOptions(kind, payload, durability) {
  if (kind !== "reset" || payload?.constructor !== Object) return { payload, durability };
  const { durability: asked, ...options } = payload;
  return { payload: options, durability: asked === undefined ? durability : durabilityOf(asked) };
}

/**
 * Store the replacing state's bytes through writer (group-commit.js); resolves to its
 * seq. A database this version cannot open (newer schema) is deleted and created again
 * first: an explicit reset is the way out of it. StorageError when the write fails.
 * host: {name, kind, reopen() (the created database), waiting(message) (another tab
 * delays the deletion), saved() (whether the store took the last write)}.
 */
export async function storeReplacement(writer, bytes, host) {
  if (writer.db === null) {
    await deleteDatabase(host.name, host.waiting);
    writer.db = await host.reopen();
  }
  // a failed write must not use up a sequence number (a gap would be refused on load)
  const seq = writer.lastWritten + 1;
  try {
    await writer.db.replace({ seq, bytes });
  } catch (error) {
    if (!host.saved()) writer.scheduleRetry();
    throw new TypedError("StorageError", `The ${host.kind} was not saved: ${describeWriteError(error)}`);
  }
  writer.superseded(seq);
  return seq;
}

// deleteDatabase waits while another tab keeps a connection open (one that does not
// close on versionchange); say so, and give up after DELETE_WAIT_MS.
function deleteDatabase(engineName, waiting) {
  const name = databaseName(engineName);
  return new Promise((resolve, reject) => {
    const request = indexedDB.deleteDatabase(name);
    let timer = 0;
    request.onsuccess = () => { clearTimeout(timer); resolve(); };
    request.onerror = () => {
      clearTimeout(timer);
      reject(new TypedError("StorageError", `Deleting "${name}" failed: ${describeWriteError(request.error)}`));
    };
    request.onblocked = () => {
      waiting(`Resetting "${engineName}" waits for another tab to close its database "${name}"`);
      timer = setTimeout(() => reject(new TypedError("StorageError",
        `Resetting "${engineName}" gave up after ${DELETE_WAIT_MS / 1000} s: another tab keeps its database `
        + `"${name}" open. Close the other tabs of this site and reset again.`)), DELETE_WAIT_MS);
    };
  });
}
