// The MCP server and its example tools: replace them with your own. Each tool may declare a `cost` (what one
// call costs you or your user, recorded in usage_logs.cost).

import { McpServer } from "@modelcontextprotocol/server";
import { z } from "zod";

export const SERVER_INFO = { name: "mcpdeploy-reference-worker", version: "1.0.0" };

const TOOLS = {
  echo: {
    cost: 0,
    config: { description: "Return the text it is given.", inputSchema: z.object({ text: z.string() }) },
    run: async ({ text }) => ({ content: [{ type: "text", text }] }),
  },
  whoami: {
    cost: 0,
    config: { description: "Return the Xano user the API key belongs to.", inputSchema: z.object({}) },
    run: async (_args, caller) => ({
      content: [{ type: "text", text: JSON.stringify(caller.user) }],
      structuredContent: { user: caller.user },
    }),
  },
  add: {
    cost: 0.001,
    config: {
      description: "Add two numbers.",
      inputSchema: z.object({ a: z.number(), b: z.number() }),
    },
    run: async ({ a, b }) => ({ content: [{ type: "text", text: String(a + b) }], structuredContent: { sum: a + b } }),
  },
};

export function costOf(name) {
  return TOOLS[name]?.cost ?? 0;
}

// A fresh server per request (the handler serves one request with it), knowing who is calling.
export function buildServer(caller) {
  const server = new McpServer(SERVER_INFO);
  for (const [name, tool] of Object.entries(TOOLS)) {
    server.registerTool(name, tool.config, (args) => tool.run(args, caller));
  }
  return server;
}
