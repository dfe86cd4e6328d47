// Second reference server for `make bench`: better-auth with e-mail and
// password sign-in and the bearer() plugin, on SQLite (better-sqlite3), served
// by Node's own http server through better-auth's toNodeHandler, one process.
//
// Installed by scripts/better-auth.sh (pinned in package.json and
// package-lock.json; better-sqlite3 compiled from source against this Node's
// headers). Run:
//   BETTER_AUTH_DB=/tmp/ba.db PORT=8766 node bench/better-auth/server.mjs
// It prints "listening on http://127.0.0.1:PORT" once the tables exist.
//
// Configuration is better-auth's defaults except:
//   * emailAndPassword enabled (off by default), no e-mail verification (the
//     default);
//   * bearer(): sign-in answers a `set-auth-token` header, and
//     `Authorization: Bearer <token>` is accepted in place of the cookie;
//   * rateLimit disabled, as ours is for the load (better-auth enables it in
//     production: 100 requests per 10 s per address, 3 per 10 s on sign-in);
//   * telemetry disabled; baseURL and secret given, so nothing is guessed.
// Tables come from better-auth's own getMigrations (better-auth/db/migration),
// run at start. Password hashing is left as shipped: @better-auth/utils'
// node:crypto scrypt, N=16384, r=16, p=1, dkLen 64 (32 MiB per hash), on
// libuv's thread pool (4 threads by default).
//
// Routes used by the bench:
//   POST /api/auth/sign-up/email  JSON {"email","password","name"}  -> 200
//   POST /api/auth/sign-in/email  JSON {"email","password"}          -> 200, set-auth-token: <token>
//   GET  /api/auth/get-session    Authorization: Bearer <token>      -> 200 {"session","user"}
//                                 (200 `null` when the token is not a live session)
import { createServer } from "node:http";

import Database from "better-sqlite3";
import { betterAuth } from "better-auth";
import { getMigrations } from "better-auth/db/migration";
import { toNodeHandler } from "better-auth/node";
import { bearer } from "better-auth/plugins/bearer";

const port = Number(process.env.PORT ?? 8766);
const file = process.env.BETTER_AUTH_DB ?? "better-auth.db";
const baseURL = `http://127.0.0.1:${port}`;

const options = {
  appName: "bench",
  baseURL,
  secret: process.env.BETTER_AUTH_SECRET ?? "SECRET-better-auth-bench-not-for-production-use",
  database: new Database(file),
  emailAndPassword: { enabled: true },
  plugins: [bearer()],
  rateLimit: { enabled: false },
  telemetry: { enabled: false },
};

const { runMigrations } = await getMigrations(options);
await runMigrations();

const auth = betterAuth(options);
const server = createServer(toNodeHandler(auth));
server.listen(port, "127.0.0.1", () => {
  console.log(`listening on ${baseURL}`);
});
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
