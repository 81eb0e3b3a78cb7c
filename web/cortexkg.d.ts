// Type declarations of web/cortexkg.js, the JavaScript API of the CortexKG allocation engine.

export class CortexKGError extends Error {}
/** No free column, or a concept that is not allocated. */
export class AllocationError extends CortexKGError {}
/** A bad argument: an id outside 0..2**32-1, a wrong embedding, an unknown option. */
export class InvalidInputError extends CortexKGError {}
/** The engine is not initialized, or the instance was closed. */
export class NotInitializedError extends CortexKGError {}
/** Stored or imported state is invalid, or an engine invariant is broken. */
export class StateError extends CortexKGError {}
/** A change cannot be made durable now (the browser refuses writes: quota, I/O); the
 *  engine is left as it was. kg.storage says when writes are accepted again. */
export class StorageError extends CortexKGError {}
/** A bug in cortexkg, not the caller's mistake; traceback: Python's, when reported. */
export class InternalError extends CortexKGError {
  traceback?: string;
}
/** The engine's runtime could not start (worker, Pyodide, the wheel or the kernel). */
export class BootError extends CortexKGError {}

/** The most ids one batch takes. */
export declare const MAX_BATCH_LENGTH: number;
/** How long create() waits for the runtime to boot and the engine to open, in ms. */
export declare const BOOT_TIMEOUT_MS: number;
/** The longest engine name, in characters. */
export declare const MAX_NAME_LENGTH: number;
export declare const DURABILITIES: readonly Durability[];
/** Relaxed durability's bound: a crash loses at most the changes acknowledged in this many
 *  ms (8) before the last acknowledgment. */
export declare const RELAXED_WINDOW_MS: number;

export type Strategy = "first_fit" | "affinity";
/** Column scans: "wasm" is the WebAssembly SIMD kernel, the default ("auto") in browsers
 *  with WebAssembly SIMD. */
export type Backend = "auto" | "numpy" | "wasm" | "reference";
/** A concept id: an integer in 0..2**32-1. */
export type ConceptId = number | bigint;
export type ConceptIds = ArrayLike<ConceptId> | Uint32Array | Int32Array | Float64Array;
export type Embedding = ArrayLike<number> | Float32Array | Float64Array;
/** "strict": a mutation resolves once its journal record is committed to IndexedDB.
 *  "relaxed": once the engine applied it; the record commits within RELAXED_WINDOW_MS. */
export type Durability = "strict" | "relaxed";

/** How much of the runtime's download has arrived (the files site.json's runtimeBytes lists). */
export interface BootBytes {
  loaded: number;
  total: number;
}

export interface CreateOptions {
  /** Identifies the engine (and its database): 1 to MAX_NAME_LENGTH characters; default "default".
   *  Engines of one origin share a database only when they share a name: give each app its own. */
  name?: string;
  /** Number of columns; default 1024. */
  columns?: number;
  /** Default "first_fit". */
  strategy?: Strategy;
  /** Receptive-field dimension; default 0. */
  dim?: number;
  /** Seeds the receptive fields and the embeddings derived from ids; default 0. */
  seed?: number;
  /** How long a released column rests before reuse, in ms; default 0. */
  refractoryMs?: number;
  /**
   * Activation halves every this many ms of wall-clock time since a concept's last
   * activation; default 0: it never decays (the reference design).
   */
  activationHalfLifeMs?: number;
  /** Default "auto" (the WebAssembly SIMD kernel where the browser has SIMD). */
  backend?: Backend;
  /** This instance's durability (not stored with the engine); default "strict". */
  durability?: Durability;
  /** Hears each boot step ("Loading Pyodide 314.0.7", ...) and, while the runtime
   *  downloads, each hundredth of it: bytes received so far of total. */
  onProgress?: (message: string, bytes?: BootBytes) => void;
  /**
   * The folder that serves the runtime assets (site.json, vendor/, wheels/, kernel/), as a
   * URL ending in "/", absolute or relative to the page; default: the folder of this module
   * (cortexkg.js). Set it when a bundler moves the module away from its assets.
   */
  assetsURL?: string | URL;
}

export interface Config {
  name: string;
  columns: number;
  strategy: Strategy;
  dim: number;
  seed: number;
  refractoryMs: number;
  activationHalfLifeMs: number;
  backend: string;
  /** The durability in force in this instance. */
  durability: Durability;
}

export interface Runtime {
  pyodide: string;
  python: string;
  cortexkg: string;
  crossOriginIsolated: boolean;
  /** Smallest step of performance.now() observed in the worker, in ms. */
  timerResolutionMs: number;
  /** Whether the WebAssembly SIMD scan kernel was loaded (backend "wasm" available). */
  wasmSimd: boolean;
}

