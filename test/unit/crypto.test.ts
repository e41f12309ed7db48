import { createHash, createHmac, createSecretKey, randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeBase64, decodeHex, isPrintableToken } from '../../lambdas/adapters/common';
import { parseSignature } from '../../lambdas/adapters/mapping';
import { signatureCandidates } from '../../lambdas/adapters/standard-webhooks';
import { type Bytes, createNodeCrypto, nodeCrypto } from '../../lambdas/shared/crypto';

const hex = (text: string) => Buffer.from(text, 'hex');
const bytesOf = (length: number, value: number) => Buffer.alloc(length, value);

/** RFC 4231 section 4: HMAC-SHA-256 test cases 1 to 7 (case 5's output is truncated to 128 bits). */
const RFC_4231 = [
  {
    name: 'test case 1',
    key: bytesOf(20, 0x0b),
    data: Buffer.from('Hi There'),
    mac: 'b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7',
  },
  {
    name: 'test case 2 (a key shorter than the output)',
    key: Buffer.from('Jefe'),
    data: Buffer.from('what do ya want for nothing?'),
    mac: '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843',
  },
  {
    name: 'test case 3 (50 bytes of 0xdd)',
    key: bytesOf(20, 0xaa),
    data: bytesOf(50, 0xdd),
    mac: '773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe',
  },
  {
    name: 'test case 4 (a 25-byte key)',
    key: hex('0102030405060708090a0b0c0d0e0f10111213141516171819'),
    data: bytesOf(50, 0xcd),
    mac: '82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b',
  },
  {
    name: 'test case 5 (truncated to 128 bits)',
    key: bytesOf(20, 0x0c),
    data: Buffer.from('Test With Truncation'),
    mac: 'a3b6167473100ee06e0c796c2955552b',
  },
  {
    name: 'test case 6 (a key larger than the block)',
    key: bytesOf(131, 0xaa),
    data: Buffer.from('Test Using Larger Than Block-Size Key - Hash Key First'),
    mac: '60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54',
  },
  {
    name: 'test case 7 (key and data larger than the block)',
    key: bytesOf(131, 0xaa),
    data: Buffer.from(
      'This is a test using a larger than block-size key and a larger than block-size data. The key needs to ' +
        'be hashed before being used by the HMAC algorithm.',
    ),
    mac: '9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2',
  },
];

/** The MAC as hex, cut to the vector's length (test case 5 publishes only the first 128 bits). */
const macHex = (mac: Buffer, expected: string) => mac.toString('hex').slice(0, expected.length);

describe('nodeCrypto.hmacSha256 against RFC 4231', () => {
  it.each(RFC_4231)('$name, with the key as bytes', ({ key, data, mac }) => {
    expect(macHex(nodeCrypto.hmacSha256(new Uint8Array(key), data), mac)).toBe(mac);
    expect(macHex(nodeCrypto.hmacSha256(key, data), mac)).toBe(mac);
  });

  it.each(RFC_4231)('$name, with the key as a KeyObject', ({ key, data, mac }) => {
    expect(macHex(nodeCrypto.hmacSha256(createSecretKey(key), data), mac)).toBe(mac);
  });

  // A string key is its UTF-8 bytes; these keys are ASCII, so the string spells the same bytes.
  it.each(RFC_4231.filter(({ key }) => key.every((byte) => byte < 0x80)))(
    '$name, with the key as a string',
    ({ key, data, mac }) => {
      const text = key.toString('latin1');
      expect(macHex(nodeCrypto.hmacSha256(text, data), mac)).toBe(mac);
      // Again from the cached key object, and from a fresh instance with an empty cache.
      expect(macHex(nodeCrypto.hmacSha256(text, data), mac)).toBe(mac);
      expect(macHex(createNodeCrypto().hmacSha256(text, data), mac)).toBe(mac);
    },
  );

  it.each(RFC_4231)(
    '$name, with the data in several parts, strings and bytes mixed',
    ({ key, data, mac }) => {
      const cuts = [0, 1, Math.floor(data.length / 3), Math.floor(data.length / 2), data.length];
      // A string part stands for its UTF-8 bytes, so only ASCII chunks can be passed as strings.
      const parts: Bytes[] = cuts.slice(1).map((end, index) => {
        const part = data.subarray(cuts[index], end);
        return index % 2 === 0 && part.every((byte) => byte < 0x80)
          ? part.toString('latin1')
          : new Uint8Array(part);
      });
      expect(macHex(nodeCrypto.hmacSha256(key, ...parts), mac)).toBe(mac);
    },
  );

  it('still answers correctly once more distinct string keys were used than the cache holds', () => {
    const crypto = createNodeCrypto();
    for (let i = 0; i < 200; i++) {
      const secret = `rotation-${i}`;
      expect(crypto.hmacSha256(secret, 'body')).toEqual(createHmac('sha256', secret).update('body').digest());
    }
    const [vector] = RFC_4231.filter(({ name }) => name.startsWith('test case 2'));
    if (!vector) throw new Error('test case 2 is missing');
    expect(crypto.hmacSha256('Jefe', vector.data).toString('hex')).toBe(vector.mac);
  });

  it('keys a string by its UTF-8 bytes, as createHmac with the string does, for any text', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary', maxLength: 80 }),
        fc.array(fc.oneof(fc.string({ unit: 'binary', maxLength: 40 }), fc.uint8Array({ maxLength: 40 })), {
          maxLength: 4,
        }),
        (secret, parts) => {
          const reference = createHmac('sha256', secret);
          for (const part of parts) reference.update(part);
          expect(nodeCrypto.hmacSha256(secret, ...parts)).toEqual(reference.digest());
        },
      ),
      { numRuns: 1_000 },
    );
  });
});

