// Type-checked only (never run): every member the declarations offer, used as an app would.
import {
  AllocationError, BootError, InternalError, BOOT_TIMEOUT_MS, CortexKG, CortexKGError, DEFAULTS, DURABILITIES, InvalidInputError,
  MAX_BATCH_LENGTH, MAX_NAME_LENGTH, NotInitializedError, RELAXED_WINDOW_MS, StateError, StorageError,
  type AllocationResult, type Backend, type BootBytes, type BatchOptions, type ChangeDetail, type Column, type ColumnarResult,
  type ColumnStates, type ConceptId, type ConceptIds, type Config, type CortexKGEventMap, type CreateOptions,
  type DeallocationResult, type Durability, type Embedding, type HistoryRecord, type Runtime, type Stats,
  type Storage, type Strategy,
} from "cortexkg";
import { AllocationEngine, loadEngine, type EngineOptions, type LoadOptions } from "cortexkg/engine";

export async function everyMember(flag: boolean, signal: AbortSignal): Promise<void> {
  const options: CreateOptions = { name: "app", columns: 64, strategy: "affinity" satisfies Strategy, dim: 4, seed: 1,
    refractoryMs: 0, activationHalfLifeMs: 0, backend: "auto" satisfies Backend, durability: "relaxed" satisfies Durability,
    onProgress: (m: string, bytes?: BootBytes) => void (m + (bytes ? bytes.loaded / bytes.total : "")), assetsURL: new URL("cortexkg/", document.baseURI) };
  const kg: CortexKG = await CortexKG.create(options);
  const runtime: Runtime = kg.runtime;
  const config: Config = kg.config;
  const storage: Storage = kg.storage;
  const live: Stats | null = kg.stats;
  const durabilities: readonly Durability[] = DURABILITIES;
  void [runtime, config, storage, live, durabilities, DEFAULTS.columns, MAX_BATCH_LENGTH, BOOT_TIMEOUT_MS,
    MAX_NAME_LENGTH, RELAXED_WINDOW_MS];

  const embedding: Embedding = new Float32Array([1, 0, 0, 0]);
  const column: number = await kg.allocateConcept(1, { embedding });
  const id: ConceptId = 1n;
  const released: boolean = await kg.deallocateConcept(id);
  const ids: ConceptIds = new Uint32Array([1, 2]);
  const progress = { onProgress: (done: number, total: number) => void (done + total) } satisfies BatchOptions;
  const rows: AllocationResult[] = await kg.allocateBatch(ids, { ...progress, embeddings: [null, [1, 0, 0, 0]] });
  const columnar: ColumnarResult = await kg.allocateBatch([3, 4], { columnar: true });
  const either: AllocationResult[] | ColumnarResult = await kg.allocateBatch([5], { columnar: flag });
  const gone: DeallocationResult[] = await kg.deallocateBatch([1, 2]);
  const goneColumnar: ColumnarResult = await kg.deallocateBatch([3], { columnar: true });
  const goneEither: DeallocationResult[] | ColumnarResult = await kg.deallocateBatch([4], { columnar: flag });
  const activation: number = await kg.activateConcept(5, 0.5);
  const moved: number = await kg.optimizeAllocations();
  void [column, released, rows, columnar, either, gone, goneColumnar, goneEither, activation, moved];

  const info: number | null = await kg.getAllocationInfo(5);
  const counts: number[] = [await kg.getFreeColumnCount(), await kg.getAllocatedCount(), await kg.getAverageTime(),
    await kg.getAllocationEfficiency(), await kg.getFragmentation()];
  const history: HistoryRecord[] = await kg.getAllocationHistory({ start: 0, stop: 10 });
  const times: Float64Array = await kg.getAllocationTimes();
  const kinds: Uint8Array = await kg.getAllocationTimeKinds();
  const stats: Stats = await kg.getStats();
  const states: ColumnStates = await kg.getColumnStates();
  const one: Column = await kg.getColumn(0);
  await kg.validate();
  void [info, counts, history, times, kinds, stats, states, one];

  const file = new Blob([await kg.exportState()]);
  const raw = new Blob([await kg.exportRawData()]);
  const imported: Config = await kg.importState(new Uint8Array(await file.arrayBuffer()));
  const fresh: Config = await kg.reset({ columns: 128 });
  await kg.flush();
  void [raw, imported, fresh];

  const onChange = (event: CustomEvent<ChangeDetail>) => void event.detail.kind;
  const onAnyChange = (event: CortexKGEventMap["change"]) => void event.detail.kind;
  kg.addEventListener("change", onAnyChange);
  const onLog = (event: CustomEvent<{ message: string }>) => void event.detail.message;
  const onStorage = (event: CustomEvent<Storage>) => void event.detail.mode;
  kg.addEventListener("change", onChange);
  kg.addEventListener("change", onChange, { signal });
  kg.addEventListener("log", onLog, { once: true });
  kg.addEventListener("storage", onStorage, true);
  kg.addEventListener("other", (event: Event) => void event.type);
  kg.addEventListener("change", (event) => void event.detail.kind); // the event's type is inferred
  // @ts-expect-error: a "change" event carries a ChangeDetail, not a Storage
  kg.addEventListener("change", (event: CustomEvent<Storage>) => void event.detail.mode);
  kg.removeEventListener("change", onChange);
  kg.removeEventListener("log", onLog, { capture: false });
  kg.removeEventListener("storage", onStorage, true);
  kg.close();

  const errors: (typeof CortexKGError)[] = [AllocationError, InvalidInputError, NotInitializedError, StateError, StorageError, BootError, InternalError];
  void errors;
  const bug = new InternalError("an invariant broke");
  const pythonTraceback: string | undefined = bug.traceback;
  void pythonTraceback;
  // @ts-expect-error: the constructor is private; CortexKG.create() makes an engine
  void new CortexKG();

  const load: LoadOptions = { onProgress: (m: string) => void m, assetsURL: "cortexkg/" };
  const { AllocationEngine: Engine, runtime: here } = await loadEngine(load);
  const engineOptions: EngineOptions = { strategy: "first_fit", dim: 0, seed: 0, refractoryMs: 0, activationHalfLifeMs: 0, backend: "reference" };
  const engine: AllocationEngine = new Engine(16, true, engineOptions);
  const sync: [number, boolean, number, number] = [engine.allocateConcept(1), engine.deallocateConcept(1), engine.activateConcept(2), engine.optimizeAllocations()];
  const syncRows: AllocationResult[] = engine.allocateBatch([1, 2]);
  const syncColumnar: ColumnarResult = engine.allocateBatch([3], { columnar: true });
  const syncEither: AllocationResult[] | ColumnarResult = engine.allocateBatch([4], { columnar: flag });
  const syncGone: DeallocationResult[] = engine.deallocateBatch([1]);
  const syncGoneColumnar: ColumnarResult = engine.deallocateBatch([2], { columnar: true });
  const syncGoneEither: DeallocationResult[] | ColumnarResult = engine.deallocateBatch([3], { columnar: flag });
  const syncReads = [engine.getAllocationInfo(4), engine.getFreeColumnCount(), engine.getAllocatedCount(), engine.getAverageTime(),
    engine.getAllocationEfficiency(), engine.getAllocationHistory(), engine.getAllocationTimes(), engine.getAllocationTimeKinds(), engine.getFragmentation(),
    engine.getStats(), engine.getColumnStates(), engine.getColumn(0)];
  engine.validate();
  const copy = AllocationEngine.importState(new Blob([engine.exportState()]) && engine.exportState(), { backend: "auto" });
  engine.destroy();
  copy.destroy();
  void [here, sync, syncRows, syncColumnar, syncEither, syncGone, syncGoneColumnar, syncGoneEither, syncReads];
}
