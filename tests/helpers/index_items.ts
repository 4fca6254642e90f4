/**
 * Makers of items by index for `makeOnWorkers` tests (`tests/parallel_items_test.ts`): `itemAt`
 * names the index and the run's seed; `failAt` throws at index 3.
 *
 * @module
 */
import type { PluginParams } from "../../plugin.ts";

/** Item i: `item <i> seed <seed>`. */
export function itemAt(p: PluginParams): (i: number) => string {
  return (i) => `item ${i} seed ${p.seed}`;
}

/** Throws `no item 3` at index 3. */
export function failAt(): (i: number) => string {
  return (i) => {
    if (i === 3) throw new Error("no item 3");
    return `item ${i}`;
  };
}
