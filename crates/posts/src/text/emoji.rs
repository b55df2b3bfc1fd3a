//! The emoji rule of X's tokenizer (see `scan.rs`): which code point sequences count as one
//! emoji, and so weigh 2 whatever their length. The sets are X's (twitter-text 0.2.0), which
//! predate Unicode's newest emoji: a sequence it does not know counts code point by code point,
//! as X counts it.

use super::scan::{End, Kind, Scan};

const ZWJ: char = '\u{200d}';
const VS16: char = '\u{fe0f}';
const MAN: char = '\u{1f468}';
const WOMAN: char = '\u{1f469}';
const BOY: char = '\u{1f466}';
const GIRL: char = '\u{1f467}';
const HEART: char = '\u{2764}';
const KISS: char = '\u{1f48b}';

impl Scan<'_> {
    /// `emoji = { … }`: the nine alternatives of the grammar, in its order.
    pub(super) fn emoji(&mut self, at: usize) -> End {
        let end = self
            .profession(at)
            .or_else(|| self.gendered_with_vs16(at))
            .or_else(|| self.gendered(at))
            .or_else(|| self.other_zwj_sequence(at))
            .or_else(|| self.keycap(at))
            .or_else(|| self.text_symbol_with_vs16(at))
            .or_else(|| self.variant_symbol(at))
            .or_else(|| self.diversity(at))
            .or_else(|| self.flag_or_regular(at))?;
        self.record(Kind::Emoji, at..end);
        Some(end)
    }

    fn is(&self, at: usize, wanted: char) -> End {
        self.one(at, |c| c == wanted)
    }

    fn in_set(&self, at: usize, set: &[(u32, u32)]) -> End {
        self.one(at, |c| contains(set, c))
    }

    fn skin_tone(&self, at: usize) -> End {
        self.one(at, |c| ('\u{1f3fb}'..='\u{1f3ff}').contains(&c))
    }

    fn optional(&self, end: usize, rule: impl FnOnce(usize) -> End) -> usize {
        rule(end).unwrap_or(end)
    }

    /// `zwj ~ ("\u{2640}" | "\u{2642}") ~ "\u{fe0f}"?`: a trailing female or male sign.
    fn trailing_gender(&self, at: usize) -> End {
        let sign = self.is(at, ZWJ)?;
        let end = self.one(sign, |c| c == '\u{2640}' || c == '\u{2642}')?;
        Some(self.optional(end, |e| self.is(e, VS16)))
    }

    /// A man or woman, an optional skin tone, then a joined profession.
    fn profession(&self, at: usize) -> End {
        let end = self.one(at, |c| c == MAN || c == WOMAN)?;
        let end = self.optional(end, |e| self.skin_tone(e));
        let end = self.is(end, ZWJ)?;
        let tool = self.one(end, |c| matches!(c, '\u{2695}' | '\u{2696}' | '\u{2708}'));
        match tool {
            Some(tool) => Some(self.optional(tool, |e| self.is(e, VS16))),
            None => self.in_set(end, PROFESSIONS),
        }
    }

    /// A person who takes VS16 or a skin tone before a trailing gender sign.
    fn gendered_with_vs16(&self, at: usize) -> End {
        let end = self.in_set(at, PERSON_VS16_GENDER)?;
        let end = self.optional(end, |e| self.is(e, VS16).or_else(|| self.skin_tone(e)));
        self.trailing_gender(end)
    }

    /// A person with an optional skin tone and a trailing gender sign.
    fn gendered(&self, at: usize) -> End {
        let end = self.in_set(at, PERSON_GENDER)?;
        let end = self.optional(end, |e| self.skin_tone(e));
        self.trailing_gender(end)
    }

    /// Families, couples, and a few fixed sequences (rainbow flag, pirate flag, eye in speech
    /// bubble, gendered zombies, genies, dancers and wrestlers).
    fn other_zwj_sequence(&self, at: usize) -> End {
        let family = |first: char, parents: fn(char) -> bool, partners: fn(char) -> bool| {
            let end = self.is(self.is(at, first)?, ZWJ)?;
            self.family_rest(end, parents, partners)
        };
        // A man's family may have a second man or a woman, and his partner is a man (a woman
        // with a man is written woman first); a woman's second parent is a woman.
        family(MAN, |c| c == MAN || c == WOMAN, |c| c == MAN)
            .or_else(|| family(WOMAN, |c| c == WOMAN, |c| c == MAN || c == WOMAN))
            .or_else(|| {
                let end = self.one(at, |c| {
                    matches!(c, '\u{1f9df}' | '\u{1f9de}' | '\u{1f46f}' | '\u{1f93c}')
                })?;
                self.trailing_gender(end)
            })
            .or_else(|| {
                let end = self.is(at, '\u{1f3f3}')?;
                let end = self.optional(end, |e| self.is(e, VS16));
                self.is(self.is(end, ZWJ)?, '\u{1f308}')
            })
            .or_else(|| {
                let end = self.is(self.is(at, '\u{1f3f4}')?, ZWJ)?;
                let end = self.is(end, '\u{2620}')?;
                Some(self.optional(end, |e| self.is(e, VS16)))
            })
            .or_else(|| {
                let end = self.is(at, '\u{1f441}')?;
                let end = self.optional(end, |e| self.is(e, VS16));
                let end = self.is(self.is(end, ZWJ)?, '\u{1f5e8}')?;
                Some(self.optional(end, |e| self.is(e, VS16)))
            })
    }

    /// What may follow "man ZWJ" or "woman ZWJ": children, a second parent and children, or a
    /// heart (and kiss) with a partner.
    fn family_rest(&self, at: usize, parents: fn(char) -> bool, partners: fn(char) -> bool) -> End {
        let with_child = |at: usize| {
            let two_boys = || self.is(self.is(self.is(at, BOY)?, ZWJ)?, BOY);
            two_boys().or_else(|| self.boy_or_girl(self.is(self.is(at, GIRL)?, ZWJ)?))
        };
        let second_parent = || {
            let children = self.is(self.one(at, parents)?, ZWJ)?;
            with_child(children).or_else(|| self.boy_or_girl(children))
        };
        let couple = || {
            let end = self.is(at, HEART)?;
            let end = self.is(self.optional(end, |e| self.is(e, VS16)), ZWJ)?;
            self.one(end, partners).or_else(|| {
                let end = self.is(self.is(end, KISS)?, ZWJ)?;
                self.one(end, partners)
            })
        };
        with_child(at)
            .or_else(second_parent)
            .or_else(couple)
            .or_else(|| self.boy_or_girl(at))
    }

    fn boy_or_girl(&self, at: usize) -> End {
        self.one(at, |c| c == BOY || c == GIRL)
    }

    /// `("#" | "*" | ASCII_DIGIT) ~ "\u{fe0f}"? ~ "\u{20e3}"`
    fn keycap(&self, at: usize) -> End {
        let end = self.one(at, |c| c == '#' || c == '*' || c.is_ascii_digit())?;
        let end = self.optional(end, |e| self.is(e, VS16));
        self.is(end, '\u{20e3}')
    }

    /// `("©" | "®" | "\u{2122}" | "\u{265f}") ~ "\u{fe0f}"`
    fn text_symbol_with_vs16(&self, at: usize) -> End {
        let end = self.one(at, |c| matches!(c, '©' | '®' | '\u{2122}' | '\u{265f}'))?;
        self.is(end, VS16)
    }

    /// A symbol that is an emoji unless text presentation (U+FE0E) is asked for.
    fn variant_symbol(&self, at: usize) -> End {
        let end = self.in_set(at, VARIANTS)?;
        self.emoji_presentation(end)
    }

    /// `("\u{fe0f}" | !"\u{fe0e}")`
    fn emoji_presentation(&self, at: usize) -> End {
        match self.one(at, |c| c == VS16 || c == '\u{fe0e}') {
            Some(end) if self.s[at..end].starts_with(VS16) => Some(end),
            Some(_) => None,
            None => Some(at),
        }
    }

    /// Hands and people that take a skin tone.
    fn diversity(&self, at: usize) -> End {
        let with_vs16 = || self.emoji_presentation(self.in_set(at, DIVERSITY_VS16)?);
        let end = with_vs16().or_else(|| self.in_set(at, DIVERSITY))?;
        Some(self.optional(end, |e| self.skin_tone(e)))
    }

    /// The three subdivision flags, country flags, the single-code-point emoji, and a lone VS16.
    fn flag_or_regular(&self, at: usize) -> End {
        let tag_flag = SUBDIVISION_FLAGS.iter().find_map(|tags| self.lit(at, tags));
        tag_flag
            .or_else(|| self.country_flag(at))
            .or_else(|| self.in_set(at, REGULAR))
            .or_else(|| self.is(at, VS16))
    }

    fn country_flag(&self, at: usize) -> End {
        let letter = |c: char| {
            let offset = (c as u32).checked_sub(0x1f1e6)?;
            (offset < 26).then(|| b'A' + offset as u8)
        };
        let mut chars = self.s.get(at..)?.chars();
        let (first, second) = (chars.next()?, chars.next()?);
        let code = [letter(first)?, letter(second)?];
        let known = COUNTRY_FLAGS.as_bytes().chunks(2).any(|flag| flag == code);
        known.then(|| at + first.len_utf8() + second.len_utf8())
    }
}

