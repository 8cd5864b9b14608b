/**
 * DNS-1123 names, as the apiserver requires them of namespaces (labels)
 * and of most object names (subdomains). A name that passes can go into an
 * API path as one segment: no `/`, `.`-only segment, `%`, `?` or `#`.
 *
 * @module
 */

import {
  DNS_LABEL_PATTERN,
  DNS_SUBDOMAIN_PATTERN,
} from "./mysql_cluster_schema.ts";

const LABEL = new RegExp(DNS_LABEL_PATTERN);
const SUBDOMAIN = new RegExp(DNS_SUBDOMAIN_PATTERN);

/**
 * True for a DNS-1123 label: at most 63 lowercase alphanumerics or `-`,
 * starting and ending with an alphanumeric (a namespace).
 *
 * @example
 * ```ts
 * isDnsLabel("shop"); // true
 * isDnsLabel(".."); // false
 * ```
 */
export function isDnsLabel(value: string): boolean {
  return value.length <= 63 && LABEL.test(value);
}

/**
 * True for a DNS-1123 subdomain: at most 253 characters of dot-separated
 * labels (an object's name).
 *
 * @example
 * ```ts
 * isDnsSubdomain("db-0.db"); // true
 * isDnsSubdomain("../kube-system/x"); // false
 * ```
 */
export function isDnsSubdomain(value: string): boolean {
  return value.length <= 253 && SUBDOMAIN.test(value);
}
