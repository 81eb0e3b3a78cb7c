// Errors where the eye is: a failed action's message appears next to the control that
// caused it, which is marked invalid (aria-invalid) and described by the message
// (aria-describedby), in plain words. The page-wide banner is kept for what concerns the
// whole page (booting, storage, the unexpected).

/** The message next to one control. */
export class FieldError {
  /** @param {HTMLElement} message the element that shows it @param {HTMLElement} control */
  constructor(message, control) {
    this.message = message;
    this.control = control;
    message.classList.add("field-error");
  }

  /** Show text next to the control, mark it invalid, and keep it in view. */
  show(text, control = this.control) {
    this.clear();
    this.message.textContent = text;
    this.marked = control;
    control.setAttribute("aria-invalid", "true");
    const described = (control.getAttribute("aria-describedby") ?? "").split(/\s+/).filter(Boolean);
    if (!described.includes(this.message.id)) {
      control.setAttribute("aria-describedby", [...described, this.message.id].join(" "));
    }
    this.message.scrollIntoView?.({ block: "nearest" });
  }

  clear() {
    this.message.textContent = "";
    (this.marked ?? this.control).removeAttribute("aria-invalid");
    this.marked = null;
  }
}

// Failures that concern the whole page whichever control met them.
const PAGE_WIDE = new Set(["StorageError", "BootError", "NotInitializedError"]);

/** Whether an error belongs in the page-wide banner rather than next to a control. */
export function isPageWide(error) {
  return !(error instanceof Error) || PAGE_WIDE.has(error.name);
}

/**
 * An error's message in plain words: the engine names values as Python writes them
 * ("'abc' (str)", "1.5 (float)"); a person reads “abc” and 1.5.
 */
export function plainMessage(error) {
  const text = error instanceof Error ? (error.message || error.name) : String(error);
  return text
    .replace(/'((?:[^'\\]|\\.)*)' \(str\)/g, "“$1”")
    .replace(/'((?:[^'\\]|\\.)*)'/g, "“$1”")
    .replace(/ \((?:str|int|float|bool|NoneType|list|dict|tuple|bytes)\)/g, "")
    .replace(/\bexpected an integer in 0\.\.4294967295\b/g,
      "a concept id is a whole number from 0 to 4,294,967,295")
    .replace(/\bexpected a finite number >= 0\b/g, "expected a number of 0 or more");
}
