// Preloaded into server-everything (`node --require peers/loopback.cjs dist/index.js ...`).
//
// Why: server-everything calls `app.listen(PORT)` with no host, so it would listen on
// every interface, and it reads no variable for the host (only PORT). Tests must keep
// all traffic on 127.0.0.1, so this patches `net.Server.prototype.listen` (which
// express's `app.listen` and `http.Server.listen` end in) to bind 127.0.0.1 whatever
// the caller asked for. It also prints one line once the socket listens, so a human
// can see the real address; the tests themselves poll the TCP port.
"use strict";

const net = require("node:net");

const HOST = "127.0.0.1";
const original = net.Server.prototype.listen;

net.Server.prototype.listen = function listenOnLoopback(...args) {
  if (args.length > 0 && typeof args[0] === "object" && args[0] !== null) {
    // listen(options[, cb]): a path (unix socket) stays as it is; TCP gets the host.
    if (args[0].path === undefined) {
      args[0] = { ...args[0], host: HOST };
    }
  } else if (args.length > 0 && (typeof args[0] === "number" || /^\d+$/.test(String(args[0])))) {
    // listen(port[, host][, backlog][, cb]): drop a caller's host, put ours.
    const port = Number(args[0]);
    const rest = args.slice(1);
    if (typeof rest[0] === "string") {
      rest.shift();
    }
    args = [port, HOST, ...rest];
  }
  this.once("listening", () => {
    const address = this.address();
    if (address && typeof address === "object") {
      console.error(`[loopback.cjs] listening on ${address.address}:${address.port}`);
    }
  });
  return original.apply(this, args);
};
