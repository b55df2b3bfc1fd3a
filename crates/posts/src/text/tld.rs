//! Top-level domains X recognises in a post (twitter-text 0.2.0's list: IANA's root zone of
//! its day, generic, country-code and internationalised), one per line in `tlds.txt`, sorted
//! by bytes.

use std::cmp::Ordering;

const TLDS: &str = include_str!("tlds.txt");

/// The longest bytes of UTF-8 a TLD of the list has.
const LONGEST: usize = 33;

/// The byte length of the longest top-level domain that `rest` starts with, ASCII letters
/// in either case, as the grammar's trie of TLDs matches.
pub(super) fn longest_at(rest: &str) -> Option<usize> {
    let mut candidate = String::with_capacity(LONGEST);
    let mut best = None;
    for c in rest.chars() {
        candidate.push(c.to_ascii_lowercase());
        if candidate.len() > LONGEST {
            break;
        }
        if is_tld(candidate.as_bytes()) {
            best = Some(candidate.len());
        }
    }
    best
}

/// A binary search over the lines of `TLDS`.
fn is_tld(word: &[u8]) -> bool {
    let list = TLDS.as_bytes();
    let (mut low, mut high) = (0, list.len());
    while low < high {
        let middle = (low + high) / 2;
        let (before, after) = list.split_at(middle);
        let start = before
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |newline| newline + 1);
        let end = after
            .iter()
            .position(|&b| b == b'\n')
            .map_or(list.len(), |length| middle + length);
        match list.get(start..end).map(|line| line.cmp(word)) {
            Some(Ordering::Equal) => return true,
            Some(Ordering::Less) => low = end + 1,
            Some(Ordering::Greater) => high = start,
            None => return false,
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_longest_top_level_domain_wins_in_either_case() {
        assert_eq!(longest_at("com/path"), Some(3));
        assert_eq!(longest_at("COM"), Some(3));
        assert_eq!(
            longest_at("community"),
            Some(9),
            "community is a TLD itself"
        );
        assert_eq!(
            longest_at("comx"),
            Some(3),
            "the suffix is the caller's to refuse"
        );
        assert_eq!(longest_at("рф/"), Some("рф".len()));
        assert_eq!(longest_at("zzzz"), None);
        assert_eq!(longest_at(""), None);
    }

    #[test]
    fn every_line_of_the_list_is_found_and_the_list_is_sorted() {
        let lines: Vec<&str> = TLDS.lines().collect();
        assert!(lines.len() > 1_500);
        assert!(lines
            .windows(2)
            .all(|pair| pair[0].as_bytes() < pair[1].as_bytes()));
        for tld in lines {
            assert!(tld.len() <= LONGEST, "{tld}");
            assert_eq!(longest_at(tld), Some(tld.len()), "{tld}");
        }
    }
}
