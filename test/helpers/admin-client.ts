/** A JSON request against a Latchkey server with the admin token (a string body is sent as it is). */
export type AdminCall = (method: string, path: string, body?: unknown) => Promise<{ status: number; body: unknown; headers: Headers }>;

export function adminClient(url: string, adminToken: string): AdminCall {
  return async (method, path, body) => {
    const res = await fetch(url + path, {
      method,
      headers: {
        authorization: `Bearer ${adminToken}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // not JSON
    }
    return { status: res.status, body: parsed, headers: res.headers };
  };
}
