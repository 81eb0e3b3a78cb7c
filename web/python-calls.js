// What crosses between durable.js and its Python Session (cortexkg.session), both ways:
// the calls of a group, with runs of plain calls packed (see Session.call_many), and what
// Python returns, converted to JavaScript data.

const toJs = (proxy) => proxy.toJs({ dict_converter: Object.fromEntries, create_pyproxies: false });

/** A StatsUpdate (protocol.js) of Session.stats_update's tuple, converted; null for None. */
export const statsOf = (update) => (update == null ? null : { version: update[0], numbers: update[1], others: update[2] });

// Session.call_many takes consecutive allocateConcept(id) calls without options, or
// consecutive deallocateConcept(id) calls, as one item [method, first id, Uint32Array of
// their concept ids] and runs them as one batch: converting a small array per call into
// Python would cost more than the call. Only valid ids go in (a Uint32Array would wrap
// -1); any other call stays as it is and ends the run.
const RUNS = new Set(["allocateConcept", "deallocateConcept"]);
const MAX_ID = 2 ** 32 - 1;

// allocateConcept(id, undefined) is allocateConcept(id); deallocateConcept takes one argument
const inRun = (method, args) => RUNS.has(method)
  && (args.length === 1 || (args.length === 2 && args[1] === undefined && method === "allocateConcept"))
  && Number.isInteger(args[0]) && args[0] >= 0 && args[0] <= MAX_ID;

export function packRuns(calls) {
  const items = [];
  for (let start = 0; start < calls.length;) {
    const [method, , args] = calls[start];
    let end = start + 1;
    if (inRun(method, args)) {
      while (end < calls.length && calls[end][0] === method && inRun(method, calls[end][2])) end += 1;
    }
    if (end - start === 1) items.push(calls[start]);
    else items.push([method, calls[start][1], Uint32Array.from(calls.slice(start, end), (call) => call[2][0])]);
    start = end;
  }
  return items;
}

/** What a Session method returned, as JavaScript data; the proxy it came in is destroyed. */
export function fromPython(result) {
  if (result?.toJs === undefined) return result;
  try {
    return toJs(result);
  } finally {
    result.destroy();
  }
}
