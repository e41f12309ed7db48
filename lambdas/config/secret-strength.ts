import { createPublicKey, type KeyObject } from 'node:crypto';
import * as z from 'zod/mini';
import type { SourceKind } from '../domain/canonical';

// How strong each provider kind's key material must be. A short signing secret can be recovered offline from
// a single signed delivery by trying keys until the HMAC matches, after which anyone can forge deliveries; so
// every rule asks for at least 128 bits. Problems describe the material by its length only: they end up in
// synth output and logs, which must never carry a secret.

/**
 * Hex HMAC-SHA256 kinds key the HMAC with the secret's text as it is. RFC 2104 discourages keys shorter than
 * the hash output (32 bytes for SHA-256), and 32 characters still hold 128 bits when they are only hex digits.
 */
export const MIN_SHARED_SECRET_CHARS = 32;
/** The Standard Webhooks specification: `whsec_` and the base64 of 24 to 64 random bytes. */
export const MIN_WHSEC_BYTES = 24;
export const ED25519_PUBLIC_KEY_BYTES = 32;
/** NIST SP 800-131A: RSA signatures need a modulus of at least 2048 bits. */
export const MIN_RSA_MODULUS_BITS = 2048;

const GENERATE_SHARED = '`openssl rand -base64 32`';
const GENERATE_WHSEC = '`echo "whsec_$(openssl rand -base64 32)"`';

// Strict RFC 4648 base64 (standard alphabet, padded, no whitespace). A lenient decoder silently drops what it
// does not understand, so a secret pasted with a line break or in base64url would key a different HMAC.
const Base64 = z.base64();

const characters = (n: number) => `${n} character${n === 1 ? '' : 's'}`;

/** Why a resolved signing secret is too weak for a source of this kind, or undefined when it is strong enough. */
export function signingSecretProblem(kind: SourceKind, secret: string): string | undefined {
  return kind === 'standard-webhooks' ? whsecProblem(secret) : sharedSecretProblem(kind, secret);
}

function sharedSecretProblem(kind: SourceKind, secret: string): string | undefined {
  if (secret.length >= MIN_SHARED_SECRET_CHARS) return undefined;
  return (
    `is ${characters(secret.length)} long; ${kind} signing secrets need at least ${MIN_SHARED_SECRET_CHARS} ` +
    `characters (128 bits or more). Use the provider's full secret, or where you choose it, generate one with ${GENERATE_SHARED}`
  );
}

/** `whsec_<base64>`, or the bare base64, as the adapter reads it. */
function whsecProblem(secret: string): string | undefined {
  const encoded = secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : secret;
  if (encoded.length === 0 || !z.safeParse(Base64, encoded).success) {
    return (
      `is not "whsec_" followed by base64 (received ${characters(secret.length)}; only A-Z, a-z, 0-9, "+" and "/", ` +
      `padded with "=", without spaces or line breaks). Copy the sender's secret exactly, or generate one with ${GENERATE_WHSEC}`
    );
  }
  const bytes = Buffer.byteLength(encoded, 'base64');
  if (bytes >= MIN_WHSEC_BYTES) return undefined;
  return (
    `decodes to ${bytes} byte${bytes === 1 ? '' : 's'}; a Standard Webhooks secret is the base64 of at least ` +
    `${MIN_WHSEC_BYTES} random bytes. Generate one with ${GENERATE_WHSEC}`
  );
}

/** A `v1a` key: `whpk_` and the base64 of the 32 raw key bytes, the bare base64, or an SPKI PEM. */
export function ed25519PublicKeyProblem(key: string): string | undefined {
  const material = key.startsWith('whpk_') ? key.slice('whpk_'.length) : key;
  if (material.includes('-----BEGIN')) {
    const parsed = publicKeyOf(material);
    if (parsed?.asymmetricKeyType === 'ed25519') return undefined;
    return `${parsed ? `is a PEM ${parsed.asymmetricKeyType} key` : 'is not a readable PEM public key'}; give the sender's Ed25519 public key, as "whpk_<base64>" or a PEM`;
  }
  if (material.length === 0 || !z.safeParse(Base64, material).success) {
    return `is not "whpk_" followed by base64 (received ${characters(key.length)}); give the sender's Ed25519 public key, as "whpk_<base64>" or a PEM`;
  }
  const bytes = Buffer.byteLength(material, 'base64');
  if (bytes === ED25519_PUBLIC_KEY_BYTES) return undefined;
  return `decodes to ${bytes} bytes; an Ed25519 public key is exactly ${ED25519_PUBLIC_KEY_BYTES}. Copy the sender's whole "whpk_" key`;
}

/** A channel manager's `rsa-sha256` key: a PEM RSA public key (SPKI or PKCS#1) of at least 2048 bits. */
export function rsaPublicKeyProblem(pem: string): string | undefined {
  const parsed = publicKeyOf(pem);
  if (!parsed) {
    return `is not a readable PEM public key (received ${characters(pem.length)}); give the channel manager's RSA public key, "-----BEGIN PUBLIC KEY-----" and all (never a private key: the configuration is compiled into the function bundle)`;
  }
  if (parsed.asymmetricKeyType !== 'rsa') {
    return `is a PEM ${parsed.asymmetricKeyType} key; rsa-sha256 needs the channel manager's RSA public key`;
  }
  const bits = parsed.asymmetricKeyDetails?.modulusLength ?? 0;
  if (bits >= MIN_RSA_MODULUS_BITS) return undefined;
  return `is a ${bits}-bit RSA key; at least ${MIN_RSA_MODULUS_BITS} bits are needed. Ask the channel manager for a stronger signing key`;
}

/** Node derives a public key from a private one; a private key must not sit in a configuration at all. */
function publicKeyOf(pem: string): KeyObject | undefined {
  if (pem.includes('PRIVATE KEY-----')) return undefined;
  try {
    return createPublicKey(pem);
  } catch {
    return undefined;
  }
}
