/**
 * Built-in provider presets: the real, documented OAuth endpoints of common
 * providers, with default scopes chosen so that a connection yields a refresh
 * token where the provider issues one, and each provider's departures from
 * RFC 6749 written down as data in `quirks`.
 *
 * Capability path prefixes are absolute paths on the capability's host (the
 * API base URL's host unless `hosts` says otherwise).
 */
import type { Preset } from './types.js';

const HOUR = 3600;
const DAY = 24 * HOUR;

export const PRESETS: readonly Preset[] = [
  {
    name: 'google',
    displayName: 'Google',
    issuer: 'https://accounts.google.com',
    authorizationEndpoint: 'https://accounts.google.com/o/oauth2/v2/auth',
    tokenEndpoint: 'https://oauth2.googleapis.com/token',
    revocationEndpoint: 'https://oauth2.googleapis.com/revoke',
    deviceAuthorizationEndpoint: 'https://oauth2.googleapis.com/device/code',
    userinfoEndpoint: 'https://openidconnect.googleapis.com/v1/userinfo',
    tokenEndpointAuthMethod: 'client_secret_post',
    scopes: [
      'openid',
      'email',
      'profile',
      'https://www.googleapis.com/auth/gmail.readonly',
      'https://www.googleapis.com/auth/calendar.readonly',
      'https://www.googleapis.com/auth/drive.readonly',
    ],
    pkce: true,
    authorizeParams: { access_type: 'offline', prompt: 'consent' },
    apiBaseUrl: 'https://www.googleapis.com',
    allowedHosts: ['www.googleapis.com', 'gmail.googleapis.com'],
    capabilities: [
      {
        name: 'gmail-read',
        description: 'Read Gmail messages, threads and labels',
        methods: ['GET'],
        pathPrefixes: ['/gmail/v1/users/'],
        hosts: ['gmail.googleapis.com'],
      },
      {
        name: 'calendar-read',
        description: 'Read Google Calendar calendars and events',
        methods: ['GET'],
        pathPrefixes: ['/calendar/v3/'],
      },
      {
        name: 'drive-read',
        description: 'List, search and download Google Drive files',
        methods: ['GET'],
        pathPrefixes: ['/drive/v3/files'],
      },
    ],
    quirks: {
      notes:
        'A refresh token is only issued with access_type=offline, and only on first consent unless prompt=consent. ' +
        'Refresh tokens of apps left in "Testing" publishing status expire after 7 days; unused refresh tokens expire after 6 months. ' +
        'gmail.readonly and drive.readonly are restricted scopes (app verification needed for public apps).',
    },
    docsUrl: 'https://developers.google.com/identity/protocols/oauth2/web-server',
  },
  {
    name: 'github',
    displayName: 'GitHub',
    authorizationEndpoint: 'https://github.com/login/oauth/authorize',
    tokenEndpoint: 'https://github.com/login/oauth/access_token',
    deviceAuthorizationEndpoint: 'https://github.com/login/device/code',
    tokenEndpointAuthMethod: 'client_secret_post',
    scopes: ['repo', 'read:user', 'notifications'],
    pkce: true,
    apiBaseUrl: 'https://api.github.com',
    allowedHosts: ['api.github.com'],
    capabilities: [
      {
        name: 'repos',
        description: "List the user's repositories and read repository contents, issues and pull requests",
        methods: ['GET'],
        pathPrefixes: ['/user/repos', '/repos/'],
      },
      {
        name: 'user',
        description: 'Read the authenticated user profile and emails',
        methods: ['GET'],
        pathPrefixes: ['/user'],
      },
      {
        name: 'notifications',
        description: "Read the user's notifications",
        methods: ['GET'],
        pathPrefixes: ['/notifications'],
      },
    ],
    quirks: {
      errorInSuccessfulTokenResponse: true,
      tokenScopeSeparator: ',',
      defaultExpiresIn: null,
      tokenRequestAcceptJson: true,
      notes:
        'OAuth app tokens do not expire and come without a refresh token unless the app opts in to expiring user tokens ' +
        '(then 8 h access / 6 month refresh tokens, and refresh tokens are single-use). ' +
        'Revocation is DELETE /applications/{client_id}/token on api.github.com, not RFC 7009. ' +
        'PKCE (S256) is supported since July 2025. The REST API requires a User-Agent header.',
    },
    docsUrl: 'https://docs.github.com/en/apps/oauth-apps/building-oauth-apps/authorizing-oauth-apps',
  },
  {
    name: 'microsoft',
    displayName: 'Microsoft (Entra ID / Microsoft Graph)',
    // Multi-tenant: an ID token's iss must be this with the token's own tid claim in place of {tenantid}.
    issuer: 'https://login.microsoftonline.com/{tenantid}/v2.0',
    authorizationEndpoint: 'https://login.microsoftonline.com/common/oauth2/v2.0/authorize',
    tokenEndpoint: 'https://login.microsoftonline.com/common/oauth2/v2.0/token',
    deviceAuthorizationEndpoint: 'https://login.microsoftonline.com/common/oauth2/v2.0/devicecode',
    userinfoEndpoint: 'https://graph.microsoft.com/oidc/userinfo',
    tokenEndpointAuthMethod: 'client_secret_post',
    scopes: [
      'openid',
      'profile',
      'email',
      'offline_access',
      'User.Read',
      'Mail.Read',
      'Calendars.Read',
      'Files.Read',
    ],
    pkce: true,
    apiBaseUrl: 'https://graph.microsoft.com',
    allowedHosts: ['graph.microsoft.com'],
    capabilities: [
      {
        name: 'mail-read',
        description: "Read the user's Outlook mail",
        methods: ['GET'],
        pathPrefixes: ['/v1.0/me/messages', '/v1.0/me/mailFolders'],
      },
      {
        name: 'calendar-read',
        description: "Read the user's calendars and events",
        methods: ['GET'],
        pathPrefixes: ['/v1.0/me/events', '/v1.0/me/calendarView', '/v1.0/me/calendars'],
      },
      {
        name: 'files-read',
        description: "Read the user's OneDrive files",
        methods: ['GET'],
        pathPrefixes: ['/v1.0/me/drive'],
      },
    ],
    quirks: {
      refreshTokenLifetime: 90 * DAY,
      notes:
        'Uses the multi-tenant "common" endpoint; replace "common" with a tenant ID or "organizations"/"consumers" to restrict sign-in. ' +
        'The issuer is the common tenant\'s template (https://login.microsoftonline.com/{tenantid}/v2.0): an ID token ' +
        'is accepted when its iss is the template with its own tid claim filled in. ' +
        'offline_access is needed for a refresh token. Every refresh returns a new refresh token: store it. ' +
        'Refresh tokens last 90 days (24 hours for SPA redirect URIs). No RFC 7009 revocation endpoint.',
    },
    docsUrl: 'https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-auth-code-flow',
  },
  {
    name: 'slack',
    displayName: 'Slack',
    authorizationEndpoint: 'https://slack.com/oauth/v2/authorize',
    tokenEndpoint: 'https://slack.com/api/oauth.v2.access',
    tokenEndpointAuthMethod: 'client_secret_basic',
    scopes: ['channels:read', 'channels:history', 'chat:write', 'search:read', 'users:read'],
    pkce: true,
    apiBaseUrl: 'https://slack.com/api',
    allowedHosts: ['slack.com'],
    capabilities: [
      {
        name: 'channels-read',
        description: 'List public channels and read their history',
        methods: ['GET'],
        pathPrefixes: ['/api/conversations.list', '/api/conversations.history', '/api/conversations.info', '/api/conversations.replies'],
      },
      {
        name: 'chat-write',
        description: 'Post messages as the user',
        methods: ['POST'],
        pathPrefixes: ['/api/chat.postMessage'],
      },
      {
        name: 'search',
        description: 'Search messages the user can see',
        methods: ['GET'],
        pathPrefixes: ['/api/search.messages'],
      },
    ],
    quirks: {
      errorInSuccessfulTokenResponse: true,
      tokenScopeSeparator: ',',
      authorizeScopeSeparator: ',',
      authorizeScopeParam: 'user_scope',
      tokenResponseRoot: 'authed_user',
      tokenTypeAliases: { user: 'bearer', bot: 'bearer' },
      defaultExpiresIn: null,
      notes:
        'OAuth v2: the scopes above are user scopes, sent as user_scope; the user token is in authed_user ' +
        '(the top-level access_token is the bot token, present only when bot scopes are requested). ' +
        'Errors come back as HTTP 200 with ok:false and an error member. Tokens do not expire unless token rotation ' +
        'is enabled for the app (then 12 h access tokens plus refresh tokens). Revoke with auth.revoke, called with the token itself.',
    },
    docsUrl: 'https://docs.slack.dev/authentication/installing-with-oauth',
  },
  {
    name: 'spotify',
    displayName: 'Spotify',
    authorizationEndpoint: 'https://accounts.spotify.com/authorize',
    tokenEndpoint: 'https://accounts.spotify.com/api/token',
    tokenEndpointAuthMethod: 'client_secret_basic',
    scopes: [
      'user-read-private',
      'user-read-email',
      'playlist-read-private',
      'playlist-read-collaborative',
      'user-read-playback-state',
      'user-read-currently-playing',
      'user-library-read',
    ],
    pkce: true,
    apiBaseUrl: 'https://api.spotify.com',
    allowedHosts: ['api.spotify.com'],
    capabilities: [
      {
        name: 'playlists',
        description: "Read the user's playlists and their tracks",
        methods: ['GET'],
        pathPrefixes: ['/v1/me/playlists', '/v1/playlists/'],
      },
      {
        name: 'player',
        description: 'Read the playback state and currently playing track',
        methods: ['GET'],
        pathPrefixes: ['/v1/me/player'],
      },
      {
        name: 'library',
        description: "Read the user's saved tracks and albums",
        methods: ['GET'],
        pathPrefixes: ['/v1/me/tracks', '/v1/me/albums'],
      },
    ],
    quirks: {
      notes:
        'Access tokens last 1 hour. A refresh response may carry a new refresh_token; keep the old one when it does not. ' +
        'No revocation endpoint: users remove access from their account page.',
    },
    docsUrl: 'https://developer.spotify.com/documentation/web-api/tutorials/code-flow',
  },
  {
    name: 'xero',
    displayName: 'Xero',
    issuer: 'https://identity.xero.com',
    authorizationEndpoint: 'https://login.xero.com/identity/connect/authorize',
    tokenEndpoint: 'https://identity.xero.com/connect/token',
    revocationEndpoint: 'https://identity.xero.com/connect/revocation',
    userinfoEndpoint: 'https://identity.xero.com/connect/userinfo',
    tokenEndpointAuthMethod: 'client_secret_basic',
    scopes: ['offline_access', 'accounting.invoices.read', 'accounting.contacts.read', 'accounting.settings.read'],
    pkce: true,
    apiBaseUrl: 'https://api.xero.com',
    allowedHosts: ['api.xero.com'],
    capabilities: [
      {
        name: 'connections',
        description: 'List the organisations (tenants) the user connected',
        methods: ['GET'],
        pathPrefixes: ['/connections'],
      },
      {
        name: 'accounting-read',
        description: 'Read invoices, contacts and organisation settings',
        methods: ['GET'],
        pathPrefixes: ['/api.xro/2.0/Invoices', '/api.xro/2.0/Contacts', '/api.xro/2.0/Organisation', '/api.xro/2.0/Accounts'],
      },
    ],
    quirks: {
      rotatesRefreshTokens: true,
      refreshTokenLifetime: 60 * DAY,
      notes:
        'Access tokens last 30 minutes; refresh tokens are single-use (the previous one stays valid for a 30-minute grace period) ' +
        'and expire after 60 days unused. Accounting calls need a xero-tenant-id header from GET /connections. ' +
        'Apps created on or after 2 March 2026 must use granular scopes (accounting.invoices.read etc.); ' +
        'the broad accounting.transactions scopes are being retired.',
    },
    docsUrl: 'https://developer.xero.com/documentation/guides/oauth2/auth-flow',
  },
  {
    name: 'quickbooks',
    displayName: 'QuickBooks Online (Intuit)',
    authorizationEndpoint: 'https://appcenter.intuit.com/connect/oauth2',
    tokenEndpoint: 'https://oauth.platform.intuit.com/oauth2/v1/tokens/bearer',
    revocationEndpoint: 'https://developer.api.intuit.com/v2/oauth2/tokens/revoke',
    userinfoEndpoint: 'https://accounts.platform.intuit.com/v1/openid_connect/userinfo',
    tokenEndpointAuthMethod: 'client_secret_basic',
    scopes: ['com.intuit.quickbooks.accounting'],
    pkce: true,
    apiBaseUrl: 'https://quickbooks.api.intuit.com',
    allowedHosts: ['quickbooks.api.intuit.com'],
    capabilities: [
      {
        name: 'accounting-read',
        description: 'Query and read QuickBooks accounting entities and reports',
        methods: ['GET'],
        pathPrefixes: ['/v3/company/'],
      },
      {
        name: 'accounting-write',
        description: 'Create and update QuickBooks accounting entities',
        methods: ['POST'],
        pathPrefixes: ['/v3/company/'],
      },
    ],
    quirks: {
      rotatesRefreshTokens: true,
      refreshTokenLifetime: 100 * DAY,
      notes:
        'Always store the refresh token from the latest response: it changes periodically and older ones stop working. ' +
        'Access tokens last 1 hour; refresh tokens expire after 100 days unused and, under the 2025 policy, after at most 5 years. ' +
        'The company ID (realmId) arrives as a query parameter on the redirect and goes in the path: /v3/company/{realmId}/... ' +
        'Sandbox companies use https://sandbox-quickbooks.api.intuit.com. The revocation endpoint takes a JSON body {"token": ...}. ' +
        'OIDC discovery lives at the non-standard https://developer.api.intuit.com/.well-known/openid_configuration, so no issuer is set.',
    },
    docsUrl: 'https://developer.intuit.com/app/developer/qbo/docs/develop/authentication-and-authorization/oauth-2.0',
  },
  {
    name: 'reddit',
    displayName: 'Reddit',
    authorizationEndpoint: 'https://www.reddit.com/api/v1/authorize',
    tokenEndpoint: 'https://www.reddit.com/api/v1/access_token',
    revocationEndpoint: 'https://www.reddit.com/api/v1/revoke_token',
    tokenEndpointAuthMethod: 'client_secret_basic',
    scopes: ['identity', 'read', 'history', 'mysubreddits'],
    pkce: true,
    authorizeParams: { duration: 'permanent' },
    apiBaseUrl: 'https://oauth.reddit.com',
    allowedHosts: ['oauth.reddit.com'],
    capabilities: [
      {
        name: 'identity',
        description: 'Read the authenticated account',
        methods: ['GET'],
        pathPrefixes: ['/api/v1/me'],
      },
      {
        name: 'read',
        description: 'Read subreddit listings, posts and comments',
        methods: ['GET'],
        pathPrefixes: ['/r/', '/comments/', '/best', '/hot', '/new'],
      },
      {
        name: 'history',
        description: "Read the user's own submissions, comments and saved items",
        methods: ['GET'],
        pathPrefixes: ['/user/'],
      },
    ],
    quirks: {
      notes:
        'duration=permanent is needed for a refresh token. Token requests use HTTP Basic client authentication, and every request, ' +
        'including token requests, must send a unique, descriptive User-Agent (e.g. "<platform>:<app id>:<version> (by /u/<username>)"). ' +
        'API calls go to oauth.reddit.com, not www.reddit.com.',
    },
    docsUrl: 'https://github.com/reddit-archive/reddit/wiki/OAuth2',
  },
  {
    name: 'notion',
    displayName: 'Notion',
    authorizationEndpoint: 'https://api.notion.com/v1/oauth/authorize',
    tokenEndpoint: 'https://api.notion.com/v1/oauth/token',
    revocationEndpoint: 'https://api.notion.com/v1/oauth/revoke',
    tokenEndpointAuthMethod: 'client_secret_basic',
    scopes: [],
    pkce: true,
    authorizeParams: { owner: 'user' },
    apiBaseUrl: 'https://api.notion.com',
    allowedHosts: ['api.notion.com'],
    capabilities: [
      {
        name: 'search',
        description: 'Search pages and databases shared with the integration',
        methods: ['POST'],
        pathPrefixes: ['/v1/search'],
      },
      {
        name: 'content-read',
        description: 'Read pages, blocks, databases and data sources',
        methods: ['GET'],
        pathPrefixes: ['/v1/pages/', '/v1/blocks/', '/v1/databases/', '/v1/data_sources/'],
      },
    ],
    quirks: {
      defaultExpiresIn: null,
      rotatesRefreshTokens: true,
      notes:
        'Notion has no OAuth scopes: the user picks the pages to share while authorizing, and capabilities are set on the integration. ' +
        'Token responses carry no expires_in and the refresh token has no documented expiry; a refresh returns a new access token and ' +
        'a new refresh token, so store both. Every API call (and the revoke call) needs a Notion-Version header. ' +
        'The token and revoke endpoints document JSON request bodies.',
    },
    docsUrl: 'https://developers.notion.com/docs/authorization',
  },
  {
    name: 'salesforce',
    displayName: 'Salesforce',
    issuer: 'https://login.salesforce.com',
    authorizationEndpoint: 'https://login.salesforce.com/services/oauth2/authorize',
    tokenEndpoint: 'https://login.salesforce.com/services/oauth2/token',
    revocationEndpoint: 'https://login.salesforce.com/services/oauth2/revoke',
    userinfoEndpoint: 'https://login.salesforce.com/services/oauth2/userinfo',
    tokenEndpointAuthMethod: 'client_secret_post',
    scopes: ['api', 'refresh_token'],
    pkce: true,
    apiBaseUrl: 'https://login.salesforce.com',
    allowedHosts: ['login.salesforce.com'],
    capabilities: [
      {
        name: 'data-read',
        description: 'Run SOQL queries and read sObject records',
        methods: ['GET'],
        pathPrefixes: ['/services/data/'],
      },
      {
        name: 'identity',
        description: 'Read the connected user',
        methods: ['GET'],
        pathPrefixes: ['/services/oauth2/userinfo'],
      },
    ],
    quirks: {
      instanceUrlField: 'instance_url',
      defaultExpiresIn: 2 * HOUR,
      notes:
        'API calls go to the org-specific instance_url from the token response (e.g. https://acme.my.salesforce.com), ' +
        'which replaces apiBaseUrl for the connection. The refresh_token scope is needed for a refresh token. ' +
        'Token responses have no expires_in; access tokens follow the org session timeout (2 hours by default). ' +
        'Use https://test.salesforce.com for sandboxes.',
    },
    docsUrl: 'https://help.salesforce.com/s/articleView?id=sf.remoteaccess_oauth_web_server_flow.htm&type=5',
  },
  {
    name: 'hubspot',
    displayName: 'HubSpot',
    authorizationEndpoint: 'https://app.hubspot.com/oauth/authorize',
    tokenEndpoint: 'https://api.hubapi.com/oauth/2026-03/token',
    tokenEndpointAuthMethod: 'client_secret_post',
    scopes: ['oauth', 'crm.objects.contacts.read', 'crm.objects.companies.read', 'crm.objects.deals.read'],
    pkce: true,
    apiBaseUrl: 'https://api.hubapi.com',
    allowedHosts: ['api.hubapi.com'],
    capabilities: [
      {
        name: 'contacts-read',
        description: 'Read CRM contacts and companies',
        methods: ['GET'],
        pathPrefixes: ['/crm/v3/objects/contacts', '/crm/v3/objects/companies'],
      },
      {
        name: 'deals-read',
        description: 'Read CRM deals',
        methods: ['GET'],
        pathPrefixes: ['/crm/v3/objects/deals'],
      },
    ],
    quirks: {
      notes:
        'Uses the date-versioned OAuth API (2026-03); /oauth/v3/token is equivalent and the legacy /oauth/v1/token is sunset on ' +
        '16 February 2027. Parameters go in the form body. Access tokens last 30 minutes; refresh tokens do not expire. ' +
        'No RFC 7009 revocation (legacy: DELETE /oauth/v1/refresh-tokens/{token}).',
    },
    docsUrl: 'https://developers.hubspot.com/docs/api-reference/latest/authentication/manage-oauth-tokens',
  },
  {
    name: 'linear',
    displayName: 'Linear',
    authorizationEndpoint: 'https://linear.app/oauth/authorize',
    tokenEndpoint: 'https://api.linear.app/oauth/token',
    revocationEndpoint: 'https://api.linear.app/oauth/revoke',
    tokenEndpointAuthMethod: 'client_secret_post',
    scopes: ['read', 'write'],
    pkce: true,
    apiBaseUrl: 'https://api.linear.app',
    allowedHosts: ['api.linear.app'],
    capabilities: [
      {
        name: 'graphql',
        description: 'Query and mutate issues, projects and comments through the GraphQL API',
        methods: ['POST'],
        pathPrefixes: ['/graphql'],
      },
    ],
    quirks: {
      authorizeScopeSeparator: ',',
      rotatesRefreshTokens: true,
      notes:
        'Scopes are comma-separated on the authorization request. Since April 2026 all apps get short-lived (24 h) access tokens ' +
        'with refresh tokens; store the refresh token returned by every refresh. Optional actor=app makes the app the author of changes.',
    },
    docsUrl: 'https://linear.app/developers/oauth-2-0-authentication',
  },
  {
    name: 'dropbox',
    displayName: 'Dropbox',
    issuer: 'https://www.dropbox.com',
    authorizationEndpoint: 'https://www.dropbox.com/oauth2/authorize',
    tokenEndpoint: 'https://api.dropboxapi.com/oauth2/token',
    tokenEndpointAuthMethod: 'client_secret_basic',
    scopes: ['account_info.read', 'files.metadata.read', 'files.content.read'],
    pkce: true,
    authorizeParams: { token_access_type: 'offline' },
    apiBaseUrl: 'https://api.dropboxapi.com',
    allowedHosts: ['api.dropboxapi.com', 'content.dropboxapi.com'],
    capabilities: [
      {
        name: 'files-read',
        description: 'List, search and read metadata of files and folders',
        methods: ['POST'],
        pathPrefixes: ['/2/files/list_folder', '/2/files/get_metadata', '/2/files/search_v2'],
      },
      {
        name: 'files-download',
        description: 'Download file contents',
        methods: ['POST'],
        pathPrefixes: ['/2/files/download'],
        hosts: ['content.dropboxapi.com'],
      },
      {
        name: 'account',
        description: 'Read the current account',
        methods: ['POST'],
        pathPrefixes: ['/2/users/get_current_account'],
      },
    ],
    quirks: {
      notes:
        'token_access_type=offline is needed for a refresh token; access tokens last 4 hours, refresh tokens do not expire or rotate. ' +
        'The API is RPC-style: every call is a POST. Revocation is POST /2/auth/token/revoke with the token as bearer, not RFC 7009.',
    },
    docsUrl: 'https://developers.dropbox.com/oauth-guide',
  },
  {
    name: 'zoom',
    displayName: 'Zoom',
    authorizationEndpoint: 'https://zoom.us/oauth/authorize',
    tokenEndpoint: 'https://zoom.us/oauth/token',
    revocationEndpoint: 'https://zoom.us/oauth/revoke',
    deviceAuthorizationEndpoint: 'https://zoom.us/oauth/devicecode',
    tokenEndpointAuthMethod: 'client_secret_basic',
    scopes: ['user:read:user', 'meeting:read:list_meetings', 'meeting:read:meeting'],
    pkce: true,
    apiBaseUrl: 'https://api.zoom.us',
    allowedHosts: ['api.zoom.us'],
    capabilities: [
      {
        name: 'user',
        description: 'Read the authenticated user',
        methods: ['GET'],
        pathPrefixes: ['/v2/users/me'],
      },
      {
        name: 'meetings',
        description: "List and read the user's meetings",
        methods: ['GET'],
        pathPrefixes: ['/v2/users/me/meetings', '/v2/meetings/'],
      },
    ],
    quirks: {
      rotatesRefreshTokens: true,
      refreshTokenLifetime: 90 * DAY,
      notes:
        'Access tokens last 1 hour; each refresh returns a new refresh token and invalidates the old one. ' +
        'Scopes are granular (resource:action:detail) and must also be enabled on the app; apps created before granular scopes use ' +
        'classic scopes such as user:read and meeting:read. The device flow needs "Use App on Device" enabled on the app.',
    },
    docsUrl: 'https://developers.zoom.us/docs/integrations/oauth/',
  },
  {
    name: 'discord',
    displayName: 'Discord',
    issuer: 'https://discord.com',
    authorizationEndpoint: 'https://discord.com/api/oauth2/authorize',
    tokenEndpoint: 'https://discord.com/api/oauth2/token',
    revocationEndpoint: 'https://discord.com/api/oauth2/token/revoke',
    tokenEndpointAuthMethod: 'client_secret_basic',
    scopes: ['identify', 'guilds'],
    pkce: true,
    apiBaseUrl: 'https://discord.com/api/v10',
    allowedHosts: ['discord.com'],
    capabilities: [
      {
        name: 'user',
        description: 'Read the authenticated user',
        methods: ['GET'],
        pathPrefixes: ['/api/v10/users/@me'],
      },
      {
        name: 'guilds',
        description: "List the user's servers (guilds)",
        methods: ['GET'],
        pathPrefixes: ['/api/v10/users/@me/guilds'],
      },
    ],
    quirks: {
      rotatesRefreshTokens: true,
      notes:
        'Issuer metadata is RFC 8414 (/.well-known/oauth-authorization-server), not OIDC. Access tokens last about 7 days; ' +
        'a refresh returns a new refresh token, store it.',
    },
    docsUrl: 'https://discord.com/developers/docs/topics/oauth2',
  },
  {
    name: 'gitlab',
    displayName: 'GitLab',
    issuer: 'https://gitlab.com',
    authorizationEndpoint: 'https://gitlab.com/oauth/authorize',
    tokenEndpoint: 'https://gitlab.com/oauth/token',
    revocationEndpoint: 'https://gitlab.com/oauth/revoke',
    deviceAuthorizationEndpoint: 'https://gitlab.com/oauth/authorize_device',
    userinfoEndpoint: 'https://gitlab.com/oauth/userinfo',
    tokenEndpointAuthMethod: 'client_secret_post',
    scopes: ['read_user', 'read_api'],
    pkce: true,
    apiBaseUrl: 'https://gitlab.com/api/v4',
    allowedHosts: ['gitlab.com'],
    capabilities: [
      {
        name: 'projects',
        description: 'List and read projects, repositories and files',
        methods: ['GET'],
        pathPrefixes: ['/api/v4/projects'],
      },
      {
        name: 'issues',
        description: 'Read issues and merge requests',
        methods: ['GET'],
        pathPrefixes: ['/api/v4/issues', '/api/v4/merge_requests'],
      },
      {
        name: 'user',
        description: 'Read the authenticated user',
        methods: ['GET'],
        pathPrefixes: ['/api/v4/user'],
      },
    ],
    quirks: {
      rotatesRefreshTokens: true,
      notes:
        'Access tokens last 2 hours; each refresh issues a new refresh token and revokes the old one. ' +
        'For self-managed GitLab, replace gitlab.com in every URL. Use the api scope instead of read_api for write access.',
    },
    docsUrl: 'https://docs.gitlab.com/api/oauth2/',
  },
  {
    name: 'atlassian',
    displayName: 'Atlassian (Jira / Confluence Cloud)',
    authorizationEndpoint: 'https://auth.atlassian.com/authorize',
    tokenEndpoint: 'https://auth.atlassian.com/oauth/token',
    tokenEndpointAuthMethod: 'client_secret_post',
    scopes: ['read:jira-work', 'read:jira-user', 'read:me', 'offline_access'],
    pkce: true,
    authorizeParams: { audience: 'api.atlassian.com', prompt: 'consent' },
    apiBaseUrl: 'https://api.atlassian.com',
    allowedHosts: ['api.atlassian.com'],
    capabilities: [
      {
        name: 'accessible-resources',
        description: 'List the sites (cloud IDs) the token can reach',
        methods: ['GET'],
        pathPrefixes: ['/oauth/token/accessible-resources'],
      },
      {
        name: 'jira-read',
        description: 'Search and read Jira issues and projects',
        methods: ['GET'],
        pathPrefixes: ['/ex/jira/'],
      },
      {
        name: 'me',
        description: 'Read the authenticated Atlassian account',
        methods: ['GET'],
        pathPrefixes: ['/me'],
      },
    ],
    quirks: {
      rotatesRefreshTokens: true,
      refreshTokenLifetime: 90 * DAY,
      notes:
        'OAuth 2.0 (3LO): audience=api.atlassian.com and prompt=consent are required, offline_access yields a refresh token. ' +
        'Refresh tokens rotate (the old pair keeps working for a 10-minute grace period) and expire after 90 days unused. ' +
        'Product calls go to https://api.atlassian.com/ex/{jira|confluence}/{cloudId}/..., with the cloud ID from accessible-resources. ' +
        'The token endpoint documents a JSON body. Add Confluence scopes (e.g. read:confluence-content.all) only if the app has the Confluence API enabled.',
    },
    docsUrl: 'https://developer.atlassian.com/cloud/jira/platform/oauth-2-3lo-apps/',
  },
  {
    name: 'asana',
    displayName: 'Asana',
    authorizationEndpoint: 'https://app.asana.com/-/oauth_authorize',
    tokenEndpoint: 'https://app.asana.com/-/oauth_token',
    revocationEndpoint: 'https://app.asana.com/-/oauth_revoke',
    userinfoEndpoint: 'https://app.asana.com/api/1.0/openid_connect/userinfo',
    tokenEndpointAuthMethod: 'client_secret_post',
    scopes: ['tasks:read', 'projects:read', 'workspaces:read', 'users:read'],
    pkce: true,
    apiBaseUrl: 'https://app.asana.com/api/1.0',
    allowedHosts: ['app.asana.com'],
    capabilities: [
      {
        name: 'tasks-read',
        description: 'Read tasks and workspaces',
        methods: ['GET'],
        pathPrefixes: ['/api/1.0/tasks', '/api/1.0/workspaces'],
      },
      {
        name: 'projects-read',
        description: 'Read projects',
        methods: ['GET'],
        pathPrefixes: ['/api/1.0/projects'],
      },
    ],
    quirks: {
      notes:
        'Access tokens last 1 hour; refresh tokens do not expire. Granular scopes and "Full permissions" are mutually exclusive per app: ' +
        'for a Full-permissions app, replace the scopes with ["default"].',
    },
    docsUrl: 'https://developers.asana.com/docs/oauth',
  },
  {
    name: 'figma',
    displayName: 'Figma',
    authorizationEndpoint: 'https://www.figma.com/oauth',
    tokenEndpoint: 'https://api.figma.com/v1/oauth/token',
    tokenEndpointAuthMethod: 'client_secret_basic',
    scopes: ['current_user:read', 'file_content:read', 'file_metadata:read', 'file_comments:read'],
    pkce: true,
    apiBaseUrl: 'https://api.figma.com',
    allowedHosts: ['api.figma.com'],
    capabilities: [
      {
        name: 'files-read',
        description: 'Read file contents, metadata, comments and rendered images',
        methods: ['GET'],
        pathPrefixes: ['/v1/files/', '/v1/images/'],
      },
      {
        name: 'me',
        description: 'Read the authenticated user',
        methods: ['GET'],
        pathPrefixes: ['/v1/me'],
      },
    ],
    quirks: {
      authorizeScopeSeparator: ',',
      refreshEndpoint: 'https://api.figma.com/v1/oauth/refresh',
      notes:
        'Refreshes go to /v1/oauth/refresh, which returns a new access token but no new refresh token (keep the old one). ' +
        'The token endpoint moved from www.figma.com/api/oauth/token to api.figma.com in 2025. ' +
        'files:read is deprecated in favour of the granular scopes above. Access tokens last 90 days.',
    },
    docsUrl: 'https://developers.figma.com/docs/rest-api/authentication/',
  },
  {
    name: 'twitter',
    displayName: 'X (Twitter)',
    authorizationEndpoint: 'https://twitter.com/i/oauth2/authorize',
    tokenEndpoint: 'https://api.x.com/2/oauth2/token',
    revocationEndpoint: 'https://api.x.com/2/oauth2/revoke',
    tokenEndpointAuthMethod: 'client_secret_basic',
    scopes: ['tweet.read', 'users.read', 'offline.access'],
    pkce: true,
    apiBaseUrl: 'https://api.x.com',
    allowedHosts: ['api.x.com', 'api.twitter.com'],
    capabilities: [
      {
        name: 'me',
        description: 'Read the authenticated user',
        methods: ['GET'],
        pathPrefixes: ['/2/users/me'],
      },
      {
        name: 'posts-read',
        description: 'Read posts and user timelines',
        methods: ['GET'],
        pathPrefixes: ['/2/tweets', '/2/users/'],
      },
    ],
    quirks: {
      rotatesRefreshTokens: true,
      notes:
        'PKCE is required. offline.access (with a dot) yields a refresh token. Access tokens last 2 hours; every refresh returns a ' +
        'new refresh token and invalidates the old one. Confidential clients authenticate with HTTP Basic; public clients send client_id.',
    },
    docsUrl: 'https://docs.x.com/fundamentals/authentication/oauth-2-0/authorization-code',
  },
];

const BY_NAME: ReadonlyMap<string, Preset> = new Map(PRESETS.map((p) => [p.name.toLowerCase(), p]));

/** The built-in preset with this name, matched case-insensitively. */
export function findPreset(name: string): Preset | undefined {
  return BY_NAME.get(name.trim().toLowerCase());
}
