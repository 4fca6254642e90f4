/**
 * A number as Python's `repr(float)` (and so `f"{x}"` and `str(x)`) prints it, for names that
 * evalscope builds from floats (`rate_5.0_number_100`): the shortest digits that read back as the
 * same double (as JavaScript's), but whole numbers keep a `.0`, and the exponent form is used
 * when the decimal point would sit more than 16 places right or 4 or more places left of the
 * first digit, written with a sign and at least two digits (`1e-05`, `1e+16`).
 *
 * @module
 */

/**
 * `x` as Python's `repr(float(x))`.
 *
 * @example
 * ```ts
 * pythonFloat(5); // "5.0"
 * pythonFloat(2.5); // "2.5"
 * pythonFloat(0.00001); // "1e-05"
 * pythonFloat(1e16); // "1e+16"
 * ```
 */
export function pythonFloat(x: number): string {
  if (Number.isNaN(x)) return "nan";
  if (!Number.isFinite(x)) return x > 0 ? "inf" : "-inf";
  if (x === 0) return Object.is(x, -0) ? "-0.0" : "0.0";
  const sign = x < 0 ? "-" : "";
  // The shortest round-trip digits and the exponent of the first one: "1.5e-7" → "15", -7.
  const [mantissa, exp] = Math.abs(x).toExponential().split("e");
  const digits = mantissa.replace(".", "");
  const e = Number(exp);
  const point = e + 1; // where the decimal point sits, counted from before the first digit
  if (point <= -4 || point > 16) {
    const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    return `${sign}${m}e${e < 0 ? "-" : "+"}${String(Math.abs(e)).padStart(2, "0")}`;
  }
  if (point <= 0) return `${sign}0.${"0".repeat(-point)}${digits}`;
  if (point >= digits.length) return `${sign}${digits}${"0".repeat(point - digits.length)}.0`;
  return `${sign}${digits.slice(0, point)}.${digits.slice(point)}`;
}
