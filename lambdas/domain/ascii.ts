/**
 * The character codes the hand-rolled parsers (dates, strict JSON) compare `charCodeAt` against: they read
 * text a character code at a time rather than with a capturing regex because they run on every delivery.
 */

export const QUOTE = 0x22;
export const PLUS = 0x2b;
export const COMMA = 0x2c;
/** The minus sign, and the hyphen between a date's fields. */
export const HYPHEN_MINUS = 0x2d;
export const DOT = 0x2e;
export const DIGIT_0 = 0x30;
export const DIGIT_9 = 0x39;
export const COLON = 0x3a;
/** With LOWER_E, the exponent marks of a JSON number. */
export const UPPER_E = 0x45;
export const OPEN_BRACKET = 0x5b;
export const BACKSLASH = 0x5c;
export const CLOSE_BRACKET = 0x5d;
export const LOWER_E = 0x65;
export const OPEN_BRACE = 0x7b;
export const CLOSE_BRACE = 0x7d;
