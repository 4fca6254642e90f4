/**
 * The chart library the HTML report embeds: uPlot (MIT, github.com/leeoniya/uPlot), its minified
 * browser build and stylesheet, imported as text straight from the npm package. A text import is
 * part of the module graph, so the same code works from `deno run`, from a JSR package and from a
 * `deno compile`d binary, and every report carries the library inline: nothing is fetched.
 *
 * @module
 */
import script from "uplot/dist/uPlot.iife.min.js" with { type: "text" };
import style from "uplot/dist/uPlot.min.css" with { type: "text" };

/** uPlot's browser build (defines the global `uPlot`). */
export const UPLOT_JS: string = script;

/** uPlot's stylesheet. */
export const UPLOT_CSS: string = style;
