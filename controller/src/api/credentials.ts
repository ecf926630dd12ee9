// Files an API server leaves in its data dir: the admin token and the serving certificate
// (created once, reused), a kubeconfig that kubectl and client-node load as is, and
// server.json for discovery by the CLI. Secrets are written 0600 via a temp file and
// rename, so no reader ever sees a half-written or world-readable token or key.
import { X509Certificate, createPrivateKey, randomBytes } from "node:crypto";
import { chmodSync, existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { stringify } from "yaml";
import { createSelfSignedCertificate } from "./self-signed-cert.js";

export const TOKEN_FILE = "admin.token";
export const KUBECONFIG_FILE = "kubeconfig";
export const SERVER_INFO_FILE = "server.json";
export const TLS_KEY_FILE = "tls.key";
export const TLS_CERT_FILE = "tls.crt";
/** Context of the generated kubeconfig that talks plain HTTP (no TLS handshake per request). */
export const HTTP_CONTEXT = "zlh-http";

/** A data-dir file that exists but cannot be used. */
export class CredentialsError extends Error {
  override readonly name = "CredentialsError";
  readonly reason = "InvalidCredentialsFile";
}

function writePrivate(path: string, content: string): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, content, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, path);
}

/** The admin token of `dataDir`: read from admin.token, or 32 random bytes (hex) written there. */
export function loadOrCreateAdminToken(dataDir: string): string {
  const path = join(dataDir, TOKEN_FILE);
  if (existsSync(path)) {
    const token = readFileSync(path, "utf8").trim();
    if (!/^[0-9a-f]{64}$/.test(token)) throw new CredentialsError(`${path}: expected 64 hex characters; delete the file to create a new token`);
    // Tighten a copy restored with looser permissions.
    chmodSync(path, 0o600);
    return token;
  }
  const token = randomBytes(32).toString("hex");
  writePrivate(path, token + "\n");
  return token;
}

function usable(x509: X509Certificate, key: string, nowMs: number, listenHost: string): boolean {
  return x509.checkPrivateKey(createPrivateKey(key)) && Date.parse(x509.validTo) > nowMs && x509.ca && x509.checkIP(listenHost) !== undefined && x509.checkIP("127.0.0.1") !== undefined;
}

/**
 * The key and certificate the HTTPS side serves, from tls.key/tls.crt or newly created
 * (self-signed, ten years, valid for localhost, 127.0.0.1, ::1 and the listen address).
 * A stored pair that no longer loads, has expired, or does not cover the listen address is
 * replaced; the kubeconfig written afterwards pins whichever is served.
 */
export function loadOrCreateServingCertificate(dataDir: string, nowMs: number, listenHost = "127.0.0.1"): { key: string; cert: string } {
  const keyPath = join(dataDir, TLS_KEY_FILE);
  const certPath = join(dataDir, TLS_CERT_FILE);
  if (existsSync(keyPath) && existsSync(certPath)) {
    // Tighten a key restored or copied with looser permissions.
    chmodSync(keyPath, 0o600);
    const key = readFileSync(keyPath, "utf8");
    const cert = readFileSync(certPath, "utf8");
    try {
      if (usable(new X509Certificate(cert), key, nowMs, listenHost)) return { key, cert };
    } catch {
      // Unreadable: fall through and replace it.
    }
  }
  const pair = createSelfSignedCertificate({
    commonName: "zlh-apiserver",
    dnsNames: ["localhost"],
    ipAddresses: [...new Set(["127.0.0.1", "::1", listenHost])],
    notBefore: new Date(nowMs - 3_600_000),
    notAfter: new Date(nowMs + 3650 * 86_400_000),
  });
  writePrivate(keyPath, pair.keyPem);
  writeFileSync(certPath, pair.certPem);
  return { key: pair.keyPem, cert: pair.certPem };
}

export interface ServerUrls {
  /** http://127.0.0.1:PORT */
  http: string;
  /** https://127.0.0.1:PORT, the same listener. */
  https: string;
}

/**
 * Writes `<dataDir>/kubeconfig` and returns its path. The current context `zlh` uses
 * https, because kubectl sends the token only over TLS, and pins the server's own
 * certificate as its certificate authority: kubectl, client-node and the zlh CLI refuse
 * any other server at that address. Context `zlh-http` reaches the same server without
 * TLS, for the in-process controller only: it never leaves the loopback interface of this
 * process's host, and client-node accepts an http:// server only with
 * insecure-skip-tls-verify set (there is no certificate to verify on plain HTTP).
 */
export function writeKubeconfig(dataDir: string, urls: ServerUrls, token: string, certPem: string): string {
  const path = join(dataDir, KUBECONFIG_FILE);
  const config = {
    apiVersion: "v1",
    kind: "Config",
    clusters: [
      { name: "zlh", cluster: { server: urls.https, "certificate-authority-data": Buffer.from(certPem).toString("base64") } },
      { name: HTTP_CONTEXT, cluster: { server: urls.http, "insecure-skip-tls-verify": true } },
    ],
    users: [{ name: "zlh-admin", user: { token } }],
    contexts: [
      { name: "zlh", context: { cluster: "zlh", user: "zlh-admin", namespace: "default" } },
      { name: HTTP_CONTEXT, context: { cluster: HTTP_CONTEXT, user: "zlh-admin", namespace: "default" } },
    ],
    "current-context": "zlh",
  };
  writePrivate(path, stringify(config));
  return path;
}

export function writeServerInfo(dataDir: string, url: string): void {
  const path = join(dataDir, SERVER_INFO_FILE);
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify({ url, pid: process.pid }) + "\n");
  renameSync(tmp, path);
}
