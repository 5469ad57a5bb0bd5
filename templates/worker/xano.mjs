// The Worker's view of Xano: where it is and with which key, from the encrypted SERVICE_CREDENTIALS that
// `mcpdeploy provision` writes (.dev.vars locally, a Worker secret when deployed), and one way to call it.
//
// SERVICE_CREDENTIALS.xano.credentials holds:
//   base_url  the API group with the mcp_sessions and usage_logs endpoints (provision fills it in)
//   api_key   optional: sent as a Bearer token to those endpoints, if you protect them
//   auth_url  optional: the API group whose `auth/me` checks callers' keys, when it is not base_url's group
// The plain variable XANO_AUTH_URL (wrangler.toml [vars], or `wrangler dev --var`) wins over auth_url.

import { decryptServiceCredentials } from "./decrypt-credentials.mjs";

// Decrypting costs a key import and an AES-GCM open: done once per isolate for a given secret value.
let opened = null;

export async function xanoConfig(env) {
  const raw = env.SERVICE_CREDENTIALS;
  const key = env.SERVICE_CREDENTIALS_KEY;
  if (!raw || !key) {
    throw new Error("SERVICE_CREDENTIALS and SERVICE_CREDENTIALS_KEY are not set: run `mcpdeploy provision`");
  }
  if (opened === null || opened.raw !== raw || opened.key !== key) {
    const pending = decryptServiceCredentials(raw, key).then((services) => configFrom(services, env));
    opened = { raw, key, pending };
    // A failed open is not kept: the next request tries again (the secret may have been fixed meanwhile).
    pending.catch(() => { if (opened?.pending === pending) opened = null; });
  }
  const config = await opened.pending;
  const authUrl = trimmed(env.XANO_AUTH_URL) || config.authUrl;
  return authUrl === config.authUrl ? config : { ...config, authUrl };
}

function configFrom(services, env) {
  const credentials = services.xano?.credentials;
  if (!credentials || typeof credentials.base_url !== "string" || credentials.base_url === "") {
    throw new Error("SERVICE_CREDENTIALS has no xano base_url: run `mcpdeploy provision`");
  }
  const baseUrl = trimmed(credentials.base_url);
  return {
    baseUrl,
    apiKey: typeof credentials.api_key === "string" && credentials.api_key !== "" ? credentials.api_key : null,
    authUrl: trimmed(credentials.auth_url) || baseUrl,
  };
}

function trimmed(url) {
  return typeof url === "string" ? url.trim().replace(/\/+$/, "") : "";
}

// Xano URLs are joined as strings: URL resolution would drop the `api:group` segment (no trailing slash) or
// read "api:group/..." as a URL whose scheme is "api".
export function xanoUrl(base, path) {
  return `${base}/${path.replace(/^\/+/, "")}`;
}

// One call to an endpoint of the API group; answers { status, body } (body: parsed JSON, or null).
// Network failures throw, so callers can tell "Xano said no" from "Xano did not answer".
export async function callXano(config, method, path, payload) {
  const headers = { Accept: "application/json" };
  if (config.apiKey) headers.Authorization = `Bearer ${config.apiKey}`;
  const init = { method, headers };
  if (payload !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(payload);
  }
  const response = await fetch(xanoUrl(config.baseUrl, path), init);
  const text = await response.text();
  let body = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = null;
  }
  return { status: response.status, body };
}
