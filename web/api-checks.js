// The checks of the API's arguments that the page makes itself, before anything is sent
// to a worker, and the constants they check against. The engine checks everything again;
// these exist so that what cannot be sent (or would be read wrongly on the way) is refused
// with the engine's kind of message, naming the value. Used by cortexkg.js (the async API),
// engine-class.js (the synchronous engine) and group-commit.js (the durability options).

import { InvalidInputError } from "./errors.js";
import { ENGINE_DEFAULTS } from "./tables.js"; // generated from py/cortexkg/tables.py

/** The most ids one batch takes (cortexkg.validation.MAX_BATCH_LENGTH): checked here
 *  too, so that a larger one is refused before it is copied to the worker. */
export const MAX_BATCH_LENGTH = 2 ** 23;

/** The longest engine name: it names a database, a lock and a channel. */
export const MAX_NAME_LENGTH = 256;

/** The options of create() that configure the engine, and their defaults (those of the
 *  Python facade, and this instance's durability: "strict" or "relaxed"); create() also
 *  takes onProgress and assetsURL. */
export const DEFAULTS = Object.freeze({ ...ENGINE_DEFAULTS, durability: "strict" });

/** The durability options: "strict" acknowledges a mutation once its record is committed,
 *  "relaxed" once it is applied (web/durable.js). */
export const DURABILITIES = Object.freeze(["strict", "relaxed"]);

/** Relaxed durability's bound: no mutation is acknowledged while a change acknowledged
 *  more than this many ms earlier is not committed, so a crash loses at most the changes
 *  acknowledged in this many ms before the last acknowledgment. */
export const RELAXED_WINDOW_MS = 8;

/** Raw bytes are no ids: a Uint32Array's buffer would be read one byte per id. A hole or
 *  undefined is refused here, at once: the worker would first convert every index of the
 *  array (a sparse array's length can be 2**32 - 1). Throws InvalidInputError. */
export function checkIds(conceptIds) {
  if (conceptIds?.length > MAX_BATCH_LENGTH) {
    throw new InvalidInputError(
      `Invalid concept id batch of ${conceptIds.length} ids: expected at most ${MAX_BATCH_LENGTH}`);
  }
  if (conceptIds instanceof ArrayBuffer || conceptIds instanceof DataView
      || (typeof SharedArrayBuffer !== "undefined" && conceptIds instanceof SharedArrayBuffer)) {
    throw new InvalidInputError(
      `Invalid concept id batch ${conceptIds.constructor.name} of ${conceptIds.byteLength} bytes: expected an array or a typed array of ids (e.g. new Uint32Array(buffer))`);
  }
  if (Array.isArray(conceptIds) && conceptIds.includes(undefined)) {
    const index = conceptIds.findIndex((id) => id === undefined);
    throw new InvalidInputError(
      `Invalid concept id ${index in conceptIds ? "undefined" : "undefined (a hole)"} at batch index ${index} `
      + `of ${conceptIds.length}: expected an integer in 0..${2 ** 32 - 1}`);
  }
}

/**
 * The folder of the runtime assets (site.json, vendor/, ...) as an absolute URL string:
 * value (a string or URL, relative to the page or worker) or, when undefined, the folder
 * of moduleURL. Throws InvalidInputError for anything that is not a folder URL ending in "/".
 */
export function assetsFolder(value, moduleURL) {
  if (value === undefined) return new URL("./", moduleURL).href;
  let url = null;
  if (typeof value === "string" || value instanceof URL) {
    try {
      url = new URL(value, globalThis.document?.baseURI ?? globalThis.location?.href);
    } catch {
      // reported below, with what was expected
    }
  }
  if (url === null || !["http:", "https:"].includes(url.protocol) || !url.pathname.endsWith("/")
      || url.search !== "" || url.hash !== "") {
    throw new InvalidInputError(
      `Invalid assetsURL ${describe(value)}: expected the URL of the folder that serves site.json, ending in "/" (e.g. "/cortexkg/")`);
  }
  return url.href;
}

// A call's options: an object, or undefined (and, but for reset, which destroys the state,
// null) for none. Anything else would be read as no options (a number, a boxed value, a
// Date) or as its indices (a string, an array).
export function optionsOf(options, method) {
  if (options === undefined || (options === null && method !== "reset")) return {};
  if (Object.prototype.toString.call(options) !== "[object Object]") {
    throw new InvalidInputError(`Invalid ${method} options ${describe(options)}: expected an object`);
  }
  return options;
}

export function checkProgress(onProgress) {
  if (onProgress !== undefined && onProgress !== null && typeof onProgress !== "function") {
    throw new InvalidInputError(`Invalid onProgress ${describe(onProgress)}: expected a function`);
  }
}

// A value for a message: short, whatever it is.
export function describe(value) {
  let text;
  try {
    if (ArrayBuffer.isView(value)) text = `${value.constructor.name} of ${value.byteLength} bytes`;
    else if (typeof value === "bigint") text = `${value}n`;
    else if (typeof value === "string" || Array.isArray(value)) text = JSON.stringify(value);
    else text = String(value);
  } catch {
    text = Object.prototype.toString.call(value); // e.g. an array nested too deep to print
  }
  return text.length > 80 ? `${text.slice(0, 77)}... (${text.length} characters)` : text;
}
