// The synchronous engine's AllocationEngine class (engine.js boots the runtime and makes
// it): every method a synchronous call into the thread's Python engine, its failures
// thrown as the async API's error classes.
//
// The hot path: when every argument is a number, a method calls the Python engine's
// bound method directly (a number arrives as a Python int, an int result comes back as
// a number: nothing else is converted, no answer object is built). allocateConcept
// reads performance.now() and Date.now() here and passes them in (allocate_concept_at):
// its recorded allocation time runs from the JavaScript call to the allocation. Other arguments go
// through cortexkg._sync_engine, which converts them as the worker's session does.
import { checkIds } from "./cortexkg.js";
import { CortexKGError, errorOf, InvalidInputError, NotInitializedError } from "./errors.js";

// The Python host clock in this thread is timeOrigin + performance.now() (cortexkg/host.py)
const ORIGIN = performance.timeOrigin;
const TO_JS = { dict_converter: Object.fromEntries, create_pyproxies: false };

/** A Python result as JavaScript data (as the worker answers); its proxy is destroyed. */
function toJs(result) {
  if (result?.toJs === undefined) return result;
  try {
    return result.toJs(TO_JS);
  } finally {
    result.destroy();
  }
}

function closed() {
  throw new NotInitializedError("AllocationEngine is destroyed");
}

// A progress callback never throws into Python (half a batch would be applied): its
// errors are reported, as an event listener's are.
function reporting(onProgress) {
  if (onProgress === undefined || onProgress === null) return undefined;
  if (typeof onProgress !== "function") {
    throw new InvalidInputError(`Invalid onProgress ${typeof onProgress}: expected a function (done, total)`);
  }
  return (done, total) => {
    try {
      onProgress(done, total);
    } catch (error) {
      reportError(error);
    }
  };
}

