// A real OpenID Provider (oidc-provider v9) for Muster's sign-in tests. Never for production.
//
// One confidential client (client_secret_basic, authorization code + PKCE S256), the dev
// login form (any password), no consent screen for that first-party client, RP-initiated
// logout, and JWT access tokens for one API resource that is the client's default resource.
// Everything comes from IDP_* environment variables set by tests/identity_provider.py.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';

import Provider, { errors } from 'oidc-provider';

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};
const list = (name) => env(name).split(',').map((item) => item.trim()).filter(Boolean);

const port = Number(env('IDP_PORT'));
const issuer = env('IDP_ISSUER');
const resource = env('IDP_RESOURCE');

const accounts = {
  'sre@example.com': { name: 'Sam Reliability', groups: ['sre'] },
  'security@example.com': { name: 'Sec Urity', groups: ['security'] },
  'admin@example.com': { name: 'Adrian Admin', groups: ['muster-admins', 'sre'] },
  'newcomer@example.com': { name: 'Nell Newcomer', groups: [] },
  'exec@example.com': { name: 'Evan Executive', groups: ['executives'] },
};
// Any other login is accepted too, with no groups.
const profile = (login) => accounts[login] ?? { name: login, groups: [] };

const configuration = {
  clients: [{
    client_id: env('IDP_CLIENT_ID'),
    client_secret: env('IDP_CLIENT_SECRET'),
    client_name: 'Muster',
    token_endpoint_auth_method: 'client_secret_basic',
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    redirect_uris: list('IDP_REDIRECT_URIS'),
    post_logout_redirect_uris: list('IDP_POST_LOGOUT_REDIRECT_URIS'),
  }],
  jwks: JSON.parse(readFileSync(env('IDP_JWKS_FILE'), 'utf8')),
  cookies: { keys: [randomBytes(32).toString('base64url')] },
  pkce: { required: () => true },
  ttl: {
    AccessToken: 3600, AuthorizationCode: 60, Grant: 3600, IdToken: 3600,
    Interaction: 600, RefreshToken: 86400, Session: 3600,
  },
  conformIdTokenClaims: false, // scope claims (groups) go into the ID token too
  scopes: ['openid', 'offline_access', 'email', 'profile', 'groups'],
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name'],
    groups: ['groups'],
  },
  async findAccount(_ctx, id) {
    return {
      accountId: id,
      async claims() {
        const { name, groups } = profile(id);
        return { sub: id, email: id, email_verified: true, name, groups };
      },
    };
  },
  // JWT access tokens carry the groups too, as many enterprise providers can be set up to do.
  async extraTokenClaims(_ctx, token) {
    if (token.kind !== 'AccessToken' || !token.accountId) return undefined;
    return { email: token.accountId, groups: profile(token.accountId).groups };
  },
  // First-party client: grant whatever it asks for, so no consent screen is shown.
  async loadExistingGrant(ctx) {
    const { oidc } = ctx;
    const { clientId } = oidc.client;
    const { accountId } = oidc.session;
    const grantId = oidc.result?.consent?.grantId || oidc.session.grantIdFor(clientId);
    let grant = grantId ? await oidc.provider.Grant.find(grantId) : undefined;
    if (!grant || grant.accountId !== accountId) {
      grant = new oidc.provider.Grant({ accountId, clientId });
    }
    grant.addOIDCScope([...oidc.requestParamOIDCScopes].join(' '));
    grant.addOIDCClaims([...oidc.requestParamClaims]);
    for (const indicator of Object.keys(oidc.resourceServers)) {
      grant.addResourceScope(indicator, [...oidc.requestParamScopes].join(' '));
    }
    await grant.save();
    return grant;
  },
  features: {
    devInteractions: { enabled: true },
    rpInitiatedLogout: { enabled: true },
    resourceIndicators: {
      enabled: true,
      // No `resource` parameter: the API is the audience all the same.
      defaultResource: async (_ctx, _client, oneOf) => oneOf ?? resource,
      // The code was granted for the API: the token endpoint issues the token for it.
      useGrantedResource: async () => true,
      async getResourceServerInfo(_ctx, indicator) {
        if (indicator !== resource) throw new errors.InvalidTarget();
        return {
          scope: 'openid email profile groups',
          audience: resource,
          accessTokenFormat: 'jwt',
          accessTokenTTL: 3600,
          jwt: { sign: { alg: 'RS256' } },
        };
      },
    },
  },
};

const provider = new Provider(issuer, configuration);
for (const event of ['server_error', 'authorization.error', 'grant.error', 'end_session.error']) {
  provider.on(event, (_ctx, error) => console.error(`${event}: ${error.name}: ${error.message}`));
}
provider.listen(port, '127.0.0.1', () => {
  console.log(`oidc-provider listening on ${issuer}`);
});
