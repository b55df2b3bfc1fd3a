//! The IDNA check X applies to a URL's host before it calls it a URL (UTS #46 `ToASCII`,
//! transitional, without the STD3 rules, with DNS lengths), as twitter-text 0.2.0 applies it.
//!
//! UTS #46's full mapping table is a hundred kilobytes of the component; this keeps what decides
//! a host's fate in a post: ASCII case, the transitional deviations, the characters a host can
//! never hold, hyphens and marks at a label's edges, punycode both ways, the bidi rule and the
//! lengths. Compatibility mappings (™ to "tm") are not applied, which changes a converted
//! length by a few bytes and nothing else.

use unicode_bidi::{bidi_class, BidiClass};
use unicode_normalization::UnicodeNormalization;

const PREFIX: &str = "xn--";

/// The length of `host` once converted to ASCII, or `None` when X would refuse it.
pub(super) fn ascii_length(host: &str) -> Option<usize> {
    let mapped: String = map(host)?.nfc().collect();
    let bidi = is_bidi_domain(host, &mapped);
    let mut ascii = String::with_capacity(mapped.len());
    for (index, label) in mapped.split('.').enumerate() {
        if index > 0 {
            ascii.push('.');
        }
        let unicode = match label.strip_prefix(PREFIX) {
            Some(encoded) => {
                let decoded = decode(encoded)?;
                if !decoded.nfc().eq(decoded.chars()) {
                    return None;
                }
                validate(&decoded, bidi)?;
                decoded
            }
            None => {
                validate(label, bidi)?;
                label.to_string()
            }
        };
        if unicode.is_ascii() {
            ascii.push_str(&unicode);
        } else {
            ascii.push_str(PREFIX);
            ascii.push_str(&encode(&unicode)?);
        }
    }
    // DNS lengths, on the converted name less one trailing dot.
    let name = ascii.strip_suffix('.').unwrap_or(&ascii);
    let fits = (1..=253).contains(&name.len())
        && name.split('.').all(|label| (1..=63).contains(&label.len()));
    fits.then_some(ascii.len())
}

/// UTS #46 mapping, transitional: ASCII and other letters lowercased, the deviations replaced,
/// default-ignorables dropped; `None` for a character a host may not hold.
fn map(host: &str) -> Option<String> {
    let mut mapped = String::with_capacity(host.len());
    for c in host.chars() {
        match c {
            'ß' => mapped.push_str("ss"),
            'ς' => mapped.push('σ'),
            '\u{200c}' | '\u{200d}' => {}
            c if is_ignored(c) => {}
            c if is_disallowed(c) => return None,
            // UTS #46 maps as NFKC with case folding does, give or take a few characters.
            c => mapped.extend(std::iter::once(c).nfkc().flat_map(char::to_lowercase)),
        }
    }
    Some(mapped)
}

/// Default-ignorable characters UTS #46 drops from a host (and refuses in a punycode label).
fn is_ignored(c: char) -> bool {
    matches!(
        c,
        '\u{ad}' | '\u{34f}' | '\u{200b}' | '\u{2060}' | '\u{feff}' | '\u{180b}'..='\u{180d}'
            | '\u{fe00}'..='\u{fe0f}' | '\u{e0100}'..='\u{e01ef}'
    )
}

fn is_disallowed(c: char) -> bool {
    matches!(
        c,
        '\u{80}'..='\u{9f}'
            | '\u{e000}'..='\u{f8ff}'
            | '\u{fdd0}'..='\u{fdef}'
            | '\u{fff9}'..='\u{fffd}'
            | '\u{e0000}'..='\u{e0fff}'
            | '\u{f0000}'..='\u{10ffff}'
    ) || (c as u32 & 0xfffe) == 0xfffe
}

/// A character a mapped label may not hold: unassigned, or one the mapping would have dropped or
/// changed (capitals in a punycode label).
fn is_unmapped(c: char) -> bool {
    pest::unicode::UNASSIGNED(c)
        || is_ignored(c)
        || !std::iter::once(c)
            .nfkc()
            .flat_map(char::to_lowercase)
            .eq(std::iter::once(c))
}

fn is_bidi_domain(host: &str, mapped: &str) -> bool {
    let right_to_left =
        |c: char| matches!(bidi_class(c), BidiClass::R | BidiClass::AL | BidiClass::AN);
    host.chars().any(right_to_left)
        || mapped
            .split('.')
            .filter_map(|l| l.strip_prefix(PREFIX))
            .any(|encoded| decode(encoded).is_none_or(|decoded| decoded.chars().any(right_to_left)))
}

/// UTS #46 validity: no hyphen at either end, no mark first, and the bidi rule.
fn validate(label: &str, bidi: bool) -> Option<()> {
    let Some(first) = label.chars().next() else {
        return Some(());
    };
    let refused = label.starts_with('-')
        || label.ends_with('-')
        || pest::unicode::MARK(first)
        || label.chars().any(|c| is_disallowed(c) || is_unmapped(c))
        || (bidi && !passes_bidi(label));
    (!refused).then_some(())
}

/// RFC 5893's rule for a label of a domain that holds right-to-left text.
fn passes_bidi(label: &str) -> bool {
    use BidiClass::*;
    let classes: Vec<BidiClass> = label.chars().map(bidi_class).collect();
    let Some((first, rest)) = classes.split_first() else {
        return true;
    };
    let last = classes.iter().rev().find(|&&class| class != NSM);
    match first {
        L => {
            rest.iter()
                .all(|c| matches!(c, L | EN | ES | CS | ET | ON | BN | NSM))
                && last.is_none_or(|c| matches!(c, L | EN))
        }
        R | AL => {
            let allowed = rest
                .iter()
                .all(|c| matches!(c, R | AL | AN | EN | ES | CS | ET | ON | BN | NSM));
            let ends_well = last.is_some_and(|c| matches!(c, R | AL | EN | AN));
            let mixed_digits = classes.contains(&AN) && classes.contains(&EN);
            allowed && ends_well && !mixed_digits
        }
        _ => false,
    }
}

