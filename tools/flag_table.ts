/**
 * `deno task flag-table`: write the README's flag table from the settings table
 * (`src/config/settings.ts`). The task then runs `deno fmt README.md`, which aligns it.
 *
 * @module
 */
import { withFlagTable } from "../src/cli/flag_table.ts";

const path = new URL("../README.md", import.meta.url);
const before = await Deno.readTextFile(path);
await Deno.writeTextFile(path, withFlagTable(before));
console.log("README.md: flag table written from src/config/settings.ts");
