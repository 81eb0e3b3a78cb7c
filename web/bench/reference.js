// The reference design's AllocationEngine (../../shared/reference/, micro-phase 9.07),
// ported line by line to JavaScript for the benchmark: a measuring instrument, never
// product code. It keeps the Rust original's data structures and their costs on purpose,
// defects included, as cortexkg/bench/baseline.py does in Python:
// - free_columns is a Vec<u32> (here a packed array of small integers): every allocation
//   retains it in place (O(n)), every deallocation pushes and sorts it (O(n log n));
// - allocation_history is a Vec: every deallocation retains it (O(n));
// - allocation_times drops its oldest entry with remove(0) (O(window));
// - defragmentation asks allocation_map.values().any() for every target column (O(n^2))
//   and does not always compact (the target steps past a concept's own column);
// - rebalance is a stub; history is left stale by defragmentation.
// Errors: Rust's Err(JsValue::from_str(message)) is thrown as an Error carrying the same
// message (allocateBatch reports the message string, as the original's `error: e`).
// wasm-bindgen converts a u32 argument with ToUint32; so does this port.

export const NO_FREE_COLUMNS = "No free columns available";
const TIMING_WINDOW = 1000;

// Vec::retain: keep the items for which keep() holds, in place, in order.
function retain(items, keep) {
  let kept = 0;
  for (let i = 0; i < items.length; i++) {
    if (keep(items[i])) items[kept++] = items[i];
  }
  items.length = kept;
}

/** The reference design's AllocationEngine, as is (baseline only, never use). */
export class ReferenceAllocationEngine {
  constructor(columnCount, enableSimd) {
    this.columnCount = columnCount >>> 0;
    this.allocationMap = new Map(); // HashMap<u32, u32>: concept -> column
    this.freeColumns = [];
    for (let column = 0; column < this.columnCount; column++) this.freeColumns.push(column);
    this.allocationHistory = [];
    this.simdEnabled = Boolean(enableSimd);
    this.allocationTimes = [];
    this.optimizationCycles = 0;
  }

  allocateConcept(conceptId) {
    conceptId >>>= 0;
    const startTime = performance.now();
    const existingColumn = this.allocationMap.get(conceptId);
    if (existingColumn !== undefined) return existingColumn;
    const columnId = this.findOptimalColumn(conceptId);
    this.allocationMap.set(conceptId, columnId);
    retain(this.freeColumns, (id) => id !== columnId);
    this.allocationHistory.push({ conceptId, columnId, timestamp: Date.now(), confidence: 1.0 });
    const elapsed = performance.now() - startTime;
    this.allocationTimes.push(elapsed);
    if (this.allocationTimes.length > TIMING_WINDOW) this.allocationTimes.splice(0, 1);
    return columnId;
  }

  deallocateConcept(conceptId) {
    conceptId >>>= 0;
    const columnId = this.allocationMap.get(conceptId);
    if (columnId === undefined) return false;
    this.allocationMap.delete(conceptId);
    this.freeColumns.push(columnId);
    this.freeColumns.sort((a, b) => a - b); // sort_unstable
    retain(this.allocationHistory, (r) => r.conceptId !== conceptId);
    return true;
  }

  findOptimalColumn(conceptId) {
    if (this.freeColumns.length === 0) throw new Error(NO_FREE_COLUMNS);
    // Simple strategy: use first free column (the original's TODO)
    return this.simdEnabled ? this.findOptimalColumnSimd(conceptId) : this.freeColumns[0];
  }

  findOptimalColumnSimd(_conceptId) {
    return this.freeColumns[0];
  }

  allocateBatch(conceptIds) {
    const results = [];
    for (const conceptId of conceptIds) {
      try {
        const columnId = this.allocateConcept(conceptId);
        results.push({ conceptId: conceptId >>> 0, columnId, success: true });
      } catch (error) {
        results.push({ conceptId: conceptId >>> 0, success: false, error: error.message });
      }
    }
    return results;
  }

  optimizeAllocations() {
    const startTime = performance.now();
    let optimizations = this.defragmentAllocations();
    optimizations += this.rebalanceAllocations();
    this.optimizationCycles += 1;
    const elapsed = performance.now() - startTime;
    console.log(`Optimization completed in ${elapsed.toFixed(2)}ms, ${optimizations} changes made`);
    return optimizations;
  }

  defragmentAllocations() {
    let moves = 0;
    // Rust iterates the map while inserting into it (it would not borrow-check); a sorted
    // copy is the only way this can run, as in baseline.py.
    const allocations = [...this.allocationMap.entries()].sort((a, b) => a[1] - b[1]);
    let targetColumn = 0;
    for (const [conceptId, currentColumn] of allocations) {
      // taken by anyone, the concept itself included: the hole it skips is never filled
      while (this.anyAllocatedTo(targetColumn)) targetColumn += 1;
      if (targetColumn < currentColumn) {
        this.allocationMap.set(conceptId, targetColumn);
        moves += 1;
      }
      targetColumn += 1;
    }
    this.updateFreeColumnsList();
    return moves;
  }

  // allocation_map.values().any(|&col| col == column)
  anyAllocatedTo(column) {
    for (const col of this.allocationMap.values()) if (col === column) return true;
    return false;
  }

  rebalanceAllocations() {
    return 0;
  }

  updateFreeColumnsList() {
    const allocatedColumns = new Set(this.allocationMap.values());
    this.freeColumns = [];
    for (let col = 0; col < this.columnCount; col++) {
      if (!allocatedColumns.has(col)) this.freeColumns.push(col);
    }
  }

  getAllocationInfo(conceptId) {
    return this.allocationMap.get(conceptId >>> 0); // Option<u32>: undefined when none
  }

  getFreeColumnCount() {
    return this.freeColumns.length;
  }

  getAllocatedCount() {
    return this.allocationMap.size;
  }

  getAverageTime() {
    if (this.allocationTimes.length === 0) return 0.0;
    let sum = 0;
    for (const t of this.allocationTimes) sum += t;
    return sum / this.allocationTimes.length;
  }

  getAllocationEfficiency() { // f32 arithmetic
    const totalColumns = Math.fround(this.columnCount);
    const allocatedColumns = Math.fround(this.allocationMap.size);
    return totalColumns > 0 ? Math.fround(allocatedColumns / totalColumns) : 0.0;
  }

  getAllocationHistory() {
    return this.allocationHistory.map((r) => ({
      conceptId: r.conceptId, columnId: r.columnId, timestamp: r.timestamp, confidence: r.confidence,
    }));
  }
}
