// The engine's configuration in the page's URL: ?name=&columns=&strategy=&dim=&seed=
// &refractoryMs=&backend=&durability=. Missing ones take the facade's defaults. Numbers are passed
// as numbers; anything else is passed as typed, so the engine's error names it.

import { DEFAULTS } from "../cortexkg.js";

const NUMERIC = new Set(["columns", "dim", "seed", "refractoryMs", "activationHalfLifeMs"]);
const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

/** The dashboard's engine unless the URL says otherwise: the API's defaults, but with an
 *  activation that fades (half-life 30 s), so that the grid shows what was used lately. */
export const DASHBOARD_DEFAULTS = Object.freeze({ ...DEFAULTS, activationHalfLifeMs: 30_000 });

/** {config, given, ignored}: the configuration search asks for, the names it gave (a Set),
 *  and parameters it does not know. */
export function readParams(search) {
  const params = new URLSearchParams(search);
  const config = { ...DASHBOARD_DEFAULTS };
  const given = new Set();
  const ignored = [];
  for (const [key, raw] of params) {
    if (!(key in DEFAULTS)) {
      ignored.push(key);
      continue;
    }
    const text = raw.trim();
    config[key] = NUMERIC.has(key) && NUMBER.test(text) ? Number(text) : text;
    given.add(key);
  }
  return { config, given, ignored };
}

/** The query string ("?columns=...") for config, every setting spelled out. */
export function toSearch(config) {
  const params = new URLSearchParams();
  for (const key of Object.keys(DEFAULTS)) {
    if (config[key] !== undefined) params.set(key, String(config[key]));
  }
  return `?${params}`;
}

// What the URL asked for that the engine cannot be, said before the worker is asked:
// a 0-column engine would hold nothing.
export function checkConfig(config) {
  const { columns } = config;
  if (typeof columns === "number" && Number.isInteger(columns) && columns < 1) {
    throw new Error(`The URL asks for an engine of ${columns} columns; an engine needs at least 1 column. ` +
      "Remove columns= from the URL, or give a number from 1 to 268,435,456.");
  }
}
