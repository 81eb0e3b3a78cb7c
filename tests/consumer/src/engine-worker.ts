// The app's own module worker with the synchronous engine (cortexkg/engine). A relative
// assetsURL would resolve against this bundled worker's URL (assets/...), so the page
// sends the absolute one.
import { loadEngine } from "cortexkg/engine";

self.addEventListener("message", async ({ data }: MessageEvent<{ assetsURL: string }>) => {
  try {
    const { AllocationEngine } = await loadEngine({ assetsURL: data.assetsURL });
    const engine = new AllocationEngine(2, true);
    const columns = [engine.allocateConcept(5), engine.allocateConcept(6)];
    let full = "allocated";
    try {
      engine.allocateConcept(7);
    } catch (error) {
      full = (error as Error).name;
    }
    const copy = AllocationEngine.importState(engine.exportState());
    const history = copy.getAllocationHistory().map(({ conceptId, columnId }) => [conceptId, columnId]);
    engine.destroy();
    copy.destroy();
    postMessage({ columns, full, history });
  } catch (error) {
    postMessage({ failed: `${(error as Error).name}: ${(error as Error).message}` });
  }
});
