/**
 * Commander set up the llmperf way: help goes to stdout, and every parse error becomes one
 * {@link UsageError} line (exit 2) instead of commander's own printing and exiting.
 *
 * @module
 */
import { Command } from "commander";
import { UsageError } from "../errors.ts";
import { didYouMean } from "../util/closest.ts";

const enc = new TextEncoder();

/** Thrown when `--help` was printed: the command should exit 0. */
export class HelpShown extends Error {
  constructor() {
    super("help shown");
  }
}

/** A command that throws instead of exiting and rejects unknown arguments. */
export function strictCommand(name: string, description: string): Command {
  return new Command(name)
    .description(description)
    .allowExcessArguments(false)
    .helpOption("-h, --help", "show this help")
    .exitOverride()
    .configureOutput({
      writeErr: () => {},
      writeOut: (s) => Deno.stdout.writeSync(enc.encode(s)),
    });
}

/** Parse `args` with `cmd`; throw {@link UsageError} on bad input, {@link HelpShown} on help. */
export function parseStrict(cmd: Command, args: string[]): void {
  try {
    cmd.parse(args, { from: "user" });
  } catch (e) {
    const err = e as { code?: string; message?: string };
    if (err.code === "commander.helpDisplayed" || err.code === "commander.help") {
      throw new HelpShown();
    }
    const line = String(err.message ?? e).replace(/^error: /, "").split("\n")[0];
    if (err.code !== "commander.unknownOption") throw new UsageError(line);
    const given = /'([^']*)'/.exec(line)?.[1]?.split("=")[0] ?? "";
    throw new UsageError(line + didYouMean(given, optionNames(cmd)));
  }
}

/** Every spelling of `cmd`'s options, hidden aliases included (`--max-tokens`, `-n`, `--no-stream`). */
export function optionNames(cmd: Command): string[] {
  return cmd.options.flatMap((o) => [o.long, o.short].filter((f): f is string => f !== undefined));
}
