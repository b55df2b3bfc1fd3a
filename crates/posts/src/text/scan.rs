//! X's tokenizer for post text: where the URLs, mentions, hashtags, emoji sequences and refused
//! characters are.
//!
//! These are X's own rules as twitter-text 0.2.0 writes them, a parsing-expression grammar,
//! followed here by hand so that the component carries no generated parser (that parser was
//! half a megabyte of the tweets component). The semantics are the grammar's: ordered choice,
//! greedy repetition that never gives back, and lookaheads that consume nothing. Every rule is a
//! method that takes a byte offset and returns where it ended, or `None`; a failed attempt drops
//! whatever tokens it recorded. `text/conformance_tests.rs` holds this port to twitter-text
//! itself, case for case.

use std::collections::HashMap;
use std::ops::Range;

/// What a token is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A URL, with or without its scheme, and where its host is (for the IDNA check).
    Url { host: Range<usize>, scheme: bool },
    /// A hashtag; the value starts after the `#`.
    Hashtag { value: usize },
    /// A mention; the value starts after the `@`.
    Mention { value: usize },
    /// A list (`@owner/slug`): its owner is a mention.
    List { value: usize, owner_end: usize },
    /// An emoji sequence, which weighs what one character outside Latin scripts weighs.
    Emoji,
    /// U+FFFE, U+FEFF or U+FFFF.
    Invalid,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Token {
    pub kind: Kind,
    pub span: Range<usize>,
}

/// The tokens of `text` in the order the grammar meets them (an enclosing token before the
/// ones inside it: a URL's host may hold emoji).
pub(crate) fn tokens(text: &str) -> Vec<Token> {
    let mut scan = Scan {
        s: text,
        out: Vec::new(),
        quiet: 0,
        memo: HashMap::new(),
        run: (0, 0),
        depth: 0,
    };
    let mut at = 0;
    while at < text.len() {
        at = scan
            .attempt(|p| p.entity(at))
            .or_else(|| scan.invalid_char(at))
            .or_else(|| scan.text(at))
            .unwrap_or(text.len());
    }
    scan.out
}

/// Where a rule ended, if it matched.
pub(super) type End = Option<usize>;

/// The rules worth remembering per offset: the domain rules look ahead into one another, and
/// without this a long dotted name costs exponential time (it did in the generated parser too).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub(super) enum Memo {
    Tld,
    SlDomain,
    LongerDomain,
    UwpSlDomain,
    UwpLongerDomain,
    UwpLabels,
    Labels,
    BalancedParens,
}

impl Memo {
    fn may_record(self) -> bool {
        matches!(self, Memo::SlDomain | Memo::LongerDomain | Memo::Labels)
    }
}

pub(super) struct Scan<'a> {
    pub(super) s: &'a str,
    out: Vec<Token>,
    /// Inside a lookahead: nothing is recorded.
    quiet: u32,
    memo: HashMap<(Memo, usize), End>,
    /// The last run `run_end` measured: from where, and where it ended.
    run: (usize, usize),
    /// How many remembered rules are running inside one another.
    depth: u32,
}

/// How deep the domain and parenthesis rules may nest.
const MAX_DEPTH: u32 = 200;