fn contains(set: &[(u32, u32)], c: char) -> bool {
    let c = c as u32;
    set.binary_search_by(|&(low, high)| {
        if high < c {
            std::cmp::Ordering::Less
        } else if low > c {
            std::cmp::Ordering::Greater
        } else {
            std::cmp::Ordering::Equal
        }
    })
    .is_ok()
}

const SUBDIVISION_FLAGS: [&str; 3] = [
    "\u{1f3f4}\u{e0067}\u{e0062}\u{e0065}\u{e006e}\u{e0067}\u{e007f}",
    "\u{1f3f4}\u{e0067}\u{e0062}\u{e0073}\u{e0063}\u{e0074}\u{e007f}",
    "\u{1f3f4}\u{e0067}\u{e0062}\u{e0077}\u{e006c}\u{e0073}\u{e007f}",
];

/// The regions with a flag, as pairs of regional-indicator letters.
const COUNTRY_FLAGS: &str = "ACADAEAFAGAIALAMAOAQARASATAUAWAXAZBABBBDBEBFBGBHBIBJBLBMBNBOBQBRBSBTBVBWBYBZCACCCDCFCGCHCICKCLCMCNCOCPCRCUCVCWCXCYCZDEDGDJDKDMDODZEAECEEEGEHERESETEUFIFJFKFMFOFRGAGBGDGEGFGGGHGIGLGMGNGPGQGRGSGTGUGWGYHKHMHNHRHTHUICIDIEILIMINIOIQIRISITJEJMJOJPKEKGKHKIKMKNKPKRKWKYKZLALBLCLILKLRLSLTLULVLYMAMCMDMEMFMGMHMKMLMMMNMOMPMQMRMSMTMUMVMWMXMYMZNANCNENFNGNINLNONPNRNUNZOMPAPEPFPGPHPKPLPMPNPRPSPTPWPYQARERORSRURWSASBSCSDSESGSHSISJSKSLSMSNSOSRSSSTSVSXSYSZTATCTDTFTGTHTJTKTLTMTNTOTRTTTVTWTZUAUGUMUNUSUYUZVAVCVEVGVIVNVUWFWSXKYEYTZAZMZW";

