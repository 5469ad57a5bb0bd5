// The bearer-key check: every request to /mcp carries `Authorization: Bearer <key>`, and the key is good when
// Xano's `GET {auth_url}/auth/me` answers 200 with the user it belongs to.
//
// Successful checks are cached for a short while (AUTH_CACHE_SECONDS, default 30) so a busy session does not
// call Xano on every message; a refused key is never cached, so a key made valid a second ago works at once,
// and a revoked key stops working within the cache time. The cache is per isolate and keyed by a SHA-256 of
// the key, so raw keys are not kept as map keys.

import { xanoUrl } from "./xano.mjs";

const DEFAULT_CACHE_SECONDS = 30;
const MAX_CACHED = 1000;
const cache = new Map(); // sha256(key) -> { user, expiresAt }

export class XanoUnavailable extends Error {}

function bearerKey(request) {
  const header = request.headers.get("Authorization") || "";
  const match = /^Bearer[ ]+(\S+)\s*$/i.exec(header);
  return match ? match[1] : null;
}

async function digest(text) {
  const bytes = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(bytes), (b) => b.toString(16).padStart(2, "0")).join("");
}

function cacheSeconds(env) {
  const value = Number(env.AUTH_CACHE_SECONDS);
  return Number.isFinite(value) && value >= 0 ? value : DEFAULT_CACHE_SECONDS;
}

// The Xano user the request's key belongs to, or null when there is no key or Xano refuses it.
// Throws XanoUnavailable when Xano cannot say (down, 5xx, 429): that is not the caller's fault, so not a 401.
export async function authenticate(request, env, config, nowMs = Date.now()) {
  const key = bearerKey(request);
  if (key === null) return null;
  const id = await digest(key);
  const hit = cache.get(id);
  if (hit && hit.expiresAt > nowMs) return hit.user;
  cache.delete(id);

  let answer;
  try {
    answer = await fetch(xanoUrl(config.authUrl, "auth/me"), {
      headers: { Authorization: `Bearer ${key}`, Accept: "application/json" },
    });
  } catch (error) {
    throw new XanoUnavailable(`auth/me did not answer: ${error.message}`);
  }
  if (answer.status === 401 || answer.status === 403 || answer.status === 404) return null;
  if (answer.status !== 200) throw new XanoUnavailable(`auth/me answered ${answer.status}`);
  const user = await answer.json().catch(() => null);
  if (user === null || typeof user !== "object" || user.id === undefined || user.id === null) {
    throw new XanoUnavailable("auth/me answered 200 without a user id");
  }
  const ttl = cacheSeconds(env) * 1000;
  if (ttl > 0) {
    if (cache.size >= MAX_CACHED) cache.delete(cache.keys().next().value);  // the oldest entry
    cache.set(id, { user, expiresAt: nowMs + ttl });
  }
  return user;
}

export function unauthorized() {
  return Response.json(
    { jsonrpc: "2.0", id: null, error: { code: -32001, message: "Unauthorized: a valid API key is required " +
      "(Authorization: Bearer <key>)" } },
    { status: 401, headers: { "WWW-Authenticate": 'Bearer realm="mcp", error="invalid_token"' } },
  );
}

export function unavailable(reason) {
  console.error(`xano unavailable: ${reason}`);
  return Response.json(
    { jsonrpc: "2.0", id: null, error: { code: -32603, message: "The backend is unavailable; try again shortly" } },
    { status: 503, headers: { "Retry-After": "5" } },
  );
}
