// Text from agents is untrusted: a workload controls its agent's reports, and their
// `message` and `provisioningError` reach event messages, status and terminals (`zlh
// describe`, `kubectl describe`). Control characters there can retitle a terminal, clear
// the screen or forge lines, so they are shown escaped, never passed on.

// C0 controls (newline and tab included: one message is one line), DEL, C1 controls, and
// the Unicode bidi overrides and isolates that can reorder what a reader sees.
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/** `text` with every unsafe character replaced by a visible escape such as `\x1b` or `\u202e`. */
export function escapeControlCharacters(text: string): string {
  return text.replace(UNSAFE, (ch) => {
    const code = ch.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u${code.toString(16).padStart(4, "0")}`;
  });
}

/** Escaped, then cut to `max` characters (with a marker) so a report cannot bloat status. */
export function displayText(text: string, max = 1024): string {
  const safe = escapeControlCharacters(text);
  return safe.length <= max ? safe : `${safe.slice(0, max - 1)}…`;
}
