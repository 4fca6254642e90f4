/**
 * One timer for every stream of the mock server. Thousands of paced streams each waiting on their
 * own `setTimeout` cost a timer per token; here waits go into one binary heap ordered by due time,
 * and a single timer, armed for the earliest, releases every wait that is due when it fires
 * (streams paced alike come due together, so one wake-up serves many). Never early: a timer that
 * fires a little before its time is re-armed for the rest.
 *
 * @module
 */

/** Releases callbacks at their due times (`performance.now()` ms), on one timer. */
export class Pacer {
  #due: number[] = [];
  #fns: Array<() => void> = [];
  #timer: ReturnType<typeof setTimeout> | undefined;
  #armedFor = Infinity;
  #firing = false;

  /** Waits not yet released. */
  get size(): number {
    return this.#due.length;
  }

  /** Call `fn` once `performance.now() >= due` (on a later turn of the event loop). */
  at(due: number, fn: () => void): void {
    const d = this.#due;
    const f = this.#fns;
    let i = d.length;
    d.push(due);
    f.push(fn);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (d[parent] <= due) break;
      d[i] = d[parent];
      f[i] = f[parent];
      i = parent;
    }
    d[i] = due;
    f[i] = fn;
    // While firing, the callbacks' new waits are armed for once, after the last callback.
    if (due < this.#armedFor && !this.#firing) this.#arm(due);
  }

  /** A promise that resolves once `performance.now() >= due`. */
  until(due: number): Promise<void> {
    return new Promise((resolve) => this.at(due, resolve));
  }

  /** Drop every wait (their callbacks are never called). */
  clear(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#armedFor = Infinity;
    this.#due.length = 0;
    this.#fns.length = 0;
  }

  #arm(due: number): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#armedFor = due;
    this.#timer = setTimeout(this.#fire, Math.max(0, due - performance.now()));
  }

  #fire = (): void => {
    this.#timer = undefined;
    this.#armedFor = Infinity;
    const now = performance.now();
    const d = this.#due;
    this.#firing = true;
    try {
      while (d.length > 0 && d[0] <= now) this.#pop()();
    } finally {
      this.#firing = false;
      if (d.length > 0) this.#arm(d[0]);
    }
  };

  #pop(): () => void {
    const d = this.#due;
    const f = this.#fns;
    const top = f[0];
    const lastDue = d.pop()!;
    const lastFn = f.pop()!;
    const n = d.length;
    if (n > 0) {
      let i = 0;
      for (;;) {
        let c = 2 * i + 1;
        if (c >= n) break;
        if (c + 1 < n && d[c + 1] < d[c]) c++;
        if (d[c] >= lastDue) break;
        d[i] = d[c];
        f[i] = f[c];
        i = c;
      }
      d[i] = lastDue;
      f[i] = lastFn;
    }
    return top;
  }
}