/// What a man or woman can be joined to as a profession (besides ⚕, ⚖ and ✈, which take VS16).
const PROFESSIONS: &[(u32, u32)] = &[
    (0x1f33e, 0x1f33e),
    (0x1f373, 0x1f373),
    (0x1f393, 0x1f393),
    (0x1f3a4, 0x1f3a4),
    (0x1f3a8, 0x1f3a8),
    (0x1f3eb, 0x1f3eb),
    (0x1f3ed, 0x1f3ed),
    (0x1f4bb, 0x1f4bc),
    (0x1f527, 0x1f527),
    (0x1f52c, 0x1f52c),
    (0x1f680, 0x1f680),
    (0x1f692, 0x1f692),
    (0x1f9b0, 0x1f9b3),
];

const PERSON_VS16_GENDER: &[(u32, u32)] =
    &[(0x26f9, 0x26f9), (0x1f3cb, 0x1f3cc), (0x1f574, 0x1f575)];

const PERSON_GENDER: &[(u32, u32)] = &[
    (0x1f3c3, 0x1f3c4),
    (0x1f3ca, 0x1f3ca),
    (0x1f46e, 0x1f46e),
    (0x1f471, 0x1f471),
    (0x1f473, 0x1f473),
    (0x1f477, 0x1f477),
    (0x1f481, 0x1f482),
    (0x1f486, 0x1f487),
    (0x1f645, 0x1f647),
    (0x1f64b, 0x1f64b),
    (0x1f64d, 0x1f64e),
    (0x1f6a3, 0x1f6a3),
    (0x1f6b4, 0x1f6b6),
    (0x1f926, 0x1f926),
    (0x1f935, 0x1f935),
    (0x1f937, 0x1f939),
    (0x1f93d, 0x1f93e),
    (0x1f9b8, 0x1f9b9),
    (0x1f9d6, 0x1f9dd),
];

