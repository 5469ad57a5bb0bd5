// An MCP server on Cloudflare Workers with a Xano backend, made by `mcpdeploy init`.
//
//   fetch  /mcp: callers' keys checked with Xano auth/me, sessions in mcp_sessions, one usage event per
//          tools/call sent to USAGE_QUEUE
//   queue  the usage-queue consumer: writes each event to usage_logs
//
// Configuration: SERVICE_CREDENTIALS and SERVICE_CREDENTIALS_KEY (written by `mcpdeploy provision`), XANO_AUTH_URL,
// AUTH_CACHE_SECONDS, SESSION_TOUCH_SECONDS and MCP_AUTH_DISABLED_UNTIL (the auth switch); see the README.

import { handleMcp, MCP_PATH } from "./mcp.mjs";
import { consumeUsage } from "./usage.mjs";

export default {
  async fetch(request, env, ctx) {
    const { pathname } = new URL(request.url);
    if (pathname === MCP_PATH) return handleMcp(request, env, ctx);
    if (pathname === "/") return new Response(`MCP server: POST ${MCP_PATH}\n`, { headers: { "Content-Type": "text/plain" } });
    return new Response("Not found\n", { status: 404, headers: { "Content-Type": "text/plain" } });
  },

  async queue(batch, env) {
    await consumeUsage(batch, env);
  },
};
