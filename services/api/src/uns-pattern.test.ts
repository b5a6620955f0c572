import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ApiError } from './errors.js';
import { SubjectTrie } from './subject-trie.js';
import { parseUnsPattern, subjectMatches } from './uns-pattern.js';

const tokenArb = fc.stringMatching(/^[a-z0-9_-]{1,8}$/);
/** A point subject: uns.v1 + site, hall, row, rack, class, asset + 1 to 4 metric tokens. */
const subjectArb = fc.array(tokenArb, { minLength: 7, maxLength: 10 }).map((t) => `uns.v1.${t.join('.')}`);
/** Small alphabets so patterns and subjects meet often. */
const smallToken = fc.constantFrom('a', 'b', 'c');
const smallSubject = fc.array(smallToken, { minLength: 7, maxLength: 9 }).map((t) => `uns.v1.${t.join('.')}`);
const smallPattern = fc
  .tuple(fc.array(fc.constantFrom('a', 'b', '*'), { minLength: 1, maxLength: 9 }), fc.boolean())
  .map(([t, tail]) => `uns.v1.${t.join('.')}${tail ? '.>' : ''}`);

const only400 = (f: () => unknown) => {
  try {
    f();
  } catch (err) {
    assert.ok(err instanceof ApiError, `not an ApiError: ${String(err)}`);
    assert.equal(err.status, 400);
    assert.ok(err.message.length > 10, 'the reason says something');
  }
};

describe('UNS path and pattern parsing', () => {
  it('accepts every point subject as exact, with or without the uns.v1 prefix', () => {
    fc.assert(
      fc.property(subjectArb, (s) => {
        assert.deepEqual(parseUnsPattern(s), { subject: s, exact: true });
        assert.deepEqual(parseUnsPattern(s.slice('uns.v1.'.length)), { subject: s, exact: true });
      }),
    );
  });

  it('refuses any other input with a 400 and a reason, never anything else', () => {
    fc.assert(fc.property(fc.string({ maxLength: 600 }), (s) => only400(() => parseUnsPattern(s))));
    fc.assert(fc.property(fc.anything(), (v) => only400(() => parseUnsPattern(v))));
  });

  it('names the problem: upper case, an empty token, > before the end, a partial path, a long path', () => {
    const reason = (raw: unknown) => {
      try {
        parseUnsPattern(raw);
      } catch (err) {
        return (err as Error).message;
      }
      return 'accepted';
    };
    assert.match(reason('uns.v1.AI1.h1.r1.k.cdu.c.m'), /lower-case/);
    assert.match(reason('uns.v1.ai1..r1.k.cdu.c.m'), /empty/);
    assert.match(reason('uns.v1.ai1.>.cdu'), /'>' must be the last/);
    assert.match(reason('uns.v1.ai1.h1.r1'), /no single point/);
    assert.match(reason('uns.v1.cdu-*'), /wildcard/);
    assert.match(reason(`uns.v1.${'a.'.repeat(300)}a`), /at most 512/);
    assert.match(reason(undefined), /required/);
  });

  it('treats * and > as wildcards, and a pattern of them as not exact', () => {
    assert.deepEqual(parseUnsPattern('uns.v1.ai1.*.*.*.cdu.>'), {
      subject: 'uns.v1.ai1.*.*.*.cdu.>',
      exact: false,
    });
    assert.deepEqual(parseUnsPattern('>'), { subject: 'uns.v1.>', exact: false });
  });

  it('matches a subject trie exactly as NATS matches subjects, for any patterns and subjects', () => {
    fc.assert(
      fc.property(fc.uniqueArray(smallSubject, { maxLength: 60 }), smallPattern, (subjects, pattern) => {
        const trie = new SubjectTrie();
        for (const s of subjects) trie.add(s);
        const expected = subjects.filter((s) => subjectMatches(pattern, s)).sort();
        assert.deepEqual(trie.match(pattern).sort(), expected);
        assert.equal(trie.size, subjects.length);
        assert.ok(trie.match(pattern, 2).length <= 2, 'max bounds the result');
      }),
    );
  });

  it('matches whole tokens: * one, > one or more at the end', () => {
    assert.equal(subjectMatches('uns.v1.a.*', 'uns.v1.a.b'), true);
    assert.equal(subjectMatches('uns.v1.a.*', 'uns.v1.a.b.c'), false);
    assert.equal(subjectMatches('uns.v1.a.>', 'uns.v1.a.b.c'), true);
    assert.equal(subjectMatches('uns.v1.a.>', 'uns.v1.a'), false);
  });
});
