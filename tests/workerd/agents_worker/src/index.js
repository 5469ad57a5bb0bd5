// A small MCP Worker built the way Cloudflare's Agents SDK documents it (McpAgent: a Durable Object per session,
// answers in SSE), behind the bearer check a deployed mcpdeploy Worker does: the caller's key is looked up with
// Xano's `GET {XANO_AUTH_URL}/auth/me`, and anything but a 200 is a 401 with a Bearer challenge.
//
// One `wrangler dev` serves four Workers, so the tests start workerd once:
//   /mcp               the good Worker: checks the key, and its tool `echo` works
//   /unguarded/mcp     the same server with the key check left out (a middleware commented out)
//   /failing-tool/mcp  checks the key, but its tool `echo` throws
//   /stateless/mcp     the good Worker built the newer way: createMcpHandler and MCP SDK v2, no sessions, and
//                      the 2026-07-28 revision spoken beside the older ones
import { McpAgent } from "agents/mcp";
import { createMcpHandler } from "agents/mcp/server";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { McpServer as McpServerV2 } from "@modelcontextprotocol/server";
import { z } from "zod";

export class EchoMcp extends McpAgent {
  server = new McpServer({ name: "workerd-echo", version: "1.0.0" });

  async init() {
    this.server.registerTool(
      "echo",
      { description: "Return the text it is given.", inputSchema: { text: z.string() } },
      async ({ text }) => ({ content: [{ type: "text", text: this.echo(text) }] }),
    );
  }

  echo(text) {
    return text;
  }
}

// The MCP SDK turns an exception in a tool into a result with `isError: true`, which is what a client sees when a
// deployed tool breaks (its backend down, a bug): the JSON-RPC call itself succeeds.
export class FailingToolMcp extends EchoMcp {
  echo() {
    throw new Error("the echo backend is down");
  }
}

function statelessEchoServer() {
  const server = new McpServerV2({ name: "workerd-echo-stateless", version: "1.0.0" });
  server.registerTool(
    "echo",
    { description: "Return the text it is given.", inputSchema: z.object({ text: z.string() }) },
    async ({ text }) => ({ content: [{ type: "text", text }] }),
  );
  return server;
}

// Each route's `serve(request, env, ctx)` answers the MCP requests behind the key check.
const routes = {
  "/mcp": { guarded: true, serve: EchoMcp.serve("/mcp", { binding: "ECHO_MCP" }).fetch },
  "/unguarded/mcp": { guarded: false, serve: EchoMcp.serve("/unguarded/mcp", { binding: "ECHO_MCP" }).fetch },
  "/failing-tool/mcp": {
    guarded: true,
    serve: FailingToolMcp.serve("/failing-tool/mcp", { binding: "FAILING_TOOL_MCP" }).fetch,
  },
  "/stateless/mcp": { guarded: true, serve: createMcpHandler(statelessEchoServer, { route: "/stateless/mcp" }) },
};

async function keyIsAccepted(request, env) {
  const authorization = request.headers.get("Authorization");
  if (!authorization?.startsWith("Bearer ")) {
    return false;
  }
  const answer = await fetch(`${env.XANO_AUTH_URL}/auth/me`, {
    headers: { Authorization: authorization, Accept: "application/json" },
  });
  return answer.status === 200;
}

function unauthorized() {
  return Response.json(
    { jsonrpc: "2.0", id: null, error: { code: -32001, message: "Unauthorized: a valid API key is required" } },
    { status: 401, headers: { "WWW-Authenticate": 'Bearer realm="mcp"' } },
  );
}

export default {
  async fetch(request, env, ctx) {
    const route = routes[new URL(request.url).pathname];
    if (!route) {
      return new Response("Not found", { status: 404 });
    }
    if (route.guarded && !(await keyIsAccepted(request, env))) {
      return unauthorized();
    }
    return route.serve(request, env, ctx);
  },
};
