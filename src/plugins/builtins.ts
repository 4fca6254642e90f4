/**
 * Registers the built-in plugins of `plugins/` under their names. Imported once by the loader.
 *
 * @module
 */
import OpenAIApi from "../../plugins/api/openai.ts";
import CompletionsApi from "../../plugins/api/completions.ts";
import OpenQaDataset from "../../plugins/datasets/openqa.ts";
import LongAlpacaDataset from "../../plugins/datasets/longalpaca.ts";
import LineByLineDataset from "../../plugins/datasets/line_by_line.ts";
import { registerApi, registerDataset } from "./registry.ts";

registerApi("openai", OpenAIApi);
registerApi("completions", CompletionsApi);
registerDataset("openqa", OpenQaDataset);
registerDataset("longalpaca", LongAlpacaDataset);
registerDataset("line_by_line", LineByLineDataset);