// ---- punycode (RFC 3492) ----

const BASE: u32 = 36;
const T_MIN: u32 = 1;
const T_MAX: u32 = 26;
const SKEW: u32 = 38;
const DAMP: u32 = 700;
const INITIAL_BIAS: u32 = 72;
const INITIAL_N: u32 = 128;

fn adapt(mut delta: u32, points: u32, first: bool) -> u32 {
    delta /= if first { DAMP } else { 2 };
    delta += delta / points;
    let mut k = 0;
    while delta > ((BASE - T_MIN) * T_MAX) / 2 {
        delta /= BASE - T_MIN;
        k += BASE;
    }
    k + (BASE - T_MIN + 1) * delta / (delta + SKEW)
}

fn threshold(k: u32, bias: u32) -> u32 {
    k.saturating_sub(bias).clamp(T_MIN, T_MAX)
}

fn digit_char(digit: u32) -> char {
    match digit {
        0..=25 => (b'a' + digit as u8) as char,
        _ => (b'0' + (digit - 26) as u8) as char,
    }
}

fn char_digit(c: char) -> Option<u32> {
    match c {
        'a'..='z' => Some(c as u32 - 'a' as u32),
        'A'..='Z' => Some(c as u32 - 'A' as u32),
        '0'..='9' => Some(c as u32 - '0' as u32 + 26),
        _ => None,
    }
}

/// Punycode of a label, without the `xn--` prefix.
fn encode(label: &str) -> Option<String> {
    let input: Vec<u32> = label.chars().map(u32::from).collect();
    let mut output: String = label.chars().filter(char::is_ascii).collect();
    let basic = output.len() as u32;
    if basic > 0 {
        output.push('-');
    }
    let (mut n, mut delta, mut bias, mut handled) = (INITIAL_N, 0u32, INITIAL_BIAS, basic);
    while (handled as usize) < input.len() {
        let next = *input.iter().filter(|&&c| c >= n).min()?;
        delta = delta.checked_add((next - n).checked_mul(handled + 1)?)?;
        n = next;
        for &c in &input {
            if c < n {
                delta = delta.checked_add(1)?;
            }
            if c == n {
                let mut q = delta;
                let mut k = BASE;
                loop {
                    let t = threshold(k, bias);
                    if q < t {
                        break;
                    }
                    output.push(digit_char(t + (q - t) % (BASE - t)));
                    q = (q - t) / (BASE - t);
                    k += BASE;
                }
                output.push(digit_char(q));
                bias = adapt(delta, handled + 1, handled == basic);
                delta = 0;
                handled += 1;
            }
        }
        delta += 1;
        n += 1;
    }
    Some(output)
}

/// A label from its punycode, without the `xn--` prefix; `None` if it is not punycode.
fn decode(encoded: &str) -> Option<String> {
    // A delimiter first is not a delimiter: the whole label is then digits (and fails).
    let (basic, digits) = match encoded.rfind('-') {
        Some(dash) if dash > 0 => (&encoded[..dash], &encoded[dash + 1..]),
        Some(_) | None => ("", encoded),
    };
    let mut output: Vec<char> = basic.chars().collect();
    let (mut n, mut i, mut bias) = (INITIAL_N, 0u32, INITIAL_BIAS);
    let mut digits = digits.chars().peekable();
    while digits.peek().is_some() {
        let (old_i, mut weight, mut k) = (i, 1u32, BASE);
        loop {
            let digit = char_digit(digits.next()?)?;
            i = i.checked_add(digit.checked_mul(weight)?)?;
            let t = threshold(k, bias);
            if digit < t {
                break;
            }
            weight = weight.checked_mul(BASE - t)?;
            k += BASE;
        }
        let length = output.len() as u32 + 1;
        bias = adapt(i - old_i, length, old_i == 0);
        n = n.checked_add(i / length)?;
        i %= length;
        output.insert(i as usize, char::from_u32(n)?);
        i += 1;
    }
    Some(output.into_iter().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn punycode_round_trips_as_rfc_3492_writes_it() {
        assert_eq!(encode("münchen").as_deref(), Some("mnchen-3ya"));
        assert_eq!(decode("mnchen-3ya").as_deref(), Some("münchen"));
        assert_eq!(encode("пример").as_deref(), Some("e1afmkfd"));
        assert_eq!(decode("e1afmkfd").as_deref(), Some("пример"));
        assert_eq!(decode("ls8h").as_deref(), Some("💩"));
        assert_eq!(decode("99999999999999"), None, "overflows");
    }

    #[test]
    fn hosts_convert_to_their_ascii_length_or_are_refused() {
        assert_eq!(ascii_length("Example.COM"), Some(11));
        assert_eq!(ascii_length("münchen.de"), Some("xn--mnchen-3ya.de".len()));
        assert_eq!(ascii_length("-bad.com"), None, "leading hyphen");
        assert_eq!(
            ascii_length(&format!("{}.com", "a".repeat(64))),
            None,
            "label over 63"
        );
        assert_eq!(ascii_length(&format!("{}.com", "a".repeat(63))), Some(67));
        assert_eq!(ascii_length("\u{e50a}.com"), None, "private use");
        assert_eq!(
            ascii_length("a\u{5d0}.com"),
            None,
            "left-to-right label with Hebrew"
        );
    }
}
