// What the user types into the id fields, turned into what the API takes. Pure functions,
// no DOM. Text that is no concept id is explained here, in plain words, before anything
// reaches the engine; the engine stays the judge of everything else.

export const MAX_CONCEPT_ID = 0xffffffff;

// Batches are built in memory as typed arrays; beyond this the page would only run out
// of memory, never of columns (an engine has at most 2**28 columns).
export const MAX_BATCH = 1 << 28;

/** An error in what was typed, found before anything reaches the engine. */
export class InputError extends Error {
  constructor(message) {
    super(message);
    this.name = "InputError";
  }
}

const WHOLE = /^[+-]?\d+$/;
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const ID_RANGE = "a concept id is a whole number from 0 to 4,294,967,295";

/** The concept id typed in text, as a number; an InputError in plain words otherwise. */
export function conceptIdFromText(text) {
  const trimmed = text.trim();
  if (trimmed === "") throw new InputError(`Enter a concept id: ${ID_RANGE}.`);
  const shown = trimmed.length > 40 ? `${trimmed.slice(0, 37)}…` : trimmed;
  if (!DECIMAL.test(trimmed)) throw new InputError(`“${shown}” is not a whole number: ${ID_RANGE}.`);
  if (!WHOLE.test(trimmed)) throw new InputError(`${shown} is not a whole number: ${ID_RANGE}.`);
  const id = Number(trimmed);
  if (id < 0) throw new InputError(`${shown} is below 0: ${ID_RANGE}.`);
  if (id > MAX_CONCEPT_ID) throw new InputError(`${shown} is above 4,294,967,295: ${ID_RANGE}.`);
  return id;
}

const RANGE = /^(\d+)\s*(?:-|–|\.\.)\s*(\d+)$/;
const COUNT = /^\d+$/;

/**
 * A batch field's text: {kind: "range", first, last} for "1-50000" (inclusive; "1..50000"
 * works too) or {kind: "count", count} for "1000". Anything else is an InputError.
 */
export function parseBatch(text) {
  const trimmed = text.trim().replaceAll(/[,_ ](?=\d{3}\b)/g, "");
  const range = RANGE.exec(trimmed);
  if (range) {
    const first = Number(range[1]);
    const last = Number(range[2]);
    if (last > MAX_CONCEPT_ID) {
      throw new InputError(`Invalid range ${text.trim()}: ids go up to ${MAX_CONCEPT_ID}.`);
    }
    if (first > last) {
      throw new InputError(`Invalid range ${text.trim()}: the first id is above the last.`);
    }
    if (last - first + 1 > MAX_BATCH) {
      throw new InputError(`Invalid range ${text.trim()}: at most ${MAX_BATCH} ids per batch.`);
    }
    return { kind: "range", first, last };
  }
  if (COUNT.test(trimmed)) {
    const count = Number(trimmed);
    if (count < 1 || count > MAX_BATCH) {
      throw new InputError(`Invalid count ${trimmed}: expected 1..${MAX_BATCH}.`);
    }
    return { kind: "count", count };
  }
  throw new InputError(
    `Invalid batch ${JSON.stringify(text.trim())}: expected a range such as 1-50000 or a count such as 1000.`,
  );
}

/** Uint32Array of first..last inclusive. */
export function rangeIds(first, last) {
  const ids = new Uint32Array(last - first + 1);
  for (let i = 0; i < ids.length; i++) ids[i] = first + i;
  return ids;
}

/**
 * The next `count` ids nobody uses: those after the highest allocated concept id (0 when
 * nothing is allocated), read from a getColumnStates() snapshot. When they would pass the
 * id space, the lowest unused ids instead.
 */
export function nextUnusedIds(snapshot, count) {
  const { state, concept } = snapshot;
  let highest = -1;
  for (let i = 0; i < state.length; i++) {
    if (state[i] === 1 && concept[i] > highest) highest = concept[i];
  }
  if (highest + count <= MAX_CONCEPT_ID) return rangeIds(highest + 1, highest + count);

  const used = new Set();
  for (let i = 0; i < state.length; i++) if (state[i] === 1) used.add(concept[i]);
  const ids = new Uint32Array(count);
  for (let id = 0, n = 0; n < count; id++) if (!used.has(id)) ids[n++] = id;
  return ids;
}
