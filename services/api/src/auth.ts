import { createHash } from 'node:crypto';
import type { Scope, TokenEntry } from './config.js';
import { ApiError } from './errors.js';

/** Lower-case hex SHA-256 of a bearer token: what the configuration stores instead of the token. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** The client a request was authenticated as. */
export interface Principal {
  name: string;
  scopes: ReadonlySet<Scope>;
}

/** RFC 6750 token68 characters: what a bearer token may be made of. */
const BEARER = /^Bearer ([A-Za-z0-9\-._~+/]+=*)$/;

/**
 * Bearer-token authentication against SHA-256 hashes from the configuration. Tokens are random secrets of
 * at least 128 bits, so one fast hash suffices (no password stretching), and looking the digest up in a map
 * leaks nothing useful about the token: an attacker cannot steer the digest's prefix.
 */
export class Authenticator {
  private readonly byHash = new Map<string, Principal>();

  constructor(tokens: readonly TokenEntry[]) {
    for (const t of tokens) this.byHash.set(t.sha256, { name: t.name, scopes: new Set(t.scopes) });
  }

  get size(): number {
    return this.byHash.size;
  }

  /** The principal of an Authorization header, or a 401 saying what is wrong with it. */
  authenticate(header: string | undefined): Principal {
    const challenge = { 'www-authenticate': 'Bearer realm="busway"' };
    if (header === undefined || header === '')
      throw new ApiError(
        401,
        'missing-token',
        'an Authorization: Bearer <token> header is required',
        challenge,
      );
    const m = BEARER.exec(header);
    if (!m)
      throw new ApiError(
        401,
        'malformed-authorization',
        'the Authorization header must be "Bearer <token>"',
        challenge,
      );
    const principal = this.byHash.get(hashToken(m[1] as string));
    if (!principal)
      throw new ApiError(401, 'unknown-token', 'the bearer token is not known (revoked or mistyped?)', {
        'www-authenticate': 'Bearer realm="busway", error="invalid_token"',
      });
    return principal;
  }

  /** Refuses with 403 a principal without `scope`. */
  static require(principal: Principal, scope: Scope): void {
    if (!principal.scopes.has(scope))
      throw new ApiError(403, 'missing-scope', `token '${principal.name}' lacks the '${scope}' scope`, {
        'www-authenticate': `Bearer realm="busway", error="insufficient_scope", scope="${scope}"`,
      });
  }
}

/** Token buckets per client: `ratePerS` requests a second, bursts of as many. */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; atMs: number }>();

  constructor(private readonly ratePerS: number) {}

  /** Takes one request from the client's bucket, or throws 429 when it is empty. */
  take(client: string, nowMs = Date.now()): void {
    const b = this.buckets.get(client) ?? { tokens: this.ratePerS, atMs: nowMs };
    b.tokens = Math.min(this.ratePerS, b.tokens + ((nowMs - b.atMs) / 1000) * this.ratePerS);
    b.atMs = nowMs;
    this.buckets.set(client, b);
    if (b.tokens < 1)
      throw new ApiError(
        429,
        'rate-limited',
        `more than ${this.ratePerS} requests per second from '${client}'`,
        {
          'retry-after': '1',
        },
      );
    b.tokens -= 1;
  }
}