const VARIANTS: &[(u32, u32)] = &[
    (0x203c, 0x203c),
    (0x2049, 0x2049),
    (0x2139, 0x2139),
    (0x2194, 0x2199),
    (0x21a9, 0x21aa),
    (0x231a, 0x231b),
    (0x2328, 0x2328),
    (0x23cf, 0x23cf),
    (0x23ed, 0x23ef),
    (0x23f1, 0x23f2),
    (0x23f8, 0x23fa),
    (0x24c2, 0x24c2),
    (0x25aa, 0x25ab),
    (0x25b6, 0x25b6),
    (0x25c0, 0x25c0),
    (0x25fb, 0x25fe),
    (0x2600, 0x2604),
    (0x260e, 0x260e),
    (0x2611, 0x2611),
    (0x2614, 0x2615),
    (0x2618, 0x2618),
    (0x2620, 0x2620),
    (0x2622, 0x2623),
    (0x2626, 0x2626),
    (0x262a, 0x262a),
    (0x262e, 0x262f),
    (0x2638, 0x263a),
    (0x2640, 0x2640),
    (0x2642, 0x2642),
    (0x2648, 0x2653),
    (0x2660, 0x2660),
    (0x2663, 0x2663),
    (0x2665, 0x2666),
    (0x2668, 0x2668),
    (0x267b, 0x267b),
    (0x267e, 0x267f),
    (0x2692, 0x2697),
    (0x2699, 0x2699),
    (0x269b, 0x269c),
    (0x26a0, 0x26a1),
    (0x26aa, 0x26ab),
    (0x26b0, 0x26b1),
    (0x26bd, 0x26be),
    (0x26c4, 0x26c5),
    (0x26c8, 0x26c8),
    (0x26cf, 0x26cf),
    (0x26d1, 0x26d1),
    (0x26d3, 0x26d4),
    (0x26e9, 0x26ea),
    (0x26f0, 0x26f5),
    (0x26f8, 0x26f8),
    (0x26fa, 0x26fa),
    (0x26fd, 0x26fd),
    (0x2702, 0x2702),
    (0x2708, 0x2709),
    (0x270f, 0x270f),
    (0x2712, 0x2712),
    (0x2714, 0x2714),
    (0x2716, 0x2716),
    (0x271d, 0x271d),
    (0x2721, 0x2721),
    (0x2733, 0x2734),
    (0x2744, 0x2744),
    (0x2747, 0x2747),
    (0x2757, 0x2757),
    (0x2763, 0x2764),
    (0x27a1, 0x27a1),
    (0x2934, 0x2935),
    (0x2b05, 0x2b07),
    (0x2b1b, 0x2b1c),
    (0x2b50, 0x2b50),
    (0x2b55, 0x2b55),
    (0x3030, 0x3030),
    (0x303d, 0x303d),
    (0x3297, 0x3297),
    (0x3299, 0x3299),
    (0x1f004, 0x1f004),
    (0x1f170, 0x1f171),
    (0x1f17e, 0x1f17f),
    (0x1f202, 0x1f202),
    (0x1f21a, 0x1f21a),
    (0x1f22f, 0x1f22f),
    (0x1f237, 0x1f237),
    (0x1f321, 0x1f321),
    (0x1f324, 0x1f32c),
    (0x1f336, 0x1f336),
    (0x1f37d, 0x1f37d),
    (0x1f396, 0x1f397),
    (0x1f399, 0x1f39b),
    (0x1f39e, 0x1f39f),
    (0x1f3cd, 0x1f3ce),
    (0x1f3d4, 0x1f3df),
    (0x1f3f3, 0x1f3f3),
    (0x1f3f5, 0x1f3f5),
    (0x1f3f7, 0x1f3f7),
    (0x1f43f, 0x1f43f),
    (0x1f441, 0x1f441),
    (0x1f4fd, 0x1f4fd),
    (0x1f549, 0x1f54a),
    (0x1f56f, 0x1f570),
    (0x1f573, 0x1f573),
    (0x1f576, 0x1f579),
    (0x1f587, 0x1f587),
    (0x1f58a, 0x1f58d),
    (0x1f5a5, 0x1f5a5),
    (0x1f5a8, 0x1f5a8),
    (0x1f5b1, 0x1f5b2),
    (0x1f5bc, 0x1f5bc),
    (0x1f5c2, 0x1f5c4),
    (0x1f5d1, 0x1f5d3),
    (0x1f5dc, 0x1f5de),
    (0x1f5e1, 0x1f5e1),
    (0x1f5e3, 0x1f5e3),
    (0x1f5e8, 0x1f5e8),
    (0x1f5ef, 0x1f5ef),
    (0x1f5f3, 0x1f5f3),
    (0x1f5fa, 0x1f5fa),
    (0x1f6cb, 0x1f6cb),
    (0x1f6cd, 0x1f6cf),
    (0x1f6e0, 0x1f6e5),
    (0x1f6e9, 0x1f6e9),
    (0x1f6f0, 0x1f6f0),
    (0x1f6f3, 0x1f6f3),
];

