// An OpenID Connect provider on 127.0.0.1 for the social login tests:
// oauth2-mock-server (discovery, JWKS, authorization endpoint, token endpoint
// with S256 PKCE checks and one-time codes, RS256 ID tokens).
//
// Installed by the tests into .tools/oidc (see tests/src/oidc_provider.rs).
// Listens on OIDC_PORT (default: any free port) and prints {"issuer": "..."}
// once listening. With OIDC_EXIT_ON_STDIN_CLOSE=1 (the tests) it exits when
// stdin closes, i.e. when the test process ends or drops its handle.
//
// Test hook: an authorization request may carry `test_claims` (JSON); they
// are merged into the ID token issued for that code, so a test can shape
// e-mail, email_verified, aud or iss the way another provider would.
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const toolsDir = process.env.OIDC_TOOLS_DIR ?? fileURLToPath(new URL('../../.tools/oidc/', import.meta.url));
const require = createRequire(`${toolsDir}/package.json`);
const { OAuth2Server } = require('oauth2-mock-server');

const server = new OAuth2Server();
await server.issuer.keys.generate('RS256');
await server.start(Number(process.env.OIDC_PORT ?? 0), '127.0.0.1');
// The issuer is the address we listen on (the package would say `localhost`).
server.issuer.url = `http://127.0.0.1:${server.address().port}`;

const claimsByCode = new Map();
server.service.on('beforeAuthorizeRedirect', (redirect, req) => {
  const code = redirect.url.searchParams.get('code');
  const raw = req.query.test_claims;
  if (code && typeof raw === 'string') claimsByCode.set(code, JSON.parse(raw));
});
server.service.on('beforeTokenSigning', (token, req) => {
  const claims = claimsByCode.get(req.body?.code);
  // The access token carries `scope`; only the ID token is shaped.
  if (claims && !('scope' in token.payload)) Object.assign(token.payload, claims);
});

process.stdout.write(`${JSON.stringify({ issuer: server.issuer.url })}\n`);
if (process.env.OIDC_EXIT_ON_STDIN_CLOSE === '1') {
  process.stdin.resume();
  process.stdin.on('end', async () => {
    await server.stop();
    process.exit(0);
  });
}
