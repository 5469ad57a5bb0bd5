// MCP sessions, kept in the Xano table mcp_sessions so that any isolate (any Cloudflare location) can resume a
// session another one started: the MCP transport itself is stateless per request.
//
//   initialize          POST /mcp_sessions {session_id, user_id, client_info, status: "active"}
//   a later request     GET /mcp_sessions/{id} the first time this isolate sees the session (the resume)
//   activity            PUT /mcp_sessions/{id} {last_active}, at most once per SESSION_TOUCH_SECONDS (default
//                       60) per session and isolate, in the background
//   DELETE /mcp         PUT /mcp_sessions/{id} {status: "closed"}; a closed session is 404 from then on

import { callXano } from "./xano.mjs";

const DEFAULT_TOUCH_SECONDS = 60;
const MAX_KNOWN = 5000;
const known = new Map(); // session id -> { userId, clientInfo, lastTouchedMs }

export class SessionError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

function touchMs(env) {
  const value = Number(env.SESSION_TOUCH_SECONDS);
  return (Number.isFinite(value) && value >= 0 ? value : DEFAULT_TOUCH_SECONDS) * 1000;
}

function remember(sessionId, entry) {
  if (known.size >= MAX_KNOWN) known.delete(known.keys().next().value);
  known.set(sessionId, entry);
  return entry;
}

function path(sessionId) {
  return `mcp_sessions/${encodeURIComponent(sessionId)}`;
}

// Record a new session; awaited before initialize is answered, so the next request finds it wherever it lands.
export async function startSession(config, userId, clientInfo, nowMs = Date.now()) {
  const sessionId = crypto.randomUUID();
  const answer = await callXano(config, "POST", "mcp_sessions",
    { session_id: sessionId, user_id: userId, client_info: clientInfo ?? null, status: "active" });
  if (answer.status < 200 || answer.status >= 300) {
    throw new SessionError(503, `could not record the session (Xano answered ${answer.status})`);
  }
  remember(sessionId, { userId, clientInfo: clientInfo ?? null, lastTouchedMs: nowMs });
  return sessionId;
}

// The session a request names, checked to belong to `userId` (null: auth is switched off, anyone's will do).
// Throws SessionError 404 for an unknown, closed or foreign session (the client must initialize again).
export async function resumeSession(config, sessionId, userId) {
  let entry = known.get(sessionId);
  if (!entry) {
    const answer = await callXano(config, "GET", path(sessionId));
    if (answer.status === 404) throw new SessionError(404, "Session not found");
    if (answer.status !== 200 || !answer.body) {
      throw new SessionError(503, `could not read the session (Xano answered ${answer.status})`);
    }
    if (answer.body.status === "closed") throw new SessionError(404, "Session not found");
    entry = remember(sessionId, { userId: String(answer.body.user_id), clientInfo: answer.body.client_info ?? null,
      lastTouchedMs: Number(answer.body.last_active) || 0 });
  }
  if (userId !== null && entry.userId !== userId) throw new SessionError(404, "Session not found");
  return entry;
}

// Move last_active forward, at most once per interval; the returned promise is for ctx.waitUntil.
export function touchSession(config, env, sessionId, entry, nowMs = Date.now()) {
  if (nowMs - entry.lastTouchedMs < touchMs(env)) return null;
  entry.lastTouchedMs = nowMs;
  return callXano(config, "PUT", path(sessionId), { last_active: nowMs }).then((answer) => {
    if (answer.status !== 200) console.warn(`session ${sessionId}: last_active not updated (${answer.status})`);
  }, (error) => console.warn(`session ${sessionId}: last_active not updated (${error.message})`));
}

export async function closeSession(config, sessionId) {
  const answer = await callXano(config, "PUT", path(sessionId), { status: "closed" });
  known.delete(sessionId);
  if (answer.status === 404) throw new SessionError(404, "Session not found");
  if (answer.status !== 200) throw new SessionError(503, `could not close the session (Xano answered ${answer.status})`);
}
