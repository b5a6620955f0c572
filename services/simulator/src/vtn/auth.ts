import { randomBytes, timingSafeEqual } from 'node:crypto';

/** Who may call the VTN: a VEN (reads programs and events, writes its ven, subscriptions, reports) or the business logic. */
export type VtnRole = 'ven' | 'bl';

/** A client provisioned out of band, as OpenADR 3 assumes. */
export interface VtnClient {
  clientId: string;
  clientSecret: string;
  role: VtnRole;
}

/** What a valid bearer token stands for. */
export interface TokenGrant {
  clientId: string;
  role: VtnRole;
  expiresAtMs: number;
}

const sameSecret = (a: string, b: string) => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

/** The OAuth2 client-credentials authority of the VTN: issues, checks, expires and revokes bearer tokens. */
export class TokenAuthority {
  private readonly tokens = new Map<string, TokenGrant>();
  /** Tokens issued so far, per client id. */
  readonly issued = new Map<string, number>();

  constructor(
    private readonly clients: VtnClient[],
    private readonly tokenTtlS: number,
  ) {}

  /** A new token for valid credentials, undefined for unknown ones. */
  issue(
    clientId: string,
    clientSecret: string,
    nowMs = Date.now(),
  ): { token: string; ttlS: number } | undefined {
    const client = this.clients.find((c) => c.clientId === clientId);
    if (!client || !sameSecret(client.clientSecret, clientSecret)) return undefined;
    const token = randomBytes(24).toString('base64url');
    this.tokens.set(token, { clientId, role: client.role, expiresAtMs: nowMs + this.tokenTtlS * 1000 });
    this.issued.set(clientId, (this.issued.get(clientId) ?? 0) + 1);
    return { token, ttlS: this.tokenTtlS };
  }

  /** The grant of an `Authorization: Bearer …` header, undefined when missing, unknown or expired. */
  verify(authorization: string | undefined, nowMs = Date.now()): TokenGrant | undefined {
    const m = /^Bearer\s+(\S+)$/i.exec(authorization ?? '');
    const grant = m?.[1] ? this.tokens.get(m[1]) : undefined;
    if (!grant) return undefined;
    if (grant.expiresAtMs <= nowMs) {
      this.tokens.delete(m?.[1] ?? '');
      return undefined;
    }
    return grant;
  }

  /** Forgets every token: the next request of each client gets 401 (as after a VTN restart or key rotation). */
  revokeAll(): void {
    this.tokens.clear();
  }
}