describe('nodeCrypto.sha256Hex', () => {
  it('hashes the FIPS 180-2 "abc" vector, whole and in parts', () => {
    const abc = 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad';
    expect(nodeCrypto.sha256Hex('abc')).toBe(abc);
    expect(nodeCrypto.sha256Hex('a', 'b', 'c')).toBe(abc);
    expect(nodeCrypto.sha256Hex(Buffer.from('abc'))).toBe(abc);
    expect(nodeCrypto.sha256Hex('a', Buffer.from('bc'))).toBe(abc);
    expect(nodeCrypto.sha256Hex()).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });

  it('equals a streamed SHA-256 of the parts in order, whatever mix of strings and bytes', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.string({ unit: 'binary', maxLength: 40 }), fc.uint8Array({ maxLength: 40 })), {
          maxLength: 5,
        }),
        (parts) => {
          const reference = createHash('sha256');
          for (const part of parts) reference.update(part);
          expect(nodeCrypto.sha256Hex(...parts)).toBe(reference.digest('hex'));
        },
      ),
      { numRuns: 1_000 },
    );
  });
});

describe('nodeCrypto.constantTimeEqual', () => {
  it('is true exactly for equal bytes, and false for different lengths', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), fc.uint8Array({ maxLength: 40 }), (a, b) => {
        expect(nodeCrypto.constantTimeEqual(a, b)).toBe(Buffer.from(a).equals(Buffer.from(b)));
        expect(nodeCrypto.constantTimeEqual(a, new Uint8Array(a))).toBe(true);
      }),
    );
  });
});

// The decoders and signature-header walkers run on every delivery and were rewritten for speed; each is
// checked against the straightforward form it replaced.

const BASE64_REFERENCE = /^[A-Za-z0-9+/]+={0,2}$/;

function referenceBase64(text: string, expectedBytes: number): Buffer | undefined {
  if (!BASE64_REFERENCE.test(text)) return undefined;
  const bytes = Buffer.from(text, 'base64');
  return bytes.length === expectedBytes ? bytes : undefined;
}

function referenceHex(text: string, expectedBytes: number): Buffer | undefined {
  const trimmed = text.trim();
  if (trimmed.length !== expectedBytes * 2 || !/^[0-9a-fA-F]+$/.test(trimmed)) return undefined;
  return Buffer.from(trimmed, 'hex');
}

const BASE64_CHARACTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
// Characters that come close: URL-safe base64, padding, whitespace, a code point whose low byte is a base64
// character, and one beyond the BMP.
const ODD_CHARACTERS = ['=', '-', '_', ' ', '\n', '\t', '.', '\u0000', '\u0141', '\u2028', 'é', '😀', '%'];

const base64ish = fc
  .array(
    fc.oneof(
      { weight: 20, arbitrary: fc.constantFrom(...BASE64_CHARACTERS) },
      { weight: 2, arbitrary: fc.constantFrom(...ODD_CHARACTERS) },
    ),
    { maxLength: 100 },
  )
  .map((characters) => characters.join(''));

/** Real encodings of the lengths in use, then damaged: padding dropped, added, or a character changed. */
const damagedBase64 = fc
  .tuple(
    fc.constantFrom(1, 2, 3, 31, 32, 33, 63, 64, 65),
    fc.nat(),
    fc.constantFrom('keep', 'unpad', 'pad', 'overpad', 'replace', 'insert', 'drop', 'trailing-space'),
    fc.constantFrom(...BASE64_CHARACTERS, ...ODD_CHARACTERS),
  )
  .map(([length, position, damage, character]) => {
    const text = randomBytes(length).toString('base64');
    const at = position % (text.length + 1);
    switch (damage) {
      case 'unpad':
        return text.replace(/=+$/, '');
      case 'pad':
        return `${text}=`;
      case 'overpad':
        return `${text}===`;
      case 'replace':
        return text.slice(0, at) + character + text.slice(at + 1);
      case 'insert':
        return text.slice(0, at) + character + text.slice(at);
      case 'drop':
        return text.slice(0, at) + text.slice(at + 1);
      case 'trailing-space':
        return `${text} `;
      default:
        return text;
    }
  });

