// Type declarations of web/engine.js, the synchronous engine: every method of the async
// API's engine (cortexkg.d.ts), answered in the calling thread, without persistence.

import type {
  AllocationResult,
  Backend,
  BatchOptions,
  BootBytes,
  Column,
  ColumnarResult,
  ColumnStates,
  ConceptId,
  ConceptIds,
  CreateOptions,
  DeallocationResult,
  Embedding,
  HistoryRecord,
  Runtime,
  Stats,
} from "./cortexkg.js";

/** The engine options of CortexKG.create(), with its defaults. */
export type EngineOptions = Pick<CreateOptions,
  "strategy" | "dim" | "seed" | "refractoryMs" | "activationHalfLifeMs" | "backend">;

export interface LoadOptions {
  /** Hears each boot step of the first loadEngine() in this thread and, while the runtime
   *  downloads, each hundredth of it: bytes received so far of total. */
  onProgress?: (message: string, bytes?: BootBytes) => void;
  /** The folder that serves the runtime assets (site.json, vendor/, wheels/, kernel/), as a
   *  URL ending in "/", absolute or relative to this thread's location; default: the folder
   *  of this module (engine.js). The first loadEngine() in a thread boots from it. */
  assetsURL?: string | URL;
}

/**
 * The CortexKG allocation engine, every method synchronous. Failures throw the error
 * classes of cortexkg.js (AllocationError, InvalidInputError, StateError, and
 * NotInitializedError after destroy()) with the engine's message.
 */
export declare class AllocationEngine {
  /** columnCount columns, all free (InvalidInputError for a bad value or option). */
  constructor(columnCount: number, enableSimd?: boolean, options?: EngineOptions);
  /** A new engine from an export file (StateError naming what is wrong with it). */
  static importState(bytes: Uint8Array | ArrayBuffer, options?: { backend?: Backend }): AllocationEngine;

  allocateConcept(conceptId: ConceptId, options?: { embedding?: Embedding }): number;
  deallocateConcept(conceptId: ConceptId): boolean;
  allocateBatch(conceptIds: ConceptIds, options?: BatchOptions & { columnar?: false; embeddings?: (Embedding | null)[] }): AllocationResult[];
  allocateBatch(conceptIds: ConceptIds, options: BatchOptions & { columnar: true; embeddings?: (Embedding | null)[] }): ColumnarResult;
  allocateBatch(conceptIds: ConceptIds, options?: BatchOptions & { embeddings?: (Embedding | null)[] }): AllocationResult[] | ColumnarResult;
  deallocateBatch(conceptIds: ConceptIds, options?: BatchOptions & { columnar?: false }): DeallocationResult[];
  deallocateBatch(conceptIds: ConceptIds, options: BatchOptions & { columnar: true }): ColumnarResult;
  deallocateBatch(conceptIds: ConceptIds, options?: BatchOptions): DeallocationResult[] | ColumnarResult;
  activateConcept(conceptId: ConceptId, strength?: number): number;
  optimizeAllocations(): number;

  getAllocationInfo(conceptId: ConceptId): number | null;
  getFreeColumnCount(): number;
  getAllocatedCount(): number;
  /** Mean of the last 1000 allocation times in ms; allocateConcept times each from its
   *  JavaScript call to the allocation (the JS→Python crossing included). */
  getAverageTime(): number;
  getAllocationEfficiency(): number;
  getAllocationHistory(range?: { start?: number; stop?: number }): HistoryRecord[];
  getAllocationTimes(): Float64Array;
  /** What each of getAllocationTimes() is: 0 a single call's own time, 1 a batch item's
   *  (its batch's mean), 2 unknown (restored from a snapshot made before kinds were kept). */
  getAllocationTimeKinds(): Uint8Array;
  getFragmentation(): number;
  getStats(): Stats;
  getColumnStates(): ColumnStates;
  getColumn(columnId: number): Column;
  validate(): void;
  /** The whole state as one versioned, checksummed file (the async API's format). */
  exportState(): Uint8Array<ArrayBuffer>;
  /** Free the Python engine; later calls throw NotInitializedError. */
  destroy(): void;
}

/** Boot Pyodide, the scan kernel and cortexkg in this thread (once); BootError if it cannot. */
export declare function loadEngine(options?: LoadOptions): Promise<{ AllocationEngine: typeof AllocationEngine; runtime: Runtime }>;