impl Scan<'_> {
    // ---- the machinery of a parsing-expression grammar ----

    pub(super) fn char_at(&self, at: usize) -> Option<char> {
        self.s.get(at..)?.chars().next()
    }

    /// One character that satisfies `class`.
    pub(super) fn one(&self, at: usize, class: impl Fn(char) -> bool) -> End {
        let c = self.char_at(at)?;
        class(c).then(|| at + c.len_utf8())
    }

    /// `"literal"`.
    pub(super) fn lit(&self, at: usize, literal: &str) -> End {
        let rest = self.s.as_bytes().get(at..)?;
        rest.starts_with(literal.as_bytes())
            .then(|| at + literal.len())
    }

    /// `^"literal"`: ASCII letters in either case.
    pub(super) fn ilit(&self, at: usize, literal: &str) -> End {
        let rest = self.s.as_bytes().get(at..at + literal.len())?;
        rest.eq_ignore_ascii_case(literal.as_bytes())
            .then(|| at + literal.len())
    }

    /// Runs `rule`; if it fails, the tokens it recorded are dropped.
    pub(super) fn attempt(&mut self, rule: impl FnOnce(&mut Self) -> End) -> End {
        let recorded = self.out.len();
        let end = rule(self);
        if end.is_none() {
            self.out.truncate(recorded);
        }
        end
    }

    /// `&rule` (or `!rule` when negated): whether `rule` matches here, consuming nothing.
    pub(super) fn ahead(&mut self, at: usize, rule: impl FnOnce(&mut Self, usize) -> End) -> bool {
        let recorded = self.out.len();
        self.quiet += 1;
        let matched = rule(self, at).is_some();
        self.quiet -= 1;
        self.out.truncate(recorded);
        matched
    }

    /// `rule?`.
    pub(super) fn opt(&mut self, at: usize, rule: impl FnOnce(&mut Self, usize) -> End) -> usize {
        self.attempt(|p| rule(p, at)).unwrap_or(at)
    }

    /// `rule*`.
    pub(super) fn star(&mut self, at: usize, rule: impl Fn(&mut Self, usize) -> End) -> usize {
        self.repeat(at, 0, usize::MAX, rule).unwrap_or(at)
    }

    /// `rule+`.
    pub(super) fn plus(&mut self, at: usize, rule: impl Fn(&mut Self, usize) -> End) -> End {
        self.repeat(at, 1, usize::MAX, rule)
    }

    /// `rule{min,max}`.
    pub(super) fn repeat(
        &mut self,
        at: usize,
        min: usize,
        max: usize,
        rule: impl Fn(&mut Self, usize) -> End,
    ) -> End {
        let recorded = self.out.len();
        let (mut end, mut count) = (at, 0);
        while count < max {
            match self.attempt(|p| rule(p, end)) {
                Some(next) if next > end => (end, count) = (next, count + 1),
                Some(_) => {
                    count += 1;
                    break;
                }
                None => break,
            }
        }
        if count < min {
            self.out.truncate(recorded);
            return None;
        }
        Some(end)
    }

    /// A rule whose result depends only on the offset, remembered while nothing is recorded.
    pub(super) fn memo(
        &mut self,
        rule: Memo,
        at: usize,
        body: impl FnOnce(&mut Self, usize) -> End,
    ) -> End {
        if let Some(&end) = self.memo.get(&(rule, at)) {
            // A failure recorded nothing, and neither does a rule that never records; only a
            // success of a rule that may hold emoji (a host) is run again to record them.
            if self.quiet > 0 || end.is_none() || !rule.may_record() {
                return end;
            }
        }
        // These rules recurse through one another, a level per label or parenthesis: past
        // MAX_DEPTH levels (no real host or path comes near) the rule fails rather than
        // overflow the stack.
        if self.depth >= MAX_DEPTH {
            return None;
        }
        self.depth += 1;
        let end = self.attempt(|p| body(p, at));
        self.depth -= 1;
        self.memo.insert((rule, at), end);
        end
    }

    /// A remembered end, where it may be used (see [`Scan::memo`]).
    pub(super) fn remembered(&self, rule: Memo, at: usize) -> End {
        let end = self.memo.get(&(rule, at)).copied().flatten()?;
        (self.quiet > 0 || !rule.may_record()).then_some(end)
    }

    pub(super) fn remember(&mut self, rule: Memo, at: usize, end: usize) {
        self.memo.insert((rule, at), Some(end));
    }

    /// Where the run of characters of one class that starts at `at` ends. Any later start
    /// inside a run ends where the run does, so a run is scanned once while the tweet loop
    /// walks through it (each call passes the same class).
    pub(super) fn run_end(&mut self, at: usize, class: impl Fn(char) -> bool) -> usize {
        let (from, end) = self.run;
        if from <= at && at < end {
            return end;
        }
        let end = self.s[at..]
            .find(|c: char| !class(c))
            .map_or(self.s.len(), |length| at + length);
        self.run = (at, end);
        end
    }

    pub(super) fn record(&mut self, kind: Kind, span: Range<usize>) {
        if self.quiet == 0 {
            self.out.push(Token { kind, span });
        }
    }

    /// Records a token that encloses those recorded since `first`, ahead of them.
    pub(super) fn record_enclosing(&mut self, first: usize, kind: Kind, span: Range<usize>) {
        if self.quiet == 0 {
            self.out.insert(first, Token { kind, span });
        }
    }

    pub(super) fn recorded(&self) -> usize {
        self.out.len()
    }

    // ---- the tweet ----

    /// `entity = possible_url | possible_hashtag | possible_mention | possible_cashtag`
    fn entity(&mut self, at: usize) -> End {
        self.attempt(|p| p.possible_url(at))
            .or_else(|| self.attempt(|p| p.possible_hashtag(at)))
            .or_else(|| self.attempt(|p| p.possible_mention(at)))
            .or_else(|| self.attempt(|p| p.possible_cashtag(at)))
    }

    /// `invalid_char = { "\u{fffe}" | "\u{feff}" | "\u{ffff}" }`
    pub(super) fn invalid_char(&mut self, at: usize) -> End {
        let end = self.one(at, is_invalid)?;
        self.record(Kind::Invalid, at..end);
        Some(end)
    }

    /// `text = !invalid_char ~ (emoji | ANY)`
    pub(super) fn text(&mut self, at: usize) -> End {
        if self.one(at, is_invalid).is_some() {
            return None;
        }
        self.attempt(|p| p.emoji(at))
            .or_else(|| self.one(at, |_| true))
    }

    /// `non_punctuation = !(punctuation_char | space | PUNCTUATION) ~ text`
    pub(super) fn non_punctuation(&mut self, at: usize) -> End {
        let c = self.char_at(at)?;
        if c.is_ascii_punctuation() || is_space(c) || pest::unicode::PUNCTUATION(c) {
            return None;
        }
        self.text(at)
    }

    // ---- hashtags ----

    /// `possible_hashtag = "\u{fe0e}" | "\u{fe0f}" ~ hashtag | invalid_hashtag_start | hashtag`
    fn possible_hashtag(&mut self, at: usize) -> End {
        self.lit(at, "\u{fe0e}")
            .or_else(|| {
                let vs16 = self.lit(at, "\u{fe0f}")?;
                self.attempt(|p| p.hashtag(vs16))
            })
            .or_else(|| self.attempt(|p| p.invalid_hashtag_start(at)))
            .or_else(|| self.attempt(|p| p.hashtag(at)))
    }

    /// `hashtag = { hashtag_prefix ~ hashtag_text }`
    fn hashtag(&mut self, at: usize) -> End {
        let value = self.hashtag_prefix(at)?;
        let end = self.hashtag_text(value)?;
        self.record(Kind::Hashtag { value }, at..end);
        Some(end)
    }

    fn hashtag_prefix(&self, at: usize) -> End {
        self.one(at, |c| c == '#' || c == '＃')
    }

    /// `hashtag_text = !("\u{fe0f}" | "\u{20e3}") ~
    ///     (hashtag_special* ~ hashtag_letter_or_mark+ ~ hashtag_special*)+`
    fn hashtag_text(&mut self, at: usize) -> End {
        if self
            .one(at, |c| c == '\u{fe0f}' || c == '\u{20e3}')
            .is_some()
        {
            return None;
        }
        self.plus(at, |p, at| {
            let at = p.star(at, |p, at| p.one(at, is_hashtag_special));
            let at = p.plus(at, |p, at| p.one(at, is_letter_or_mark))?;
            Some(p.star(at, |p, at| p.one(at, is_hashtag_special)))
        })
    }

    /// `invalid_hashtag_start = (("&" | hashtag_letter_or_mark) ~ hashtag_prefix ~ &hashtag_text)
    ///     | hashtag_prefix ~ protocol ~ subdomain_char*`
    fn invalid_hashtag_start(&mut self, at: usize) -> End {
        let glued = self
            .one(at, |c| c == '&' || is_letter_or_mark(c))
            .and_then(|after| self.hashtag_prefix(after));
        if let Some(text) = glued {
            if self.ahead(text, Self::hashtag_text) {
                return Some(text);
            }
        }
        let scheme = self.hashtag_prefix(at)?;
        self.prefixed_protocol(scheme)
    }

    /// `protocol ~ subdomain_char*` after a `#`, `@` or `$`: not an entity, and not a URL either.
    fn prefixed_protocol(&mut self, at: usize) -> End {
        let host = self.protocol(at)?;
        Some(self.star(host, Self::subdomain_char))
    }

    // ---- mentions and lists ----

    /// `possible_mention = list | user`
    fn possible_mention(&mut self, at: usize) -> End {
        self.attempt(|p| p.list(at))
            .or_else(|| self.attempt(|p| p.user(at)))
    }

    /// `user_token = user_prefix ~ user_char{1, 20}`
    fn user_token(&mut self, at: usize) -> End {
        let name = self.one(at, is_user_prefix)?;
        self.repeat(name, 1, 20, |p, at| p.one(at, is_user_char))
    }

    /// ```text
    /// user = user_prefix ~ protocol ~ subdomain_char* | user_token ~ user_token+
    ///      | user_token ~ user_invalid_suffix | rt_prefix ~ username
    ///      | user_invalid_prefix ~ user_token | username
    /// ```
    fn user(&mut self, at: usize) -> End {
        let p = self;
        p.attempt(|p| p.prefixed_protocol(p.one(at, is_user_prefix)?))
            .or_else(|| {
                p.attempt(|p| {
                    let first = p.user_token(at)?;
                    p.plus(first, Self::user_token)
                })
            })
            .or_else(|| {
                p.attempt(|p| {
                    let first = p.user_token(at)?;
                    p.user_invalid_suffix(first)
                })
            })
            .or_else(|| p.attempt(|p| p.rt_prefix(at).and_then(|name| p.username(name))))
            .or_else(|| {
                p.attempt(|p| {
                    let token = p.user_invalid_prefix(at)?;
                    p.user_token(token)
                })
            })
            .or_else(|| p.attempt(|p| p.username(at)))
    }

    /// `username = { user_token }`
    fn username(&mut self, at: usize) -> End {
        let end = self.user_token(at)?;
        let value = at + self.char_at(at)?.len_utf8();
        self.record(Kind::Mention { value }, at..end);
        Some(end)
    }

    /// `user_invalid_prefix = user_char | "!" | "#" | "$" | "%" | "&" | "*" | user_prefix | protocol`
    fn user_invalid_prefix(&self, at: usize) -> End {
        self.one(at, |c| {
            is_user_char(c) || is_user_prefix(c) || matches!(c, '!' | '#' | '$' | '%' | '&' | '*')
        })
        .or_else(|| self.protocol(at))
    }

    /// `user_invalid_suffix = user_prefix | latin_accent | "://" | "-"`
    fn user_invalid_suffix(&self, at: usize) -> End {
        self.one(at, |c| is_user_prefix(c) || is_latin_accent(c) || c == '-')
            .or_else(|| self.lit(at, "://"))
    }

    /// `rt_prefix = !(user_char | "+" | "~" | "." | "-") | SOI ~ ^"rt" ~ ":"?`
    fn rt_prefix(&self, at: usize) -> End {
        let glued = self.one(at, |c| {
            is_user_char(c) || matches!(c, '+' | '~' | '.' | '-')
        });
        if glued.is_none() {
            return Some(at);
        }
        if at != 0 {
            return None;
        }
        let rt = self.ilit(at, "rt")?;
        Some(self.lit(rt, ":").unwrap_or(rt))
    }

    /// `list = { listname ~ list_slug }`, `listname = { user_token }`,
    /// `list_slug = { "/" ~ (ASCII_ALPHA ~ (alphanumeric | "_" | "-"){,24}){1} }`
    fn list(&mut self, at: usize) -> End {
        let owner_end = self.user_token(at)?;
        let slug = self.lit(owner_end, "/")?;
        let slug = self.one(slug, |c| c.is_ascii_alphabetic())?;
        let end = self.repeat(slug, 0, 24, |p, at| {
            p.one(at, |c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        })?;
        let value = at + self.char_at(at)?.len_utf8();
        self.record(Kind::List { value, owner_end }, at..end);
        Some(end)
    }

    // ---- cashtags: never extracted, but what they consume is not a mention or a URL ----

    /// `possible_cashtag = invalid_cashtag_start | (cashtag ~ cashtag_token*)`
    fn possible_cashtag(&mut self, at: usize) -> End {
        self.attempt(|p| p.invalid_cashtag_start(at)).or_else(|| {
            let first = self.cashtag_token(at)?;
            Some(self.star(first, |p, at| p.cashtag_token(at)))
        })
    }

    /// `invalid_cashtag_start = (!space ~ text) ~ cashtag_token | cashtag_prefix ~ protocol ~
    ///     subdomain_char*`
    fn invalid_cashtag_start(&mut self, at: usize) -> End {
        let glued = self.attempt(|p| {
            p.one(at, |c| !is_space(c))?;
            let tag = p.text(at)?;
            p.cashtag_token(tag)
        });
        glued.or_else(|| {
            let scheme = self.lit(at, "$")?;
            self.attempt(|p| p.prefixed_protocol(scheme))
        })
    }

    /// `cashtag_token = "$" ~ ASCII_ALPHA{1,6} ~ (("." | "_")? ~ ASCII_ALPHA{1,2})? ~
    ///     !(ASCII_DIGIT | ASCII_ALPHA)`
    fn cashtag_token(&mut self, at: usize) -> End {
        let letters = self.lit(at, "$")?;
        let alpha = |p: &mut Self, at| p.one(at, |c| c.is_ascii_alphabetic());
        let end = self.repeat(letters, 1, 6, alpha)?;
        let end = self.opt(end, |p, at| {
            let at = p.one(at, |c| c == '.' || c == '_').unwrap_or(at);
            p.repeat(at, 1, 2, alpha)
        });
        match self.one(end, |c| c.is_ascii_alphanumeric()) {
            Some(_) => None,
            None => Some(end),
        }
    }

    /// `protocol = ^"http" ~ (^"s")? ~ "://"`
    pub(super) fn protocol(&self, at: usize) -> End {
        let at = self.ilit(at, "http")?;
        let at = self.ilit(at, "s").unwrap_or(at);
        self.lit(at, "://")
    }
}