export type AllocationResult =
  | { conceptId: number; columnId: number; success: true }
  | { conceptId: number; success: false; error: string };
export type DeallocationResult =
  | { conceptId: number; success: true; columnId: number }
  | { conceptId: number; success: false; error: string };

export interface ColumnarResult {
  conceptIds: Uint32Array;
  /** The column of each id; -1 where the item failed. */
  columnIds: Int32Array;
  /** One message per failed item, in input order. */
  errors: string[];
}

export interface BatchOptions {
  columnar?: boolean;
  /** Called after each chunk of the batch. */
  onProgress?: (done: number, total: number) => void;
}

export interface HistoryRecord {
  conceptId: number;
  columnId: number;
  /** Wall-clock ms since the epoch (Date.now in the worker). */
  timestamp: number;
  confidence: number;
}

export interface Stats {
  column_count: number;
  allocated: number;
  available: number;
  refractory: number;
  efficiency: number;
  average_time_ms: number;
  timing_samples: number;
  total_allocations: number;
  total_deallocations: number;
  usage_hits: number;
  activations: number;
  optimization_cycles: number;
  moves_total: number;
  strategy: Strategy;
  dim: number;
  seed: number;
  refractory_ms: number;
  activation_half_life_ms: number;
  enable_simd: boolean;
  backend: string;
}

export interface ColumnStates {
  /** 0 available, 1 allocated, 2 refractory. */
  state: Uint8Array;
  concept: Uint32Array;
  /**
   * As of the last activation. Its value at wall-clock time t, with a half-life h > 0:
   * activation * 0.5 ** ((t - allocatedAt - activatedMs) / h) (no decay while t is earlier).
   */
  activation: Float32Array;
  usage: Uint32Array;
  confidence: Float32Array;
  /** Wall-clock ms (Date.now()) of the allocation; 0 without a concept. */
  allocatedAt: Float64Array;
  /** ms from the allocation to the last activation. */
  activatedMs: Float32Array;
  /** ms until a refractory column becomes available; 0 for the others. */
  refractoryLeftMs: Float32Array;
}

export interface Column {
  id: number;
  conceptId: number | null;
  activation: number;
  state: "available" | "allocated" | "refractory";
  usage: number;
  confidence: number | null;
  timestamp: number | null;
  field: number[];
}

export type ChangeDetail =
  | { kind: "allocate"; conceptId: ConceptId; columnId: number }
  | { kind: "deallocate"; conceptId: ConceptId; result: boolean }
  | { kind: "activate"; conceptId: ConceptId; activation: number }
  | { kind: "allocate-batch" | "deallocate-batch"; count: number; failed: number }
  | { kind: "optimize"; changes: number }
  | { kind: "import" | "reset" | "remote" };

export declare const DEFAULTS: Readonly<Required<Omit<CreateOptions, "onProgress" | "assetsURL">>>;

export interface Storage {
  /** writer: this tab saves; reader: another tab writes and this one follows read-only;
   *  failed: the stored data was refused (see error) and is left untouched. */
  mode: "writer" | "reader" | "failed";
  /** false while a write failed (quota, I/O): the engine works in memory and retries. */
  saved: boolean;
  error: string | null;
  /** What was loaded at create(), or null for a new engine. */
  /** ms: the time spent reading and replaying it. */
  restored: { snapshot: boolean; records: number; allocated: number; columns: number; ms: number } | null;
  /** The last snapshot this tab saved (compaction): its journal seq, its size in bytes,
   *  and ms from taking it to the commit of its transaction. */
  snapshot: { seq: number; bytes: number; ms: number } | null;
  /** create() options that the loaded state overrode. */
  ignored: string[];
  /** Relaxed: acknowledged changes held only in memory because writes fail (saved is
   *  false); a crash or close loses them. 0 while writes succeed. */
  unsaved: number;
}

/** The events of a CortexKG instance and what each carries. */
export interface CortexKGEventMap {
  /** After every change, this instance's own or (kind "remote") another tab's. */
  change: CustomEvent<ChangeDetail>;
  /** One engine log line. */
  log: CustomEvent<{ message: string }>;
  /** kg.storage changed. */
  storage: CustomEvent<Storage>;
}

export class CortexKG extends EventTarget {
  /** Boot a worker and create (or load) the engine. */
  static create(options?: CreateOptions): Promise<CortexKG>;
  /** Throws NotInitializedError: only create() makes an engine. */
  private constructor();
  readonly runtime: Runtime;
  readonly config: Config;
  readonly storage: Storage;

