// Text rules shared with the server (server/core/text.cpp): lengths in Unicode code points,
// trimming of ASCII white space only, and the set of control characters a display text may not hold.

/** Number of Unicode code points in `s` (a lone surrogate counts as one). */
export function codePointLength(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
    n++;
  }
  return n;
}

/** True when `s` is 1..max code points long. */
export function validLength(s: string, max: number): boolean {
  const n = codePointLength(s);
  return n >= 1 && n <= max;
}

/** True when `s` holds a UTF-16 surrogate that is not part of a pair (not valid Unicode text). */
export function hasLoneSurrogate(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = i + 1 < s.length ? s.charCodeAt(i + 1) : 0;
      if (d >= 0xdc00 && d <= 0xdfff) {
        i++;
        continue;
      }
      return true;
    }
    if (c >= 0xdc00 && c <= 0xdfff) return true;
  }
  return false;
}

const ASCII_SPACE = new Set([' ', '\t', '\n', '\r', '\f', '\v']);

/** Trims ASCII white space only, as the server does (not Unicode spaces such as U+00A0). */
export function trimAscii(s: string): string {
  let start = 0;
  let end = s.length;
  while (start < end && ASCII_SPACE.has(s[start]!)) start++;
  while (end > start && ASCII_SPACE.has(s[end - 1]!)) end--;
  return s.slice(start, end);
}

function isControl(cp: number): boolean {
  return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp === 0x2028 || cp === 0x2029;
}

/**
 * The server's rule for display names and titles: trimmed, then 1..max code points, no control
 * characters. Returns the cleaned text, or null when it is not acceptable.
 */
export function cleanDisplayText(text: string, max: number): string | null {
  return clean(text, max, false);
}

/**
 * The server's rule for anonymous prompts (1.3): like a display text, but a line feed is allowed
 * inside (tab, carriage return and every other control character are not). Returns the trimmed
 * text, or null when it is not acceptable (the server's `invalid_text`).
 */
export function cleanPromptText(text: string, max: number): string | null {
  return clean(text, max, true);
}

function clean(text: string, max: number, lineFeeds: boolean): string | null {
  const t = trimAscii(text);
  if (t.length === 0 || hasLoneSurrogate(t)) return null;
  let count = 0;
  for (const ch of t) {
    const cp = ch.codePointAt(0)!;
    if (isControl(cp) && !(lineFeeds && cp === 0x0a)) return null;
    if (++count > max) return null;
  }
  return t;
}
