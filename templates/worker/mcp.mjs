// The /mcp endpoint: the key check, sessions and usage around a stateless MCP handler.
//
// The MCP protocol is served by Cloudflare's Agents SDK (`createMcpHandler` with an MCP SDK v2 server): it
// speaks both protocol eras (2025 `initialize` handshakes and the 2026-07-28 per-request envelope), validates
// Host and Origin, and needs no Durable Object, because every request gets a fresh server. What a session is
// lives in Xano (sessions.mjs), so the Worker can run anywhere. 2026-07-28 requests have no sessions by design:
// their usage rows carry session_id "stateless".

import { createMcpHandler } from "agents/mcp/server";
import { isLegacyRequest } from "@modelcontextprotocol/server";
import { authBypass, markBypassed } from "./auth-switch.mjs";
import { authenticate, unauthorized, unavailable, XanoUnavailable } from "./auth.mjs";
import { closeSession, resumeSession, SessionError, startSession, touchSession } from "./sessions.mjs";
import { buildServer, costOf } from "./tools.mjs";
import { recordUsage } from "./usage.mjs";
import { xanoConfig } from "./xano.mjs";

export const MCP_PATH = "/mcp";
const SESSION_HEADER = "Mcp-Session-Id";
// Who a request is while `mcpdeploy auth disable` has switched the key check off.
const ANONYMOUS = { id: "anonymous", name: "anonymous (auth switched off)" };

function rpcError(status, code, message, id = null) {
  return Response.json({ jsonrpc: "2.0", id, error: { code, message } }, { status });
}

async function readBody(request) {
  if (request.method !== "POST") return null;
  try {
    return JSON.parse(await request.clone().text());
  } catch {
    return null;  // the MCP handler answers malformed JSON itself (-32700)
  }
}

export async function handleMcp(request, env, ctx) {
  let config;
  try {
    config = await xanoConfig(env);
  } catch (error) {
    console.error(`configuration: ${error.message}`);
    return rpcError(500, -32603, "The Worker is not configured (see its logs)");
  }
  const bypass = authBypass(request, env);
  let user = ANONYMOUS;
  if (!bypass) {
    try {
      user = await authenticate(request, env, config);
    } catch (error) {
      if (error instanceof XanoUnavailable) return unavailable(error.message);
      throw error;
    }
    if (user === null) return unauthorized();
  }
  const response = await serve(request, env, ctx, config, user, bypass !== null);
  return bypass ? markBypassed(response, bypass) : response;
}

async function serve(request, env, ctx, config, user, anonymous) {
  const userId = String(user.id);
  const body = await readBody(request);
  const messages = body === null ? [] : [body].flat().filter((m) => m && typeof m === "object");
  const legacy = await isLegacyRequest(request.clone(), body ?? undefined);
  let sessionId = request.headers.get(SESSION_HEADER);
  let session = null;

  try {
    if (legacy && sessionId && request.method === "DELETE") {
      await resumeSession(config, sessionId, anonymous ? null : userId);
      await closeSession(config, sessionId);
      return new Response(null, { status: 200 });
    }
    if (legacy && sessionId && !messages.some((m) => m.method === "initialize")) {
      session = await resumeSession(config, sessionId, anonymous ? null : userId);
      const touch = touchSession(config, env, sessionId, session);
      if (touch) ctx.waitUntil(touch);
    } else if (legacy && request.method === "POST" && !messages.some((m) => m.method === "initialize")) {
      return rpcError(400, -32600, "Bad Request: Mcp-Session-Id header is required");
    }
  } catch (error) {
    if (error instanceof SessionError) return rpcError(error.status, -32001, error.message);
    throw error;
  }

  const caller = { user, sessionId };
  const handler = createMcpHandler(() => buildServer(caller), { route: MCP_PATH });
  const startedMs = Date.now();
  let response = await handler(request, env, ctx);

  const initialize = messages.find((m) => m.method === "initialize");
  if (legacy && initialize && response.status === 200) {
    try {
      sessionId = await startSession(config, userId, initialize.params?.clientInfo);
    } catch (error) {
      if (error instanceof SessionError) return unavailable(error.message);
      throw error;
    }
    response = new Response(response.body, response);
    response.headers.set(SESSION_HEADER, sessionId);
    return response;
  }

  const calls = messages.filter((m) => m.method === "tools/call" && m.id !== undefined);
  if (calls.length > 0 && response.body) {
    const [toClient, toUsage] = response.body.tee();
    const who = {
      sessionId: legacy ? sessionId : "stateless",
      userId,
      ip: request.headers.get("CF-Connecting-IP") || "",
      clientName: typeof session?.clientInfo?.name === "string" ? session.clientInfo.name : null,
      costOf,
    };
    ctx.waitUntil(recordUsage(env, calls, new Response(toUsage, response), who, startedMs));
    response = new Response(toClient, response);
  }
  return response;
}
