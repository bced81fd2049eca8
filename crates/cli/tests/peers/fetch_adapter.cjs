// Serves a Fetch-style handler (`(Request) => Promise<Response | undefined>`) with
// node's `http` on 127.0.0.1, for the peers whose packages hand out such a handler
// (mcp-handler, tmcp) and leave the server to the framework (Next.js, Remix, ...).
// An `undefined` answer is a 404. Logs go to stderr.
"use strict";

const http = require("node:http");
const { Readable } = require("node:stream");

const HOST = "127.0.0.1";

function toWebRequest(req, origin) {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    for (const v of Array.isArray(value) ? value : [value]) headers.append(name, v);
  }
  const hasBody = req.method !== "GET" && req.method !== "HEAD";
  return new Request(new URL(req.url, origin), {
    method: req.method,
    headers,
    body: hasBody ? Readable.toWeb(req) : undefined,
    duplex: hasBody ? "half" : undefined,
  });
}

async function writeWebResponse(response, res) {
  // Headers one by one: a Headers object may hold several Set-Cookie lines.
  const headers = [];
  response.headers.forEach((value, name) => headers.push([name, value]));
  res.writeHead(response.status, headers.flat());
  if (!response.body) {
    res.end();
    return;
  }
  for await (const chunk of response.body) res.write(chunk);
  res.end();
}

/** Listens on 127.0.0.1:`port`; `handle` gets a Request, the origin is http://127.0.0.1:port. */
function serveFetch(port, handle, name) {
  const origin = `http://${HOST}:${port}`;
  const server = http.createServer(async (req, res) => {
    try {
      const response = (await handle(toWebRequest(req, origin))) ?? new Response("Not Found", { status: 404 });
      await writeWebResponse(response, res);
    } catch (e) {
      console.error(e);
      if (!res.headersSent) res.writeHead(500);
      res.end();
    }
  });
  server.listen(port, HOST, () => console.error(`${name}: listening on ${origin}`));
  return server;
}

/** The PORT argument, or exit 2 with the usage line. */
function portArg(text, usage) {
  const port = Number(text);
  if (!(port > 0 && port < 65536)) {
    console.error(`usage: ${usage}`);
    process.exit(2);
  }
  return port;
}

module.exports = { serveFetch, portArg, HOST };
