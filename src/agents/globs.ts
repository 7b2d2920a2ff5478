const cache = new Map<string, RegExp>();

function escape(text: string): string {
  return text.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Path globs: `*` matches within one segment, `**` across segments, and a
 * trailing `/**` also matches the directory itself (`/a/**` matches `/a`).
 */
export function pathGlob(glob: string): RegExp {
  const key = `p:${glob}`;
  let re = cache.get(key);
  if (re === undefined) {
    let out = '';
    for (let i = 0; i < glob.length; i += 1) {
      if (glob.startsWith('/**', i) && i + 3 === glob.length) {
        out += '(?:/.*)?';
        i += 2;
      } else if (glob.startsWith('**', i)) {
        out += '.*';
        i += 1;
      } else if (glob[i] === '*') out += '[^/]*';
      else out += escape(glob[i] as string);
    }
    re = new RegExp(`^${out}$`);
    cache.set(key, re);
  }
  return re;
}

/** Name globs (connections): `*` matches any run of characters. */
export function nameGlob(glob: string): RegExp {
  const key = `n:${glob}`;
  let re = cache.get(key);
  if (re === undefined) {
    re = new RegExp(`^${glob.split('*').map(escape).join('.*')}$`);
    cache.set(key, re);
  }
  return re;
}

export function matchesAny(globs: readonly string[], value: string, kind: 'path' | 'name'): boolean {
  const compile = kind === 'path' ? pathGlob : nameGlob;
  return globs.some((g) => compile(g).test(value));
}
