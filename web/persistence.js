// IndexedDB storage of one engine: the latest snapshot plus the journal of operations
// since it. A thin, promise-based layer that keeps IndexedDB's own vocabulary
// (databases, object stores, transactions), in the manner of Jake Archibald's idb.
//
// Database "cortexkg:<name>", schema version 2, object stores:
//   meta       key "meta": {format: "cortexkg-db", schema, name, config, lastSeq}
//              (config: the engine's options, from which a journal without a snapshot starts)
//   snapshots  key "current": {seq, bytes: Blob}   the engine's snapshot() bytes
//   journal    keyPath "seq": {seq, method, args, readings}   one record per mutation
// Version 1 stored the snapshot bytes as a Uint8Array; Chromium writes and reads a Blob of
// the same 27 MB (1M columns) three times faster, so version 2 stores Blobs.
//
// Writes are acknowledged only when their transaction's "complete" event fires with
// durability "strict". The worker runs here; the page never touches the database.

export const SCHEMA_VERSION = 2;
export const FORMAT = "cortexkg-db";
const STORES = ["meta", "snapshots", "journal"];

/** Stored data this version cannot use: corrupt, foreign or from a newer schema. */
export class StoredStateError extends Error {
  name = "StoredStateError";
}

export function databaseName(engineName) {
  return `cortexkg:${engineName}`;
}

async function bytesOf(blob) {
  return new Uint8Array(await blob.arrayBuffer());
}