const DIVERSITY_VS16: &[(u32, u32)] = &[
    (0x261d, 0x261d),
    (0x26f7, 0x26f7),
    (0x26f9, 0x26f9),
    (0x270c, 0x270d),
    (0x1f3cb, 0x1f3cc),
    (0x1f574, 0x1f575),
    (0x1f590, 0x1f590),
];

const DIVERSITY: &[(u32, u32)] = &[
    (0x270a, 0x270b),
    (0x1f385, 0x1f385),
    (0x1f3c2, 0x1f3c4),
    (0x1f3c7, 0x1f3c7),
    (0x1f3ca, 0x1f3ca),
    (0x1f442, 0x1f443),
    (0x1f446, 0x1f450),
    (0x1f466, 0x1f469),
    (0x1f46e, 0x1f46e),
    (0x1f470, 0x1f478),
    (0x1f47c, 0x1f47c),
    (0x1f481, 0x1f483),
    (0x1f485, 0x1f487),
    (0x1f4aa, 0x1f4aa),
    (0x1f57a, 0x1f57a),
    (0x1f595, 0x1f596),
    (0x1f645, 0x1f647),
    (0x1f64b, 0x1f64f),
    (0x1f6a3, 0x1f6a3),
    (0x1f6b4, 0x1f6b6),
    (0x1f6c0, 0x1f6c0),
    (0x1f6cc, 0x1f6cc),
    (0x1f918, 0x1f91c),
    (0x1f91e, 0x1f91f),
    (0x1f926, 0x1f926),
    (0x1f930, 0x1f939),
    (0x1f93d, 0x1f93e),
    (0x1f9b5, 0x1f9b6),
    (0x1f9b8, 0x1f9b9),
    (0x1f9d1, 0x1f9dd),
];

