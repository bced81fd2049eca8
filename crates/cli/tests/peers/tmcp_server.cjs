// A small MCP server on npm's `tmcp` (with `@tmcp/transport-http`, `@tmcp/transport-stdio`
// and `@tmcp/adapter-zod`), for `tests/real_peers.rs`.
//
//     node tmcp_server.cjs http PORT   (Streamable HTTP on /mcp: 2026-07-28 and sessions)
//     node tmcp_server.cjs stdio
//
// The HTTP transport answers Fetch `Request`s; `fetch_adapter.cjs` serves it with node's
// `http` on 127.0.0.1. Packages come from `.tools/peers-npm/node_modules` through
// NODE_PATH (set by the test). Logs go to stderr.
"use strict";

const { McpServer } = require("tmcp");
const { ZodJsonSchemaAdapter } = require("@tmcp/adapter-zod");
const { z } = require("zod");
const { serveFetch, portArg } = require("./fetch_adapter.cjs");

const [mode, portText] = process.argv.slice(2);

const server = new McpServer(
  { name: "mcprobe-peer-tmcp", version: "0.1.0", description: "mcprobe's tmcp peer" },
  { adapter: new ZodJsonSchemaAdapter(), capabilities: { tools: { listChanged: true } } },
);
server.tool(
  {
    name: "ping",
    description: "Answers pong; has no side effects.",
    annotations: { readOnlyHint: true, destructiveHint: false, openWorldHint: false },
  },
  async () => ({ content: [{ type: "text", text: "pong" }] }),
);
server.tool(
  {
    name: "echo",
    description: "Echoes the message back.",
    schema: z.object({ message: z.string() }),
    annotations: { readOnlyHint: true, openWorldHint: false },
  },
  async ({ message }) => ({ content: [{ type: "text", text: message }] }),
);

if (mode === "stdio") {
  const { StdioTransport } = require("@tmcp/transport-stdio");
  new StdioTransport(server).listen();
} else if (mode === "http") {
  const { HttpTransport } = require("@tmcp/transport-http");
  const transport = new HttpTransport(server, { path: "/mcp" });
  serveFetch(portArg(portText, "node tmcp_server.cjs http PORT | stdio"), (req) => transport.respond(req), "tmcp_server");
} else {
  console.error("usage: node tmcp_server.cjs http PORT | stdio");
  process.exit(2);
}
