import { createHmac } from 'node:crypto';

/**
 * The secret's key bytes, as Standard Webhooks defines them: `whsec_<base64>` is base64-decoded; any other
 * string is used as its UTF-8 bytes.
 */
export function secretKey(secret: string): Buffer {
  return secret.startsWith('whsec_')
    ? Buffer.from(secret.slice('whsec_'.length), 'base64')
    : Buffer.from(secret, 'utf8');
}

/**
 * Standard Webhooks headers (https://www.standardwebhooks.com): `webhook-id`, `webhook-timestamp` (seconds)
 * and `webhook-signature: v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">`. The id is the same on every
 * attempt of one delivery, so a receiver can drop a retry it already processed.
 */
export function signatureHeaders(
  key: Buffer,
  id: string,
  timestampS: number,
  body: string,
): Record<string, string> {
  const mac = createHmac('sha256', key).update(`${id}.${timestampS}.${body}`).digest('base64');
  return { 'webhook-id': id, 'webhook-timestamp': String(timestampS), 'webhook-signature': `v1,${mac}` };
}