const REGULAR: &[(u32, u32)] = &[
    (0x23e9, 0x23ec),
    (0x23f0, 0x23f0),
    (0x23f3, 0x23f3),
    (0x267e, 0x267e),
    (0x26ce, 0x26ce),
    (0x2705, 0x2705),
    (0x2728, 0x2728),
    (0x274c, 0x274c),
    (0x274e, 0x274e),
    (0x2753, 0x2755),
    (0x2795, 0x2797),
    (0x27b0, 0x27b0),
    (0x27bf, 0x27bf),
    (0xe50a, 0xe50a),
    (0x1f0cf, 0x1f0cf),
    (0x1f18e, 0x1f18e),
    (0x1f191, 0x1f19a),
    (0x1f1e6, 0x1f1ff),
    (0x1f201, 0x1f201),
    (0x1f232, 0x1f236),
    (0x1f238, 0x1f23a),
    (0x1f250, 0x1f251),
    (0x1f300, 0x1f320),
    (0x1f32d, 0x1f335),
    (0x1f337, 0x1f37c),
    (0x1f37e, 0x1f384),
    (0x1f386, 0x1f393),
    (0x1f3a0, 0x1f3c1),
    (0x1f3c5, 0x1f3c6),
    (0x1f3c8, 0x1f3c9),
    (0x1f3cf, 0x1f3d3),
    (0x1f3e0, 0x1f3f0),
    (0x1f3f4, 0x1f3f4),
    (0x1f3f8, 0x1f43e),
    (0x1f440, 0x1f440),
    (0x1f444, 0x1f445),
    (0x1f451, 0x1f465),
    (0x1f46a, 0x1f46d),
    (0x1f46f, 0x1f46f),
    (0x1f479, 0x1f47b),
    (0x1f47d, 0x1f480),
    (0x1f484, 0x1f484),
    (0x1f488, 0x1f4a9),
    (0x1f4ab, 0x1f4fc),
    (0x1f4ff, 0x1f53d),
    (0x1f54b, 0x1f54e),
    (0x1f550, 0x1f567),
    (0x1f5a4, 0x1f5a4),
    (0x1f5fb, 0x1f644),
    (0x1f648, 0x1f64a),
    (0x1f680, 0x1f6a2),
    (0x1f6a4, 0x1f6b3),
    (0x1f6b7, 0x1f6bf),
    (0x1f6c1, 0x1f6c5),
    (0x1f6d0, 0x1f6d2),
    (0x1f6eb, 0x1f6ec),
    (0x1f6f4, 0x1f6f9),
    (0x1f910, 0x1f917),
    (0x1f91d, 0x1f91d),
    (0x1f920, 0x1f925),
    (0x1f927, 0x1f92f),
    (0x1f93a, 0x1f93a),
    (0x1f93c, 0x1f93c),
    (0x1f940, 0x1f945),
    (0x1f947, 0x1f970),
    (0x1f973, 0x1f976),
    (0x1f97a, 0x1f97a),
    (0x1f97c, 0x1f9a2),
    (0x1f9b0, 0x1f9b4),
    (0x1f9b7, 0x1f9b7),
    (0x1f9c0, 0x1f9c2),
    (0x1f9d0, 0x1f9d0),
    (0x1f9de, 0x1f9ff),
];