  allocateConcept(conceptId: ConceptId, options?: { embedding?: Embedding }): Promise<number>;
  deallocateConcept(conceptId: ConceptId): Promise<boolean>;
  allocateBatch(conceptIds: ConceptIds, options?: BatchOptions & { columnar?: false; embeddings?: (Embedding | null)[] }): Promise<AllocationResult[]>;
  allocateBatch(conceptIds: ConceptIds, options: BatchOptions & { columnar: true; embeddings?: (Embedding | null)[] }): Promise<ColumnarResult>;
  allocateBatch(conceptIds: ConceptIds, options?: BatchOptions & { embeddings?: (Embedding | null)[] }): Promise<AllocationResult[] | ColumnarResult>;
  deallocateBatch(conceptIds: ConceptIds, options?: BatchOptions & { columnar?: false }): Promise<DeallocationResult[]>;
  deallocateBatch(conceptIds: ConceptIds, options: BatchOptions & { columnar: true }): Promise<ColumnarResult>;
  deallocateBatch(conceptIds: ConceptIds, options?: BatchOptions): Promise<DeallocationResult[] | ColumnarResult>;
  activateConcept(conceptId: ConceptId, strength?: number): Promise<number>;
  optimizeAllocations(): Promise<number>;

  getAllocationInfo(conceptId: ConceptId): Promise<number | null>;
  getFreeColumnCount(): Promise<number>;
  getAllocatedCount(): Promise<number>;
  getAverageTime(): Promise<number>;
  getAllocationEfficiency(): Promise<number>;
  getAllocationHistory(range?: { start?: number; stop?: number }): Promise<HistoryRecord[]>;
  getAllocationTimes(): Promise<Float64Array>;
  /** What each of getAllocationTimes() is: 0 a single call's own time, 1 a batch item's
   *  (its batch's mean), 2 unknown (restored from a snapshot made before kinds were kept). */
  getAllocationTimeKinds(): Promise<Uint8Array>;
  getFragmentation(): Promise<number>;
  getStats(): Promise<Stats>;
  /**
   * getStats() as of the engine's last change, read synchronously (no round trip, well
   * under a microsecond): equal to what getStats() resolves to once every call made so far
   * has settled. When the page is cross-origin isolated the worker publishes the counters
   * in shared memory as it runs the calls (a change may show before its call settles);
   * otherwise they come with the answers. Refractory columns whose time ran out since the
   * last call still count as refractory (a call expires them). A fresh object per read;
   * null before create() resolved.
   */
  readonly stats: Stats | null;
  getColumnStates(): Promise<ColumnStates>;
  getColumn(columnId: number): Promise<Column>;
  validate(): Promise<void>;
  /** The whole state as one versioned, checksummed file. */
  exportState(): Promise<Uint8Array<ArrayBuffer>>;
  /** Validate an export file completely and replace the state atomically (StateError otherwise). */
  importState(bytes: Uint8Array | ArrayBuffer): Promise<Config>;
  /** Replace the engine by a new, empty one (options default to the current ones; a
   *  durability given applies to this instance from then on). */
  reset(options?: Partial<Omit<CreateOptions, "name" | "onProgress" | "assetsURL">>): Promise<Config>;
  /** Resolves once every change acknowledged so far is durable; retries a failed write.
   *  Rejects with StorageError while acknowledged changes cannot be written. */
  flush(): Promise<void>;
  /** The database's stored values as they are, whatever its schema (for data that could
   *  not be loaded): {meta, snapshots, journal} for CortexKG's own. */
  exportRawData(): Promise<Uint8Array<ArrayBuffer>>;
  /** Stops the worker. Relaxed: after writing what was acknowledged (rejects with
   *  StorageError when that fails). */
  close(): Promise<void>;

  // EventTarget's own signatures come last: an override must accept everything they do.
  addEventListener<K extends keyof CortexKGEventMap>(type: K, listener: ((this: CortexKG, event: CortexKGEventMap[K]) => void) | null, options?: boolean | AddEventListenerOptions): void;
  addEventListener(type: string, listener: EventListenerOrEventListenerObject | null, options?: boolean | AddEventListenerOptions): void;
  removeEventListener<K extends keyof CortexKGEventMap>(type: K, listener: ((this: CortexKG, event: CortexKGEventMap[K]) => void) | null, options?: boolean | EventListenerOptions): void;
  removeEventListener(type: string, listener: EventListenerOrEventListenerObject | null, options?: boolean | EventListenerOptions): void;
}