fn is_invalid(c: char) -> bool {
    matches!(c, '\u{fffe}' | '\u{feff}' | '\u{ffff}')
}

/// `space`: the characters X treats as spaces.
pub(super) fn is_space(c: char) -> bool {
    matches!(
        c,
        '\u{20}' | '\u{85}' | '\u{a0}' | '\u{1680}' | '\u{180e}' | '\u{2028}' | '\u{2029}'
            | '\u{202f}' | '\u{205f}' | '\u{3000}' | '\u{9}'..='\u{d}' | '\u{2000}'..='\u{200a}'
    )
}

/// `latin_accent`: the accented Latin letters X lets into usernames' neighbours and URLs.
pub(super) fn is_latin_accent(c: char) -> bool {
    matches!(
        c,
        '\u{c0}'..='\u{d6}' | '\u{d8}'..='\u{f6}' | '\u{f8}'..='\u{24f}' | '\u{253}'..='\u{254}'
            | '\u{256}'..='\u{257}' | '\u{259}' | '\u{25b}' | '\u{263}' | '\u{268}' | '\u{26f}'
            | '\u{272}' | '\u{289}' | '\u{28b}' | '\u{2bb}' | '\u{300}'..='\u{36f}'
            | '\u{1e00}'..='\u{1eff}'
    )
}

pub(super) fn is_cyrillic(c: char) -> bool {
    ('\u{400}'..='\u{4ff}').contains(&c)
}

fn is_user_prefix(c: char) -> bool {
    c == '@' || c == '＠'
}

fn is_user_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// `hashtag_letter_or_mark`: any letter or mark, in any script.
fn is_letter_or_mark(c: char) -> bool {
    pest::unicode::LETTER(c) || pest::unicode::MARK(c)
}

/// `hashtag_special`: digits in any script, the underscore, joiners and a few script marks.
fn is_hashtag_special(c: char) -> bool {
    pest::unicode::DECIMAL_NUMBER(c)
        || matches!(
            c,
            '_' | '\u{200c}'
                | '\u{200d}'
                | '\u{a67e}'
                | '\u{05be}'
                | '\u{05f3}'
                | '\u{05f4}'
                | '\u{ff5e}'
                | '\u{301c}'
                | '\u{309b}'
                | '\u{309c}'
                | '\u{30a0}'
                | '\u{30fb}'
                | '\u{3003}'
                | '\u{0f0b}'
                | '\u{0f0c}'
                | '\u{00b7}'
        )
}
