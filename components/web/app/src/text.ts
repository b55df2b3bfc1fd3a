// X's weighted length (twitter-text, configuration v3), as the API computes it in
// crates/posts/src/text.rs: NFC first; code points in 0–4351, 8192–8205, 8208–8223 and
// 8242–8247 weigh 1, every other code point 2; an emoji sequence weighs 2 however many code
// points it has; a URL weighs 23 whatever its length (X rewrites it to t.co).

export const MAX_WEIGHTED_LENGTH = 280;
const URL_WEIGHT = 23;

export interface TextReport {
  weightedLength: number;
  remaining: number;
  valid: boolean;
  urls: string[];
  problem: 'empty' | 'tooLong' | 'invalidCharacters' | null;
}

const LIGHT_RANGES: Array<[number, number]> = [
  [0, 4351],
  [8192, 8205],
  [8208, 8223],
  [8242, 8247],
];

function codePointWeight(cp: number): number {
  return LIGHT_RANGES.some(([lo, hi]) => cp >= lo && cp <= hi) ? 1 : 2;
}

// Generic top-level domains people actually link to, and every two-letter country code:
// twitter-text only counts a scheme-less URL when its TLD is a real one.
const GTLDS =
  'com|org|net|edu|gov|mil|int|info|biz|name|pro|io|co|dev|app|ai|me|xyz|ly|tv|gg|fm|so|sh|to|news|blog|shop|site|online|tech|store|page|link|live|cloud|art|design|email|media|agency|studio|world|today|social|space|website|club|global|network|systems|solutions|digital|games|google|rocks|codes|run|build|tools|work';
const GTLD_SET = new Set(GTLDS.split('|'));
const regions = new Intl.DisplayNames(['en'], { type: 'region' });
const CCTLD_EXTRA = new Set(['uk', 'eu', 'ac', 'su']);

/** A TLD X links: a common generic one, or a country code (.uk, .de; not .js). */
function knownTld(tld: string): boolean {
  const t = tld.toLowerCase();
  if (GTLD_SET.has(t) || CCTLD_EXTRA.has(t)) return true;
  if (t.length !== 2) return false;
  try {
    return regions.of(t.toUpperCase()) !== t.toUpperCase();
  } catch {
    return false;
  }
}
const TLD = '[a-z]{2,24}';
const WITH_SCHEME = 'https?://[^\\s<>"]+';
const WITHOUT_SCHEME = `(?<![@\\w./-])(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\\.)+${TLD}(?![a-z0-9-])(?:/[^\\s<>"]*)?`;
const URL_RE = new RegExp(`${WITH_SCHEME}|${WITHOUT_SCHEME}`, 'giu');
const TRAILING_PUNCTUATION = /[.,:;!?'")\]}]+$/u;

/** URLs with their positions, trailing punctuation left out (as X does). */
export function findUrls(text: string): Array<{ url: string; start: number; end: number }> {
  const found: Array<{ url: string; start: number; end: number }> = [];
  for (const m of text.matchAll(URL_RE)) {
    const url = m[0].replace(TRAILING_PUNCTUATION, '');
    if (url.length === 0) continue;
    if (!/^https?:/i.test(url)) {
      const host = url.split('/')[0];
      if (!knownTld(host.slice(host.lastIndexOf('.') + 1))) continue;
    }
    found.push({ url, start: m.index ?? 0, end: (m.index ?? 0) + url.length });
  }
  return found;
}

const EMOJI = /\p{Extended_Pictographic}|\p{Regional_Indicator}|\u20e3/u;
const segmenter = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

function isEmojiSequence(grapheme: string): boolean {
  if (!EMOJI.test(grapheme)) return false;
  const first = grapheme.codePointAt(0) ?? 0;
  // ©, ® and the like are text characters unless followed by a presentation selector.
  return first >= 0x2000 || grapheme.length > 1;
}

function plainWeight(text: string): number {
  let weight = 0;
  for (const { segment } of segmenter.segment(text)) {
    if (isEmojiSequence(segment)) {
      weight += 2;
      continue;
    }
    for (const ch of segment) weight += codePointWeight(ch.codePointAt(0) ?? 0);
  }
  return weight;
}

/** The weighted length and validity of one post's text, as the API will judge it. */
export function analyze(input: string): TextReport {
  const text = input.normalize('NFC');
  const urls = findUrls(text);
  let weightedLength = 0;
  let at = 0;
  for (const u of urls) {
    weightedLength += plainWeight(text.slice(at, u.start)) + URL_WEIGHT;
    at = u.end;
  }
  weightedLength += plainWeight(text.slice(at));
  let problem: TextReport['problem'] = null;
  if (text.trim().length === 0) problem = 'empty';
  else if (weightedLength > MAX_WEIGHTED_LENGTH) problem = 'tooLong';
  else if (/[\ufffe\ufeff\uffff]/u.test(text)) problem = 'invalidCharacters';
  return {
    weightedLength,
    remaining: MAX_WEIGHTED_LENGTH - weightedLength,
    valid: problem === null,
    urls: urls.map((u) => u.url),
    problem,
  };
}
