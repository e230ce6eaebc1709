/**
 * What an endpoint's address is, in words a user can check: its host, whether it is this machine (loopback),
 * and whether the connection is encrypted. The warning uses it so a server on 127.0.0.1 is never called "a
 * cloud model", and the policy uses it to refuse plain `http://` to another machine unless the user allowed it.
 */

export interface EndpointAddress {
  /** `host[:port]` as written in the URL (the IPv6 brackets kept). */
  host: string;
  /** The URL's scheme without `:`, e.g. `https`. */
  scheme: string;
  /** 127.0.0.0/8, ::1 or `localhost` (and `*.localhost`, which resolvers keep on this machine). */
  loopback: boolean;
  /** `https`, or any scheme other than plain `http`. */
  encrypted: boolean;
}

/** Whether a host name (no port) names this machine. */
export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.toLowerCase().replace(/^\[|\]$/g, '').replace(/\.$/, '');
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (h === '::1' || h === '0:0:0:0:0:0:0:1') return true;
  // IPv4-mapped IPv6 loopback, e.g. ::ffff:127.0.0.1 (URL writes it as ::ffff:7f00:1).
  const mapped = /^::ffff:(.+)$/.exec(h)?.[1];
  if (mapped && (/^127\./.test(mapped) || /^7f[0-9a-f]{2}:/.test(mapped))) return true;
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

/** Parses an endpoint's base URL; an unparseable one is treated as remote and unencrypted (fail closed). */
export function endpointAddress(baseUrl: string): EndpointAddress {
  try {
    const url = new URL(baseUrl);
    const scheme = url.protocol.replace(/:$/, '');
    return { host: url.host || baseUrl, scheme, loopback: isLoopbackHost(url.hostname), encrypted: scheme !== 'http' };
  } catch {
    return { host: baseUrl, scheme: '', loopback: false, encrypted: false };
  }
}
