// The error banner: every failure the user should know about lands here (and in the
// event log), never only in the console.

export class ErrorBanner {
  /** @param {HTMLElement} root the [data-testid=error-banner] element */
  constructor(root) {
    this.root = root;
    this.message = root.querySelector("[data-testid=error-message]");
    root.querySelector("button").addEventListener("click", () => this.clear());
  }

  /** Show message (an Error's message or a string). */
  show(message) {
    this.message.textContent = message;
    this.root.hidden = false;
  }

  /** Hide the banner. */
  clear() {
    this.root.hidden = true;
    this.message.textContent = "";
  }
}

/** The text to show for anything thrown: an Error's message, else its string form. */
export function messageOf(error) {
  if (error instanceof Error) return error.message || error.name;
  return String(error);
}
