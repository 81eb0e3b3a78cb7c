// One writer per database: the Web Lock named after it. Only the holder writes, and every
// path to writing goes through the lock, so two tabs never interleave their journals.

export class WriterLock {
  #name;
  #release = null; // set while this tab holds the lock

  constructor(name) {
    this.#name = name;
  }

  get held() {
    return this.#release !== null;
  }

  /** Take the lock if it is free; resolves to whether this tab holds it. */
  tryTake() {
    return new Promise((resolve) => {
      navigator.locks.request(this.#name, { ifAvailable: true }, (lock) => {
        if (lock === null) {
          resolve(false);
          return undefined;
        }
        return new Promise((release) => {
          this.#release = release;
          resolve(true);
        });
      });
    });
  }

  /**
   * Queue for the lock; once granted (the holder closed or let go), onTaken runs unless
   * closed() says this tab closed meanwhile, and the lock stays held until release().
   */
  wait(onTaken, closed) {
    navigator.locks.request(this.#name, () => {
      if (closed()) return undefined;
      const held = new Promise((release) => { this.#release = release; });
      onTaken();
      return held;
    });
  }

  release() {
    this.#release?.();
    this.#release = null;
  }
}
