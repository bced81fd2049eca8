// A small MCP server on npm's `fastmcp` (the TypeScript framework), for `tests/real_peers.rs`.
//
//     node fastmcp_npm_server.cjs stdio
//     node fastmcp_npm_server.cjs http PORT        (sessions; /mcp, and HTTP+SSE on /sse)
//     node fastmcp_npm_server.cjs stateless PORT   (/mcp without sessions)
//
// The package comes from `.tools/peers-npm/node_modules` through NODE_PATH (set by the
// test). HTTP binds 127.0.0.1 only (fastmcp's own default is every interface); logs go
// to stderr. Readiness is the port accepting connections.
"use strict";

const { FastMCP } = require("fastmcp");
const { z } = require("zod");

const [mode, portText] = process.argv.slice(2);

const server = new FastMCP({ name: "mcprobe-peer-fastmcp-npm", version: "0.1.0" });
server.addTool({
  name: "ping",
  description: "Answers pong; has no side effects.",
  annotations: { readOnlyHint: true, destructiveHint: false, openWorldHint: false },
  execute: async () => "pong",
});
server.addTool({
  name: "echo",
  description: "Echoes the message back.",
  parameters: z.object({ message: z.string() }),
  annotations: { readOnlyHint: true, openWorldHint: false },
  execute: async ({ message }) => message,
});

async function main() {
  if (mode === "stdio") {
    await server.start({ transportType: "stdio" });
    return;
  }
  const port = Number(portText);
  if (!(mode === "http" || mode === "stateless") || !(port > 0 && port < 65536)) {
    console.error("usage: node fastmcp_npm_server.cjs stdio | http PORT | stateless PORT");
    process.exit(2);
  }
  await server.start({
    transportType: "httpStream",
    httpStream: { host: "127.0.0.1", port, stateless: mode === "stateless" },
  });
  console.error(`fastmcp_npm_server: ${mode} on http://127.0.0.1:${port}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
