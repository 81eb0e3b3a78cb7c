// The dashboard's user actions: each runs against the engine unless the same control's
// last one is still running. Controls stay focusable meanwhile (aria-disabled, not
// disabled), so the keyboard focus never drops to <body>. A failure is shown next to
// the control that caused it (its FieldError) unless it concerns the whole page.

export class Actions {
  /** @param {{kg: () => object | null, succeeded: () => void,
   *           fail: (error: Error, field?: FieldError) => void}} host */
  constructor(host) {
    this.host = host;
    this.running = new Set();
  }

  /** Whether the last action of `control` is still running. */
  busy(control) {
    return this.running.has(control);
  }

  /** Run `action(kg)` for `control`; it returns false when it has reported a partial
   *  failure itself, else the host hears of its success or error. field: where the
   *  error shows (cleared when the action starts). */
  async run(control, action, field = null) {
    const kg = this.host.kg();
    if (kg === null || this.running.has(control)) return;
    this.running.add(control);
    control.setAttribute("aria-disabled", "true");
    field?.clear();
    try {
      if ((await action(kg)) !== false) this.host.succeeded();
    } catch (error) {
      this.host.fail(error, field);
    } finally {
      this.running.delete(control);
      control.removeAttribute("aria-disabled");
    }
  }
}
