// The auth switch: honours the Worker secret MCP_AUTH_DISABLED_UNTIL that `mcpdeploy auth disable --for 15m`
// sets and `mcpdeploy auth enable` removes. Plain JavaScript, no dependencies (Workers and Node >= 18).
//
// Usage in a Worker, around the existing API-key check:
//   import { authBypass, markBypassed } from "./auth-switch.mjs";
//   export default {
//     async fetch(request, env, ctx) {
//       const bypass = authBypass(request, env);      // null: check the key as always
//       if (!bypass) {
//         const user = await checkApiKey(request, env);  // your Xano auth/me call
//         if (!user) return unauthorized();
//       }
//       const response = await handleMcp(request, env, ctx);
//       return bypass ? markBypassed(response, bypass) : response;
//     },
//   };
//
// The value is the expiry as Unix epoch seconds (digits only). Auth is skipped only while now < expiry.
// Absent, malformed (not digits, milliseconds), expired, or more than 24 hours ahead: auth stays ON.
// Every request let through logs a warning, and its response carries `MCP-Auth-Disabled-Until`, which
// `mcpdeploy smoke-test` reports as a warning.

export const SWITCH_SECRET = "MCP_AUTH_DISABLED_UNTIL";
export const RESPONSE_HEADER = "MCP-Auth-Disabled-Until";
const CEILING_SECONDS = 24 * 60 * 60;
const EPOCH_SECONDS = /^[0-9]{1,11}$/;

// When auth comes back (a Date) if `value` switches it off at `nowMs`; otherwise null (auth on).
export function disabledUntil(value, nowMs = Date.now()) {
  if (typeof value !== "string" || !EPOCH_SECONDS.test(value.trim())) return null;
  const untilSeconds = Number(value.trim());
  const nowSeconds = nowMs / 1000;
  if (!(nowSeconds < untilSeconds) || untilSeconds - nowSeconds > CEILING_SECONDS) return null;
  return new Date(untilSeconds * 1000);
}

// The expiry when this request may skip the key check, logging a warning; null when auth applies.
export function authBypass(request, env, nowMs = Date.now()) {
  const raw = env ? env[SWITCH_SECRET] : undefined;
  const until = disabledUntil(raw, nowMs);
  if (until === null) {
    if (typeof raw === "string" && raw.trim() !== "" && !EPOCH_SECONDS.test(raw.trim())) {
      console.warn(`auth switch: ignoring a malformed ${SWITCH_SECRET} (expected epoch seconds); auth is on`);
    }
    return null;
  }
  const path = new URL(request.url).pathname;  // never the query string or headers: they may hold keys
  console.warn(`auth switch: authentication is OFF until ${until.toISOString()}; ` +
    `let ${request.method} ${path} through without a key (turn it back on: mcpdeploy auth enable)`);
  return until;
}

// The same response, marked so clients and smoke tests can see auth was skipped.
export function markBypassed(response, until) {
  const marked = new Response(response.body, response);  // a fetched Response's headers are immutable
  marked.headers.set(RESPONSE_HEADER, until.toISOString().replace(/\.\d{3}Z$/, "Z"));
  return marked;
}
