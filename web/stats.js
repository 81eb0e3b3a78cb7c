// The numeric counters of getStats(), in the order the worker writes them to the shared
// stats buffer (after an Int32 sequence number and 4 bytes of padding); the other fields
// (strategy, backend, enable_simd) travel with the answers.
export const STAT_NUMBERS = Object.freeze([
  "column_count", "allocated", "available", "refractory", "efficiency", "average_time_ms",
  "timing_samples", "total_allocations", "total_deallocations", "usage_hits", "activations",
  "optimization_cycles", "moves_total", "dim", "seed", "refractory_ms",
]);

/** Bytes of the shared stats buffer. */
export const STATS_BYTES = 8 + 8 * STAT_NUMBERS.length;
