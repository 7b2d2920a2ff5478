type OidcModule = typeof import('oidc-provider');

let loaded: OidcModule | undefined;
let loading: Promise<OidcModule> | undefined;

/**
 * panva's oidc-provider is loaded on the first request that needs the /mcp
 * authorization server, not when `latchkey serve` starts: most deployments
 * never serve remote MCP, start faster without it, and on Node 20 are not
 * shown its runtime warning at every start.
 */
export function loadOidcProvider(): Promise<OidcModule> {
  loading ??= import('oidc-provider').then(
    (module) => {
      loaded = module;
      return module;
    },
    (err: unknown) => {
      loading = undefined;
      throw err;
    },
  );
  return loading;
}

/** The loaded module; only after `loadOidcProvider()` has resolved. */
export function oidcProvider(): OidcModule {
  if (loaded === undefined) throw new Error('oidc-provider is used before it was loaded');
  return loaded;
}