/** Resolve a request's result; reject with its error. */
function done(request) {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

/** Resolve when a transaction commits; reject with its error when it aborts. */
function committed(transaction) {
  return new Promise((resolve, reject) => {
    transaction.oncomplete = () => resolve();
    transaction.onabort = () => reject(transaction.error ?? new DOMException("Transaction aborted", "AbortError"));
    transaction.onerror = (event) => event.preventDefault(); // reported once, by onabort
  });
}

/**
 * Open the engine's database. With upgrade (the default) it is created or upgraded to
 * SCHEMA_VERSION; without, it is opened at the version it has (null when there is none),
 * so that data of an older schema can be read and checked before anything is written.
 * onVersionChange() runs when another context needs a newer schema: the connection is
 * closed first, as the spec asks.
 */
export async function openDatabase(engineName, { onVersionChange, upgrade: upgrading = true } = {}) {
  const request = upgrading
    ? indexedDB.open(databaseName(engineName), SCHEMA_VERSION)
    : indexedDB.open(databaseName(engineName));
  let refused = null; // why an upgrade was abandoned, leaving the data as it was
  let absent = false;
  request.onupgradeneeded = (event) => {
    if (!upgrading) {
      absent = true; // it did not exist: create nothing
      request.transaction.abort();
      return;
    }
    refused = upgrade(request.result, event.oldVersion, request.transaction);
    if (refused !== null) request.transaction.abort();
  };
  let blocked = false;
  request.onblocked = () => { blocked = true; };
  let db;
  try {
    db = await done(request);
  } catch (error) {
    if (absent) return null;
    if (refused !== null) throw new StoredStateError(`The stored data of "${engineName}" ${refused}; it was left untouched.`);
    if (error?.name === "VersionError") throw newerSchema(engineName);
    if (blocked) throw new StoredStateError(`Opening "${engineName}" is blocked by another tab with an older version open.`);
    throw error;
  }
  db.onversionchange = () => {
    db.close();
    onVersionChange?.();
  };
  if (db.version > SCHEMA_VERSION) {
    db.close();
    throw newerSchema(engineName);
  }
  const missing = STORES.filter((store) => !db.objectStoreNames.contains(store));
  if (missing.length > 0) {
    db.close();
    throw new StoredStateError(`The database "${databaseName(engineName)}" is not CortexKG's: it lacks ${missing.join(", ")}.`);
  }
  return new Database(db, engineName);
}

function newerSchema(engineName) {
  return new StoredStateError(
    `The stored data of "${engineName}" comes from a newer version of CortexKG (schema above ${SCHEMA_VERSION}); it was left untouched.`);
}

/**
 * Everything stored for the engine, as it is and whatever its schema (the raw export of
 * data that cannot be loaded): {store: [[key, value], ...]}, snapshot Blobs as bytes.
 * Opens the database at its own version, so nothing is upgraded; {} when there is none.
 */
export async function dumpDatabase(engineName) {
  const request = indexedDB.open(databaseName(engineName));
  request.onupgradeneeded = () => request.transaction.abort(); // it did not exist: create nothing
  let db;
  try {
    db = await done(request);
  } catch (error) {
    if (error?.name === "AbortError") return {};
    throw error;
  }
  try {
    const stores = [...db.objectStoreNames];
    if (stores.length === 0) return {};
    const tx = db.transaction(stores, "readonly");
    const requests = stores.map((name) => {
      const store = tx.objectStore(name);
      return Promise.all([done(store.getAllKeys()), done(store.getAll())]);
    });
    const results = await Promise.all([...requests, committed(tx)]);
    const entries = stores.map(async (name, i) => {
      const [keys, values] = results[i];
      const readable = await Promise.all(values.map(async (value) => (
        value?.bytes instanceof Blob ? { ...value, bytes: await bytesOf(value.bytes) } : value)));
      return [name, keys.map((key, j) => [key, readable[j]])];
    });
    return Object.fromEntries(await Promise.all(entries));
  } finally {
    db.close();
  }
}

// Schema upgrades inside the versionchange transaction, one step per version. Returns
// null, or why the stored data cannot be upgraded (the caller aborts: nothing changes).
function upgrade(db, oldVersion, transaction) {
  if (oldVersion < 1) {
    db.createObjectStore("meta");
    db.createObjectStore("snapshots");
    db.createObjectStore("journal", { keyPath: "seq" });
    return null;
  }
  const missing = STORES.filter((store) => !db.objectStoreNames.contains(store));
  if (missing.length > 0) return `is not CortexKG's: it lacks ${missing.join(", ")}`;
  if (oldVersion < 2) snapshotBytesToBlob(transaction);
  return null;
}

// 1 -> 2: the snapshot's bytes become a Blob, and meta records the new schema. Anything
// that is not a well-formed version 1 record stays as it is, for recovery to refuse.
function snapshotBytesToBlob(transaction) {
  const meta = transaction.objectStore("meta");
  const snapshots = transaction.objectStore("snapshots");
  done(meta.get("meta")).then((record) => {
    if (record?.format === FORMAT && record.schema === 1) meta.put({ ...record, schema: 2 }, "meta");
  });
  done(snapshots.get("current")).then((record) => {
    if (record?.bytes instanceof Uint8Array) snapshots.put({ ...record, bytes: new Blob([record.bytes]) }, "current");
  });
}

export class Database {
  #db;

  /** The engine options stored with every write (set by the owner before writing). */
  config = null;

  constructor(db, engineName) {
    this.#db = db;
    this.engineName = engineName;
  }

  /** The schema version the database is at (below SCHEMA_VERSION until upgraded). */
  get version() {
    return this.#db.version;
  }

  close() {
    this.#db.close();
  }

  /** Everything recovery needs, read in one transaction, checked for consistency. */
  async read() {
    // every request is placed at once: a transaction does not outlive an await
    const tx = this.#db.transaction(STORES, "readonly");
    const [meta, snapshot, records] = await Promise.all([
      done(tx.objectStore("meta").get("meta")),
      done(tx.objectStore("snapshots").get("current")),
      done(tx.objectStore("journal").getAll()),
      committed(tx),
    ]);
    checkStored(this.engineName, this.#db.version, meta, snapshot, records);
    if (snapshot?.bytes instanceof Blob) snapshot.bytes = await bytesOf(snapshot.bytes);
    return { meta, snapshot, records };
  }

  /**
   * Write journal records and, optionally, a snapshot that supersedes every record up to
   * its seq (compaction), all in one strict transaction.
   */
  async write({ records = [], snapshot = null, lastSeq }) {
    // the scope is the stores written: the journal-only write of every mutation does not
    // lock the snapshot store (no gain measurable on a loaded machine, docs/bench/notes.md)
    const stores = snapshot === null ? ["meta", "journal"] : STORES;
    const tx = this.#db.transaction(stores, "readwrite", { durability: "strict" });
    const journal = tx.objectStore("journal");
    for (const record of records) {
      if (snapshot === null || record.seq > snapshot.seq) journal.put(record);
    }
    if (snapshot !== null) {
      tx.objectStore("snapshots").put({ seq: snapshot.seq, bytes: snapshot.bytes }, "current");
      journal.delete(IDBKeyRange.upperBound(snapshot.seq));
    }
    tx.objectStore("meta").put(this.#meta(lastSeq), "meta");
    // nothing more will be placed: without commit(), the transaction commits only once the
    // puts' results came back to this thread (docs/bench/notes.md, "Awaited calls")
    tx.commit();
    await committed(tx);
  }

  /** Replace everything by one snapshot (import, reset), atomically. */
  async replace(snapshot) {
    const tx = this.#db.transaction(STORES, "readwrite", { durability: "strict" });
    tx.objectStore("journal").clear();
    if (snapshot === null) tx.objectStore("snapshots").clear();
    else tx.objectStore("snapshots").put(snapshot, "current");
    tx.objectStore("meta").put(this.#meta(snapshot?.seq ?? 0), "meta");
    await committed(tx);
  }

  #meta(lastSeq) {
    return { format: FORMAT, schema: SCHEMA_VERSION, name: this.engineName, config: this.config, lastSeq };
  }
}

// What recovery refuses: anything it cannot replay exactly.
function checkStored(engineName, schema, meta, snapshot, records) {
  const where = `The stored data of "${engineName}"`;
  if (meta === undefined) {
    if (snapshot !== undefined || records.length > 0) throw new StoredStateError(`${where} has no meta record.`);
    return;
  }
  if (meta?.format !== FORMAT) throw new StoredStateError(`${where} is not CortexKG's (format ${JSON.stringify(meta?.format)}).`);
  if (meta.schema !== schema) {
    throw new StoredStateError(`${where} has schema ${JSON.stringify(meta.schema)}, expected ${schema}.`);
  }
  if (typeof meta.config !== "object" || meta.config === null) {
    throw new StoredStateError(`${where} lacks the engine's options in its meta record.`);
  }
  // schema 1 stored the snapshot's bytes as a Uint8Array, schema 2 as a Blob
  const bytesType = schema === 1 ? Uint8Array : Blob;
  if (snapshot !== undefined && !(Number.isInteger(snapshot?.seq) && snapshot.bytes instanceof bytesType)) {
    throw new StoredStateError(`${where} holds a malformed snapshot record.`);
  }
  let expected = (snapshot?.seq ?? 0) + 1;
  for (const record of records) {
    checkRecord(where, record);
    if (record.seq !== expected) {
      throw new StoredStateError(`${where} has a gap in its journal: record ${expected} is missing.`);
    }
    expected += 1;
  }
  if (expected - 1 !== meta.lastSeq) {
    throw new StoredStateError(
      `${where} has a truncated journal: it ends at record ${expected - 1}, but ${meta.lastSeq} were acknowledged.`);
  }
}

// A journal record as written: {seq, method, args, readings}, its args at most
// RECORD_DEPTH deep (ids, embeddings). Anything else is refused before Python converts it,
// which would recurse once per level.
const RECORD_DEPTH = 4;

function checkRecord(where, record) {
  const shaped = record !== null && typeof record === "object" && typeof record.method === "string"
    && Array.isArray(record.args) && Array.isArray(record.readings)
    && record.readings.every((reading) => typeof reading === "number");
  if (!shaped) throw new StoredStateError(`${where} holds a malformed journal record (seq ${describeSeq(record)}).`);
  if (!depthAtMost(record.args, RECORD_DEPTH)) {
    throw new StoredStateError(
      `${where} holds journal record ${describeSeq(record)} nested deeper than ${RECORD_DEPTH} levels.`);
  }
}

function describeSeq(record) {
  return String(JSON.stringify(record?.seq)).slice(0, 20);
}

// Whether value nests at most limit arrays or objects deep, walked without recursion (a
// typed array is one level; cycles are too deep).
function depthAtMost(value, limit) {
  const stack = [[value, 1]];
  while (stack.length > 0) {
    const [item, depth] = stack.pop();
    if (item === null || typeof item !== "object" || ArrayBuffer.isView(item)) continue;
    if (depth > limit) return false;
    for (const child of Object.values(item)) stack.push([child, depth + 1]);
  }
  return true;
}
