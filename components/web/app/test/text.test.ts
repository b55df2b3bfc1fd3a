// The composer's counter must agree with the API: these are the cases of
// crates/posts/src/text.rs and tests/api/posts/compose.rs, with the API's expected weights.
import { describe, expect, it } from 'vitest';
import { analyze } from '../src/text';

const weight = (t: string) => analyze(t).weightedLength;

describe('the weighted character count agrees with the API', () => {
  it('counts ASCII as one, valid up to 280 and not at 281', () => {
    expect(analyze('a'.repeat(280))).toMatchObject({ weightedLength: 280, valid: true, remaining: 0 });
    expect(analyze('a'.repeat(281))).toMatchObject({ weightedLength: 281, valid: false, remaining: -1, problem: 'tooLong' });
  });

  it('counts CJK as two, so 140 fit and 141 do not', () => {
    expect(weight('漢'.repeat(140))).toBe(280);
    expect(analyze('漢'.repeat(140)).valid).toBe(true);
    expect(weight('あ'.repeat(141))).toBe(282);
    expect(analyze('한'.repeat(141)).valid).toBe(false);
  });

  it.each([
    ['😀', 'single emoji'],
    ['👩\u200d👩\u200d👧\u200d👦', 'ZWJ family'],
    ['🇫🇷', 'flag (regional indicator pair)'],
    ['👍🏽', 'skin tone modifier'],
    ['🏳\ufe0f\u200d🌈', 'rainbow flag'],
    ['🏴\u{e0067}\u{e0062}\u{e0073}\u{e0063}\u{e0074}\u{e007f}', 'tag sequence flag'],
  ])('counts %s (%s) as two, also between letters', (emoji) => {
    expect(weight(emoji)).toBe(2);
    expect(weight(`a${emoji}b`)).toBe(4);
  });

  it('keeps 140 families of seven code points exactly at the limit and 141 ZWJ families over it', () => {
    expect(analyze('👨\u200d👩\u200d👧'.repeat(140)).valid).toBe(true);
    expect(weight('👍'.repeat(140))).toBe(280);
    expect(weight('👨‍👩‍👧‍👦'.repeat(141))).toBe(282);
  });

  it('counts a URL as 23 whatever its length, with or without a scheme', () => {
    const longUrl = `https://example.com/${'p'.repeat(200)}`;
    expect(weight('see https://x.co')).toBe(4 + 23);
    expect(weight(`see ${longUrl}`)).toBe(4 + 23);
    expect(analyze(`see ${longUrl}`).urls).toEqual([longUrl]);
    expect(weight('go to example.com')).toBe(6 + 23);
    expect(analyze('go to www.example.com.').urls).toEqual(['www.example.com']);
  });

  it('counts a long URL as 23 at the edge of the limit, as the API test does', () => {
    const url = `https://example.com/${'a'.repeat(100)}`;
    expect(analyze(`${'a'.repeat(256)} ${url}`)).toMatchObject({ weightedLength: 280, valid: true });
    expect(analyze(`${'a'.repeat(257)} ${url}`)).toMatchObject({ weightedLength: 281, valid: false });
  });

  it('normalises to NFC before counting', () => {
    expect(weight('e\u0301')).toBe(1);
    expect(weight('é')).toBe(1);
    expect(analyze('e\u0301'.repeat(280)).valid).toBe(true);
  });

  it('refuses empty, whitespace-only and invalid-character texts', () => {
    for (const t of ['', '   ', '\n\t ']) expect(analyze(t).problem).toBe('empty');
    expect(analyze('hello\ufeff').problem).toBe('invalidCharacters');
  });

  it('counts a scheme-less URL only when its top-level domain is real', () => {
    expect(analyze('see bbc.co.uk today').urls).toEqual(['bbc.co.uk']);
    expect(analyze('written in node.js and e.g. rust').urls).toEqual([]);
    expect(weight('written in node.js')).toBe(18);
  });

  it('does not take an email address for a URL with a mention', () => {
    expect(analyze('mail a@b.example').urls).toEqual([]);
    expect(analyze('@alice meet @bob_2 at #RustConf https://rust-lang.org $BTC').urls).toEqual(['https://rust-lang.org']);
  });
});
