import {
  createHash,
  createHmac,
  createPublicKey,
  createSecretKey,
  type KeyObject,
  hash as oneShotHash,
  timingSafeEqual,
  verify as verifySignature,
} from 'node:crypto';

export type Bytes = string | Uint8Array;

/**
 * The cryptographic primitives adapters need, behind a port so that tests and benchmarks can count or
 * replace them. Every comparison of secret-derived bytes goes through `constantTimeEqual`.
 */
export interface Crypto {
  /** A KeyObject key is used as is; callers that derive a key from a secret can prepare it once. */
  hmacSha256(key: Bytes | KeyObject, ...parts: Bytes[]): Buffer;
  sha256Hex(...parts: Bytes[]): string;
  /** Constant-time for equal lengths; different lengths return false without comparing. */
  constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean;
  /** RSASSA-PKCS1-v1_5 with SHA-256 over `data`. `publicKey` is a PEM (SPKI or PKCS#1). */
  verifyRsaSha256(publicKey: string, data: Uint8Array, signature: Uint8Array): boolean;
  /** Ed25519 over `data`. `publicKey` is a PEM, or the 32 raw key bytes in base64. */
  verifyEd25519(publicKey: string, data: Uint8Array, signature: Uint8Array): boolean;
}

const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

function toPublicKey(material: string): KeyObject {
  if (material.includes('-----BEGIN')) return createPublicKey(material);
  const raw = Buffer.from(material, 'base64');
  if (raw.length !== 32) throw new Error('an ed25519 public key must be a PEM or 32 bytes in base64');
  return createPublicKey({ key: Buffer.concat([ED25519_SPKI_PREFIX, raw]), format: 'der', type: 'spki' });
}

/** Beyond this many distinct HMAC keys (rotations over a long-lived process), the cache starts over. */
const MAX_CACHED_SECRET_KEYS = 64;

export function createNodeCrypto(): Crypto {
  // Importing a string key on every createHmac costs more than hashing a small body; secrets change rarely.
  const secretKeys = new Map<string, KeyObject>();
  const secretKeyFor = (secret: string): KeyObject => {
    let key = secretKeys.get(secret);
    if (key === undefined) {
      if (secretKeys.size >= MAX_CACHED_SECRET_KEYS) secretKeys.clear();
      key = createSecretKey(Buffer.from(secret, 'utf8'));
      secretKeys.set(secret, key);
    }
    return key;
  };

  // Parsing a PEM costs more than the verification itself, and keys change only on redeploy.
  const keys = new Map<string, KeyObject>();
  const keyFor = (material: string): KeyObject => {
    let key = keys.get(material);
    if (!key) {
      key = toPublicKey(material);
      keys.set(material, key);
    }
    return key;
  };

  return {
    hmacSha256(key, ...parts) {
      const mac = createHmac('sha256', typeof key === 'string' ? secretKeyFor(key) : key);
      for (let i = 0; i < parts.length; i++) mac.update(parts[i] as Bytes);
      return mac.digest();
    },
    sha256Hex(...parts) {
      // The one-shot digest skips the Hash object, which costs more than hashing a short input.
      if (parts.length === 1 && parts[0] !== undefined) return oneShotHash('sha256', parts[0], 'hex');
      if (parts.every((part) => typeof part === 'string'))
        return oneShotHash('sha256', parts.join(''), 'hex');
      const hash = createHash('sha256');
      for (const part of parts) hash.update(part);
      return hash.digest('hex');
    },
    constantTimeEqual(a, b) {
      return a.length === b.length && timingSafeEqual(a, b);
    },
    verifyRsaSha256(publicKey, data, signature) {
      try {
        return verifySignature('sha256', data, keyFor(publicKey), signature);
      } catch {
        return false;
      }
    },
    verifyEd25519(publicKey, data, signature) {
      try {
        return verifySignature(null, data, keyFor(publicKey), signature);
      } catch {
        return false;
      }
    },
  };
}

export const nodeCrypto: Crypto = createNodeCrypto();