/** The AllocationEngine class over a booted thread's cortexkg._sync_engine module. */
export function engineClass(PythonError, python) {
  const lastError = python.last_error;
  const ADOPT = Symbol("adopt"); // importState's private way into the constructor

  // A thrown Python exception as the API's error class, named in Python as the worker
  // session names it; the engine's own errors (NotInitializedError) pass as they are.
  function typed(error) {
    if (error instanceof CortexKGError) return error;
    if (!(error instanceof PythonError)) return new CortexKGError(error?.message ?? String(error));
    const [type, message] = toJs(lastError());
    return errorOf({ type, message });
  }

  /** The CortexKG allocation engine, every method synchronous (see engine.d.ts). */
  class AllocationEngine {
    #calls; // name -> a PyProxy: the bound methods, then the engines they came from

    /**
     * columnCount columns, all free. Options (defaults as CortexKG.create's): strategy,
     * dim, seed, refractoryMs, activationHalfLifeMs, backend. Throws InvalidInputError for a bad value.
     */
    constructor(columnCount, enableSimd = true, options = undefined) {
      let engine;
      try {
        engine = columnCount === ADOPT ? enableSimd : python.create(columnCount, enableSimd, options);
      } catch (error) {
        throw typed(error);
      }
      // attribute proxies are borrowed: they live until the proxy they came from is destroyed
      const core = engine.engine;
      this.#calls = {
        allocate: core.allocate_concept_at,
        deallocate: core.deallocate_concept,
        activate: core.activate_concept,
        optimize: core.optimize_allocations,
        info: core.get_allocation_info,
        free: core.get_free_column_count,
        allocated: core.get_allocated_count,
        averageTime: core.get_average_time,
        efficiency: core.get_allocation_efficiency,
        times: core.get_allocation_times,
        timeKinds: core.get_allocation_time_kinds,
        fragmentation: core.fragmentation,
        stats: core.stats,
        column: core.column,
        validate: core.validate,
        call: engine.call,
        allocateWith: engine.allocate_concept,
        allocateBatch: engine.allocate_batch,
        deallocateBatch: engine.deallocate_batch,
        history: engine.get_allocation_history,
        columnStates: engine.get_column_states,
        exportState: engine.export_state,
        core,
        engine,
      };
    }

    /**
     * A new engine from an export file (Uint8Array or ArrayBuffer, as exportState()
     * gives); throws StateError naming what is wrong with it. Options: {backend}.
     */
    static importState(bytes, options = undefined) {
      let engine;
      try {
        engine = python.import_state(bytes instanceof ArrayBuffer ? new Uint8Array(bytes) : bytes, options);
      } catch (error) {
        throw typed(error);
      }
      return new AllocationEngine(ADOPT, engine);
    }

    // Live Python objects and engines in this thread, after a full collection: a hook for
    // the tests (a leak shows as growth), not API, so engine.d.ts leaves it out.
    static __diagnostics() {
      return toJs(python.diagnostics());
    }

    // --- mutations ---

    /** Allocate a concept (idempotent); returns its column. Options: {embedding}. */
    allocateConcept(conceptId, options) {
      try {
        // the start and wall-clock readings taken here: a reading from Python costs a
        // crossing into JavaScript (~0.7 µs each); the engine reads the end itself
        return typeof conceptId === "number" && options === undefined
          ? this.#calls.allocate(conceptId, ORIGIN + performance.now(), Date.now())
          : this.#calls.allocateWith(conceptId, options);
      } catch (error) {
        throw typed(error);
      }
    }

    /** Release a concept; false when it was not allocated. */
    deallocateConcept(conceptId) {
      try {
        return typeof conceptId === "number"
          ? this.#calls.deallocate(conceptId)
          : this.#calls.call("deallocate_concept", conceptId);
      } catch (error) {
        throw typed(error);
      }
    }

    /**
     * Allocate many (an array or a typed array): one {conceptId, columnId, success: true}
     * | {conceptId, success: false, error} per id, or with {columnar: true}
     * {conceptIds, columnIds (-1 = failed), errors}. Options: {embeddings, columnar,
     * onProgress(done, total)}.
     */
    allocateBatch(conceptIds, options = {}) {
      checkIds(conceptIds);
      const { onProgress, ...rest } = options ?? {};
      try {
        return toJs(this.#calls.allocateBatch(conceptIds, rest, reporting(onProgress)));
      } catch (error) {
        throw typed(error);
      }
    }

    /** Release many; the shapes of allocateBatch (columnIds: the released column). */
    deallocateBatch(conceptIds, options = {}) {
      checkIds(conceptIds);
      const { onProgress, ...rest } = options ?? {};
      try {
        return toJs(this.#calls.deallocateBatch(conceptIds, rest, reporting(onProgress)));
      } catch (error) {
        throw typed(error);
      }
    }

    /** Raise a concept's activation by strength (capped at 1); returns the new value. */
    activateConcept(conceptId, strength = 1) {
      try {
        return typeof conceptId === "number" && typeof strength === "number"
          ? this.#calls.activate(conceptId, strength)
          : this.#calls.call("activate_concept", conceptId, strength);
      } catch (error) {
        throw typed(error);
      }
    }

    /** Defragment and rebalance; returns the number of concepts that moved. */
    optimizeAllocations() {
      try {
        return this.#calls.optimize();
      } catch (error) {
        throw typed(error);
      }
    }

    // --- queries ---

    /** The concept's column, or null. */
    getAllocationInfo(conceptId) {
      try {
        return (typeof conceptId === "number"
          ? this.#calls.info(conceptId)
          : this.#calls.call("get_allocation_info", conceptId)) ?? null;
      } catch (error) {
        throw typed(error);
      }
    }

    getFreeColumnCount() {
      try {
        return this.#calls.free();
      } catch (error) {
        throw typed(error);
      }
    }

    getAllocatedCount() {
      try {
        return this.#calls.allocated();
      } catch (error) {
        throw typed(error);
      }
    }

    /** Mean of the last 1000 allocation times, in ms. */
    getAverageTime() {
      try {
        return this.#calls.averageTime();
      } catch (error) {
        throw typed(error);
      }
    }

    /** Allocated / columns, a fraction in [0, 1]. */
    getAllocationEfficiency() {
      try {
        return this.#calls.efficiency();
      } catch (error) {
        throw typed(error);
      }
    }

    /** Live allocations in allocation order; {start, stop} slice like Array.prototype.slice. */
    getAllocationHistory(range = {}) {
      try {
        return toJs(this.#calls.history(range));
      } catch (error) {
        throw typed(error);
      }
    }

    /** The last (up to 1000) allocation times in ms, oldest first (Float64Array). */
    getAllocationTimes() {
      try {
        return toJs(this.#calls.times());
      } catch (error) {
        throw typed(error);
      }
    }

    /** What each of getAllocationTimes() is (Uint8Array): 0 a single call's own time, 1 a
     *  batch item's (its batch's mean), 2 unknown (restored from an older snapshot). */
    getAllocationTimeKinds() {
      try {
        return toJs(this.#calls.timeKinds());
      } catch (error) {
        throw typed(error);
      }
    }

    /** 1 - largest free run / free columns. */
    getFragmentation() {
      try {
        return this.#calls.fragmentation();
      } catch (error) {
        throw typed(error);
      }
    }

    /** Every engine counter in one object. */
    getStats() {
      try {
        return toJs(this.#calls.stats());
      } catch (error) {
        throw typed(error);
      }
    }

    /** Typed arrays, one per field: state (0 available, 1 allocated, 2 refractory),
     *  concept, activation, usage, confidence. */
    getColumnStates() {
      try {
        return toJs(this.#calls.columnStates());
      } catch (error) {
        throw typed(error);
      }
    }

    /** One column: {id, conceptId, activation, state, usage, confidence, timestamp, field}. */
    getColumn(columnId) {
      let column;
      try {
        column = toJs(typeof columnId === "number"
          ? this.#calls.column(columnId)
          : this.#calls.call("column", columnId));
      } catch (error) {
        throw typed(error);
      }
      for (const key of ["conceptId", "confidence", "timestamp"]) column[key] ??= null;
      return column;
    }

    /** Returns when every engine invariant holds; throws StateError otherwise. */
    validate() {
      try {
        this.#calls.validate();
      } catch (error) {
        throw typed(error);
      }
    }

    /** The whole state as one versioned, checksummed export file (Uint8Array). */
    exportState() {
      try {
        return toJs(this.#calls.exportState());
      } catch (error) {
        throw typed(error);
      }
    }

    /** Free the Python engine; every later call throws NotInitializedError. */
    destroy() {
      const calls = this.#calls;
      if (calls.engine === closed) return;
      this.#calls = Object.fromEntries(Object.keys(calls).map((name) => [name, closed]));
      for (const proxy of Object.values(calls)) proxy.destroy(); // the engines last
    }
  }

  return AllocationEngine;
}