describe('decodeBase64 against the regular expression and Buffer decoding it replaced', () => {
  const lengths = fc.constantFrom(1, 2, 3, 31, 32, 33, 64);

  it.each([
    ['', 32],
    ['=', 32],
    ['==', 32],
    ['A', 1],
    ['AA', 1],
    ['AA=', 1],
    ['AA==', 1],
    ['AA===', 1],
    ['A=A=', 1],
    ['AB', 1],
    ['ABC', 2],
    ['ABCD', 3],
    ['ABCDE', 3],
    [`${'A'.repeat(43)}=`, 32],
    ['A'.repeat(43), 32],
    [`${'A'.repeat(43)}==`, 32],
    ['A'.repeat(44), 32],
    [`${'A'.repeat(42)}-_`, 32],
    [`${'A'.repeat(42)}\u0141=`, 32],
  ] as const)('%j of %i bytes', (text, bytes) => {
    expect(decodeBase64(text, bytes)).toEqual(referenceBase64(text, bytes));
  });

  it('agrees on random text over the alphabet and its near misses', () => {
    fc.assert(
      fc.property(base64ish, lengths, (text, bytes) => {
        expect(decodeBase64(text, bytes)).toEqual(referenceBase64(text, bytes));
      }),
      { numRuns: 5_000 },
    );
  });

  it('agrees on damaged encodings of the lengths in use', () => {
    fc.assert(
      fc.property(damagedBase64, lengths, (text, bytes) => {
        expect(decodeBase64(text, bytes)).toEqual(referenceBase64(text, bytes));
      }),
      { numRuns: 5_000 },
    );
  });

  it('decodes every real encoding of the expected length to its bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 80 }), (bytes) => {
        const text = Buffer.from(bytes).toString('base64');
        expect(decodeBase64(text, bytes.length)).toEqual(Buffer.from(bytes));
        expect(decodeBase64(text.replace(/=+$/, ''), bytes.length)).toEqual(Buffer.from(bytes));
      }),
    );
  });
});

describe('decodeHex against the straightforward check', () => {
  const hexish = fc
    .array(fc.constantFrom(...'0123456789abcdefABCDEFgG xX\n\t-'), { maxLength: 70 })
    .map((characters) => characters.join(''));

  it('agrees on random text, padded or not', () => {
    fc.assert(
      fc.property(hexish, fc.constantFrom(1, 2, 31, 32, 33), (text, bytes) => {
        expect(decodeHex(text, bytes)).toEqual(referenceHex(text, bytes));
      }),
      { numRuns: 5_000 },
    );
  });

  it('decodes any real encoding, either case, with surrounding whitespace', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 40 }), fc.boolean(), (bytes, upper) => {
        const text = Buffer.from(bytes).toString('hex');
        expect(decodeHex(` ${upper ? text.toUpperCase() : text}\t`, bytes.length)).toEqual(
          Buffer.from(bytes),
        );
      }),
    );
  });
});

describe('isPrintableToken against /^[\\x21-\\x7e]{1,n}$/', () => {
  it('agrees on random text around the bounds', () => {
    fc.assert(
      fc.property(
        fc.string({
          unit: fc.oneof(fc.constantFrom(' ', '!', '~', '\u007f', 'é', '\u0121'), fc.string()),
          maxLength: 12,
        }),
        fc.constantFrom(1, 3, 8, 200, 256),
        (text, maxLength) => {
          const reference = new RegExp(`^[\\x21-\\x7e]{1,${maxLength}}$`).test(text);
          expect(isPrintableToken(text, maxLength)).toBe(reference);
        },
      ),
      { numRuns: 3_000 },
    );
  });
});

/** Header text made of the pieces that matter, in any order, plus random noise. */
function headerText(pieces: readonly string[]): fc.Arbitrary<string> {
  return fc
    .array(
      fc.oneof(
        { weight: 8, arbitrary: fc.constantFrom(...pieces) },
        { weight: 1, arbitrary: fc.string({ maxLength: 4 }) },
      ),
      { maxLength: 14 },
    )
    .map((parts) => parts.join(''));
}

