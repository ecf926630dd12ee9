// Names from the URL are checked before anything else sees them: a name is used as a store
// key and, downstream, in hostnames, Traefik file names and DNS records, so `../x` or
// `A_B` must be refused at the door.
import { apiErrors } from "./api-error.js";

export const DNS1123_LABEL = /^(?=.{1,63}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
export const DNS1123_SUBDOMAIN = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export type NameRule = "label" | "subdomain";

/** Throws 400 BadRequest unless `value` is a valid name under `rule`. */
export function checkPathName(value: string, rule: NameRule, what: string): string {
  const ok = rule === "label" ? DNS1123_LABEL.test(value) : DNS1123_SUBDOMAIN.test(value);
  if (!ok) {
    const shape =
      rule === "label"
        ? "a DNS-1123 label (lowercase letters, digits and '-', starting and ending with a letter or digit, at most 63 characters)"
        : "a DNS-1123 subdomain (lowercase letters, digits, '-' and '.', at most 253 characters)";
    throw apiErrors.badRequest(`invalid ${what} ${JSON.stringify(value)} in the request path: must be ${shape}`);
  }
  return value;
}