describe('the mapping signature header walker against the split-based parser it replaced', () => {
  /** The parser as it was: split on commas, key and value trimmed, first "=" separates them. */
  function referenceParse(text: string): { timestamp: string; candidates: Buffer[] } | string {
    let timestamp: string | undefined;
    let v1Entries = 0;
    const candidates: Buffer[] = [];
    for (const item of text.split(',')) {
      const equals = item.indexOf('=');
      if (equals <= 0) continue;
      const key = item.slice(0, equals).trim();
      const value = item.slice(equals + 1).trim();
      if (key === 't') {
        if (timestamp !== undefined) return 'duplicate t';
        timestamp = value;
      } else if (key === 'v1') {
        v1Entries++;
        const bytes = referenceHex(value, 32);
        if (bytes) candidates.push(bytes);
      }
    }
    if (timestamp === undefined) return 'no t';
    if (!/^\d{1,12}$/.test(timestamp)) return 'bad t';
    if (v1Entries === 0) return 'no v1';
    return { timestamp, candidates };
  }

  function actualParse(text: string): { timestamp: string; candidates: readonly Buffer[] } | string {
    try {
      return parseSignature(text);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (message.includes('more than once')) return 'duplicate t';
      if (message.includes('no "t=" entry')) return 'no t';
      if (message.includes('"t" must be unix seconds')) return 'bad t';
      if (message.includes('no "v1=" entry')) return 'no v1';
      throw error;
    }
  }

  const signature = randomBytes(32).toString('hex');
  const pieces = [
    't=',
    't',
    ' t ',
    'v1=',
    'v1',
    'v0=',
    'v1a=',
    '=',
    ',',
    ' ',
    '1767225600',
    '0',
    '1234567890123',
    signature,
    signature.toUpperCase(),
    signature.slice(2),
    `${signature}0`,
    'zz',
  ];

  it.each([
    `t=1767225600,v1=${signature}`,
    ` t = 1767225600 , v1 = ${signature} ,v1=${signature.toUpperCase()}`,
    `v0=abc,t=1767225600,v1=short`,
    `t=1767225600,t=1767225600,v1=${signature}`,
    `t=,v1=${signature}`,
    `=t=1,v1=${signature}`,
    't=1767225600',
    'v1=,t=1',
    '',
    ',,,',
  ])('%j', (text) => {
    expect(actualParse(text)).toEqual(referenceParse(text));
  });

  it('agrees on random headers built from the pieces that matter', () => {
    fc.assert(
      fc.property(headerText(pieces), (text) => {
        expect(actualParse(text)).toEqual(referenceParse(text));
      }),
      { numRuns: 5_000 },
    );
  });
});

describe('the Standard Webhooks signature header walker against the split-based one it replaced', () => {
  /** The walker as it was: split on spaces, the first comma separates the version from the base64. */
  function referenceCandidates(header: string): { hmacs: Buffer[]; ed25519: Buffer[] } {
    const hmacs: Buffer[] = [];
    const ed25519: Buffer[] = [];
    for (const entry of header.split(' ')) {
      const comma = entry.indexOf(',');
      if (comma <= 0) continue;
      const version = entry.slice(0, comma);
      if (version === 'v1') {
        const bytes = referenceBase64(entry.slice(comma + 1), 32);
        if (bytes) hmacs.push(bytes);
      } else if (version === 'v1a') {
        const bytes = referenceBase64(entry.slice(comma + 1), 64);
        if (bytes) ed25519.push(bytes);
      }
    }
    return { hmacs, ed25519 };
  }

  const hmac = randomBytes(32).toString('base64');
  const ed25519 = randomBytes(64).toString('base64');
  const pieces = [
    'v1,',
    'v1a,',
    'v2,',
    'v1',
    'v1a',
    'v',
    ',',
    ' ',
    '  ',
    '=',
    hmac,
    hmac.replace(/=+$/, ''),
    ed25519,
    ed25519.replace(/=+$/, ''),
    hmac.slice(1),
    `${hmac}=`,
    'A',
  ];

  it.each([
    `v1,${hmac}`,
    `v1,${hmac} v1a,${ed25519} v2,${hmac}`,
    `  v1,${hmac}  `,
    `,v1,${hmac}`,
    `v1,,${hmac}`,
    `v1a,${hmac} v1,${ed25519}`,
    `v1,${hmac},v1,${hmac}`,
    '',
    ' ',
  ])('%j', (header) => {
    expect(signatureCandidates(header)).toEqual(referenceCandidates(header));
  });

  it('agrees on random headers built from the pieces that matter', () => {
    fc.assert(
      fc.property(headerText(pieces), (header) => {
        expect(signatureCandidates(header)).toEqual(referenceCandidates(header));
      }),
      { numRuns: 5_000 },
    );
  });
});
