//! The URL rules of X's tokenizer (see `scan.rs`): URLs with a scheme, URLs without one
//! (`example.com`), hosts, top-level domains, paths with balanced parentheses, queries and
//! fragments.

use super::scan::{is_cyrillic, is_latin_accent, End, Kind, Memo, Scan};
use super::tld;

impl Scan<'_> {
    /// `possible_url = !(user_prefix | hashtag_prefix | cashtag_prefix) ~ (url | uwp)`
    pub(super) fn possible_url(&mut self, at: usize) -> End {
        if self
            .one(at, |c| matches!(c, '@' | '＠' | '#' | '＃' | '$'))
            .is_some()
        {
            return None;
        }
        self.attempt(|p| p.url(at))
            .or_else(|| self.attempt(|p| p.uwp(at)))
    }

    /// `url = { tco_url | normal_url }`
    fn url(&mut self, at: usize) -> End {
        let first = self.recorded();
        let (end, host) = self
            .attempt_host(|p| p.tco_url(at))
            .or_else(|| self.attempt_host(|p| p.normal_url(at)))?;
        let kind = Kind::Url { host, scheme: true };
        self.record_enclosing(first, kind, at..end);
        Some(end)
    }

    fn attempt_host(
        &mut self,
        rule: impl FnOnce(&mut Self) -> Option<(usize, std::ops::Range<usize>)>,
    ) -> Option<(usize, std::ops::Range<usize>)> {
        let mut host = None;
        let end = self.attempt(|p| {
            let (end, span) = rule(p)?;
            host = Some(span);
            Some(end)
        })?;
        Some((end, host?))
    }

    /// ```text
    /// tco_url = protocol ~ tco_domain ~ "/" ~ alphanumeric{1,40} ~ (query ~ fragment?)? ~ !word
    ///         | protocol ~ tco_domain ~ "/"? ~ !word
    /// ```
    /// where `word` is `alphanumeric | cyrillic_char | latin_accent`.
    fn tco_url(&mut self, at: usize) -> Option<(usize, std::ops::Range<usize>)> {
        let host = self.protocol(at)?;
        let path = self.lit(host, "t.co")?;
        let is_word = |c: char| c.is_ascii_alphanumeric() || is_cyrillic(c) || is_latin_accent(c);
        let long = self.attempt(|p| {
            let id = p.lit(path, "/")?;
            let end = p.repeat(id, 1, 40, |p, at| p.one(at, |c| c.is_ascii_alphanumeric()))?;
            let end = p.opt(end, |p, at| {
                let end = p.query(at)?;
                Some(p.opt(end, Self::fragment))
            });
            p.one(end, is_word).is_none().then_some(end)
        });
        let end = long.or_else(|| {
            let end = self.lit(path, "/").unwrap_or(path);
            self.one(end, is_word).is_none().then_some(end)
        })?;
        Some((end, host..path))
    }

    /// `normal_url = protocol ~ userinfo? ~ host ~ port? ~ path? ~ query? ~ fragment?`
    fn normal_url(&mut self, at: usize) -> Option<(usize, std::ops::Range<usize>)> {
        let at = self.protocol(at)?;
        let host = self.opt(at, Self::userinfo);
        let host_end = self.host(host)?;
        let end = self.url_tail(host_end);
        Some((end, host..host_end))
    }

    /// `port? ~ path? ~ query? ~ fragment?`
    fn url_tail(&mut self, at: usize) -> usize {
        let at = self.opt(at, Self::port);
        let at = self.opt(at, Self::path);
        let at = self.opt(at, Self::query);
        self.opt(at, Self::fragment)
    }

    /// `userinfo = (unreserved | pct_encoded | sub_delims | ":")* ~ "@"`
    fn userinfo(&mut self, at: usize) -> End {
        let end = self.star(at, |p, at| {
            p.one(at, |c| {
                c.is_ascii_alphanumeric()
                    || is_cyrillic(c)
                    || matches!(c, '-' | '.' | '_' | '~' | ':')
                    || matches!(
                        c,
                        '!' | '$' | '&' | '\'' | '(' | ')' | '*' | '+' | ',' | ';' | '='
                    )
            })
            .or_else(|| p.one(p.lit(at, "%")?, pest::unicode::HEX_DIGIT))
        });
        self.lit(end, "@")
    }

    /// `host = { !"t.co" ~ domain | ipv4_address | ip_literal }`
    fn host(&mut self, at: usize) -> End {
        let domain = match self.lit(at, "t.co") {
            Some(_) => None,
            None => self.attempt(|p| p.domain(at)),
        };
        domain
            .or_else(|| self.ipv4_address(at))
            .or_else(|| self.ip_literal(at))
    }

    /// `port = { ":" ~ '1'..'9' ~ ASCII_DIGIT* }`
    fn port(&mut self, at: usize) -> End {
        let at = self.lit(at, ":")?;
        let at = self.one(at, |c| ('1'..='9').contains(&c))?;
        Some(self.star(at, |p, at| p.one(at, |c| c.is_ascii_digit())))
    }

    // ---- domains ----

    /// `tld = { tld_list ~ !invalid_tld_suffix }`, where `invalid_tld_suffix` is a lowercase
    /// ASCII letter, a digit or `@`.
    pub(super) fn tld(&mut self, at: usize) -> End {
        self.memo(Memo::Tld, at, |p, at| {
            let end = at + tld::longest_at(&p.s[at..])?;
            let glued = p.one(end, |c| {
                c.is_ascii_lowercase() || c.is_ascii_digit() || c == '@'
            });
            glued.is_none().then_some(end)
        })
    }

    /// `domain = { (sl_domain | longer_domain) ~ tld }`
    fn domain(&mut self, at: usize) -> End {
        let tld = self
            .attempt(|p| p.sl_domain(at))
            .or_else(|| self.attempt(|p| p.longer_domain(at)))?;
        self.tld(tld)
    }

    /// ```text
    /// sl_domain = (domain_segment ~ "." ~ &tld) ~
    ///     !((domain_segment ~ "." ~ &tld) | "." ~ &tld | longer_domain)
    /// ```
    fn sl_domain(&mut self, at: usize) -> End {
        self.memo(Memo::SlDomain, at, |p, at| {
            let dot = p.domain_segment(at)?;
            let tld = p.lit(dot, ".")?;
            if !p.ahead(tld, Self::tld) {
                return None;
            }
            let more = p.ahead(tld, |p, at| {
                let dot = p.domain_segment(at)?;
                let tld = p.lit(dot, ".")?;
                p.tld(tld).map(|_| tld)
            }) || p.ahead(tld, |p, at| p.tld(p.lit(at, ".")?))
                || p.ahead(tld, Self::longer_domain);
            (!more).then_some(tld)
        })
    }

    /// `longer_domain = subdomain ~ ("." ~ subdomain)* ~ "." ~ sl_domain`
    fn longer_domain(&mut self, at: usize) -> End {
        self.memo(Memo::LongerDomain, at, |p, at| {
            p.labels_then(at, Memo::Labels, Self::subdomain, Self::sl_domain)
        })
    }

    /// `subdomain = !sl_domain ~ subdomain_segment`,
    /// `subdomain_segment = punycode_host | subdomain_char+`
    fn subdomain(&mut self, at: usize) -> End {
        if self.ahead(at, Self::sl_domain) {
            return None;
        }
        self.punycode_host(at)
            .or_else(|| self.plus(at, Self::subdomain_char))
    }

    /// `punycode_host = ^"xn" ~ "--" ~ ("-" | alphanumeric)+`
    fn punycode_host(&mut self, at: usize) -> End {
        let at = self.lit(self.ilit(at, "xn")?, "--")?;
        self.plus(at, |p, at| {
            p.one(at, |c| c == '-' || c.is_ascii_alphanumeric())
        })
    }

    /// `domain_segment = punycode_host | (domain_char ~ ("-"? ~ domain_char)*)+`
    fn domain_segment(&mut self, at: usize) -> End {
        self.punycode_host(at).or_else(|| {
            self.plus(at, |p, at| {
                let end = p.domain_char(at)?;
                Some(p.star(end, Self::hyphen_then_domain_char))
            })
        })
    }

    fn hyphen_then_domain_char(&mut self, at: usize) -> End {
        let at = self.lit(at, "-").unwrap_or(at);
        self.domain_char(at)
    }

    /// `domain_char = (non_punctuation ~ ("-"? ~ non_punctuation)+) | non_punctuation`
    fn domain_char(&mut self, at: usize) -> End {
        let run = self.attempt(|p| {
            let end = p.non_punctuation(at)?;
            p.plus(end, |p, at| p.non_punctuation(p.lit(at, "-").unwrap_or(at)))
        });
        run.or_else(|| self.non_punctuation(at))
    }

    /// `subdomain_char = (domain_char ~ "_"? ~ domain_char) | domain_char`
    pub(super) fn subdomain_char(&mut self, at: usize) -> End {
        let pair = self.attempt(|p| {
            let end = p.domain_char(at)?;
            p.domain_char(p.lit(end, "_").unwrap_or(end))
        });
        pair.or_else(|| self.domain_char(at))
    }

    // ---- IP addresses ----

    /// `ipv4_address = dec_octet ~ "." ~ dec_octet ~ "." ~ dec_octet ~ "." ~ dec_octet`
    fn ipv4_address(&self, at: usize) -> End {
        let mut end = dec_octet(self, at)?;
        for _ in 0..3 {
            end = dec_octet(self, self.lit(end, ".")?)?;
        }
        Some(end)
    }

    /// `ip_literal = "[" ~ ipv6_address ~ "]"`
    fn ip_literal(&mut self, at: usize) -> End {
        let at = self.lit(at, "[")?;
        let end = self.ipv6_address(at)?;
        self.lit(end, "]")
    }

    /// The nine shapes of an IPv6 address: `h16_{6} ~ ls32`, `"::" ~ h16_{5} ~ ls32`, then
    /// `h16_{0,n} ~ "::" ~ …` for n = 1 to 7.
    fn ipv6_address(&mut self, at: usize) -> End {
        let full = self
            .repeat(at, 6, 6, h16_colon)
            .and_then(|end| self.ls32(end));
        full.or_else(|| {
            let end = self.lit(at, "::")?;
            let end = self.repeat(end, 5, 5, h16_colon)?;
            self.ls32(end)
        })
        .or_else(|| {
            (1..=7).find_map(|before| {
                let end = self.repeat(at, 0, before, h16_colon)?;
                let end = self.lit(end, "::")?;
                match before {
                    1..=4 => {
                        let end = self.repeat(end, 5 - before, 5 - before, h16_colon)?;
                        self.ls32(end)
                    }
                    5 => self.ls32(end),
                    6 => h16(self, end),
                    _ => Some(end),
                }
            })
        })
    }

    /// `ls32 = (h16 ~ ":" ~ h16) | ipv4_address`
    fn ls32(&self, at: usize) -> End {
        h16(self, at)
            .and_then(|end| self.lit(end, ":"))
            .and_then(|end| h16(self, end))
            .or_else(|| self.ipv4_address(at))
    }

    // ---- URLs without a scheme ----

    /// `uwp = { invalid_preceding_url_chars ~ uwp_domain | url_without_protocol }`
    fn uwp(&mut self, at: usize) -> End {
        let glued = self
            .one(at, |c| matches!(c, '_' | '-' | '.'))
            .or_else(|| self.protocol(at))
            .and_then(|domain| self.uwp_domain(domain));
        glued.or_else(|| self.attempt(|p| p.url_without_protocol(at)))
    }

    /// `url_without_protocol = { uwp_domain ~ port? ~ path? ~ query? ~ fragment? }`
    fn url_without_protocol(&mut self, at: usize) -> End {
        let host_end = self.uwp_domain(at)?;
        let end = self.url_tail(host_end);
        let kind = Kind::Url {
            host: at..host_end,
            scheme: false,
        };
        self.record(kind, at..end);
        Some(end)
    }

    /// `uwp_domain = { (uwp_sl_domain | uwp_longer_domain) ~ tld }`
    fn uwp_domain(&mut self, at: usize) -> End {
        if !self.uwp_run_meets_a_dot(at) {
            return None;
        }
        let tld = self
            .uwp_sl_domain(at)
            .or_else(|| self.uwp_longer_domain(at))?;
        self.tld(tld)
    }

    /// ```text
    /// uwp_sl_domain = (uwp_domain_char+ ~ "." ~ &tld) ~
    ///     !((uwp_domain_char+ ~ "." ~ &tld) | "." ~ &tld | uwp_sl_domain)
    /// ```
    fn uwp_sl_domain(&mut self, at: usize) -> End {
        self.memo(Memo::UwpSlDomain, at, |p, at| {
            let tld = p.uwp_label_then_dot(at)?;
            if !p.ahead(tld, Self::tld) {
                return None;
            }
            let more = p.ahead(tld, |p, at| {
                let tld = p.uwp_label_then_dot(at)?;
                p.tld(tld).map(|_| tld)
            }) || p.ahead(tld, |p, at| p.tld(p.lit(at, ".")?))
                || p.ahead(tld, Self::uwp_sl_domain);
            (!more).then_some(tld)
        })
    }

    /// `uwp_domain_char+ ~ "."`
    fn uwp_label_then_dot(&mut self, at: usize) -> End {
        let dot = self.plus(at, Self::uwp_domain_char)?;
        self.lit(dot, ".")
    }

    /// `uwp_longer_domain = uwp_subdomain ~ ("." ~ uwp_subdomain)* ~ "." ~ uwp_sl_domain`
    fn uwp_longer_domain(&mut self, at: usize) -> End {
        self.memo(Memo::UwpLongerDomain, at, |p, at| {
            p.labels_then(
                at,
                Memo::UwpLabels,
                Self::uwp_subdomain,
                Self::uwp_sl_domain,
            )
        })
    }

    /// `label ~ ("." ~ label)* ~ "." ~ last`: the shape of both kinds of longer domain.
    fn labels_then(
        &mut self,
        at: usize,
        memo: Memo,
        label: fn(&mut Self, usize) -> End,
        last: fn(&mut Self, usize) -> End,
    ) -> End {
        let end = label(self, at)?;
        let end = self.more_labels(memo, end, label);
        let last_at = self.lit(end, ".")?;
        last(self, last_at)
    }

    /// `("." ~ subdomain)*`. Greedy repetition is memoryless, so every offset of one chain of
    /// labels reaches the same end: a long dotted run is walked once, not once per offset the
    /// tweet loop (or a lookahead) tries it from.
    fn more_labels(&mut self, memo: Memo, at: usize, label: fn(&mut Self, usize) -> End) -> usize {
        let mut chain = vec![at];
        let mut end = at;
        loop {
            if let Some(known) = self.remembered(memo, end) {
                end = known;
                break;
            }
            match self.attempt(|p| label(p, p.lit(end, ".")?)) {
                Some(next) => {
                    chain.push(next);
                    end = next;
                }
                None => break,
            }
        }
        for start in chain {
            self.remember(memo, start, end);
        }
        end
    }

    /// Whether the run of characters a scheme-less host is made of (letters, digits, accented
    /// Latin, `-`, `_`) that starts here ends at a dot, as every such host's first label does.
    /// Without this check a long word costs time in the square of its length: the tweet loop
    /// tries a host from each of its letters.
    fn uwp_run_meets_a_dot(&mut self, at: usize) -> bool {
        let end = self.run_end(at, |c| {
            c.is_ascii_alphanumeric() || is_latin_accent(c) || c == '-' || c == '_'
        });
        self.lit(end, ".").is_some()
    }

    /// `uwp_subdomain = { !uwp_sl_domain ~ uwp_subdomain_char+ }`,
    /// `uwp_subdomain_char = (uwp_domain_char ~ "_"? ~ uwp_domain_char) | uwp_domain_char`
    fn uwp_subdomain(&mut self, at: usize) -> End {
        if self.ahead(at, Self::uwp_sl_domain) {
            return None;
        }
        self.plus(at, |p, at| {
            let first = p.uwp_domain_char(at)?;
            let pair = p.uwp_domain_char(p.lit(first, "_").unwrap_or(first));
            pair.or(Some(first))
        })
    }

    /// ```text
    /// uwp_domain_char = ((alphanumeric | latin_accent) ~ ("-"? ~ (alphanumeric | latin_accent))+)
    ///                 | alphanumeric | latin_accent
    /// ```
    fn uwp_domain_char(&mut self, at: usize) -> End {
        let letter = |c: char| c.is_ascii_alphanumeric() || is_latin_accent(c);
        let first = self.one(at, letter)?;
        let run = self.plus(first, |p, at| p.one(p.lit(at, "-").unwrap_or(at), letter));
        Some(run.unwrap_or(first))
    }

    // ---- paths, queries and fragments ----

    /// `path = "/" ~ ((segment ~ ("/" ~ segment)*) ~ ("/")?)?`
    fn path(&mut self, at: usize) -> End {
        let at = self.lit(at, "/")?;
        Some(self.opt(at, |p, at| {
            let end = p.segment(at)?;
            let end = p.star(end, |p, at| p.segment(p.lit(at, "/")?));
            Some(p.lit(end, "/").unwrap_or(end))
        }))
    }

    /// `segment = (url_general_path+ ~ &"/") | end_path`,
    /// `end_path = (url_path_end | (path_punctuation+ ~ &url_path_end))+`
    fn segment(&mut self, at: usize) -> End {
        let before_slash = self
            .plus(at, Self::url_general_path)
            .filter(|&end| self.lit(end, "/").is_some());
        before_slash.or_else(|| {
            self.plus(at, |p, at| {
                p.url_path_end(at).or_else(|| {
                    let end = p.plus(at, |p, at| p.one(at, is_path_punctuation))?;
                    p.ahead(end, Self::url_path_end).then_some(end)
                })
            })
        })
    }

    /// `url_general_path = url_path_end | path_punctuation`
    fn url_general_path(&mut self, at: usize) -> End {
        self.url_path_end(at)
            .or_else(|| self.one(at, is_path_punctuation))
    }

    /// `url_path_end = alphanumeric | "=" | "_" | "-" | "+" | cyrillic_char | latin_accent |
    ///     url_balanced_parens`
    fn url_path_end(&mut self, at: usize) -> End {
        self.one(at, |c| {
            c.is_ascii_alphanumeric()
                || matches!(c, '=' | '_' | '-' | '+')
                || is_cyrillic(c)
                || is_latin_accent(c)
        })
        .or_else(|| self.url_balanced_parens(at))
    }

    /// ```text
    /// url_balanced_parens = balanced_paren_path_text
    ///     | "(" ~ url_general_path* ~ balanced_paren_path_text ~ url_general_path* ~ ")"
    /// balanced_paren_path_text = "(" ~ url_general_path+ ~ ")"
    /// ```
    fn url_balanced_parens(&mut self, at: usize) -> End {
        self.memo(Memo::BalancedParens, at, |p, at| {
            p.balanced_paren_path_text(at).or_else(|| {
                let end = p.star(p.lit(at, "(")?, Self::url_general_path);
                let end = p.balanced_paren_path_text(end)?;
                let end = p.star(end, Self::url_general_path);
                p.lit(end, ")")
            })
        })
    }

    fn balanced_paren_path_text(&mut self, at: usize) -> End {
        let end = self.plus(self.lit(at, "(")?, Self::url_general_path)?;
        self.lit(end, ")")
    }

    /// `query = "?" ~ query_char+ | "?" ~ &"#"`,
    /// `query_char = query_end_char | query_punctuation_char+ ~ &query_end_char`
    fn query(&mut self, at: usize) -> End {
        let at = self.lit(at, "?")?;
        self.plus(at, |p, at| {
            p.one(at, is_query_end).or_else(|| {
                let end = p.plus(at, |p, at| p.one(at, is_query_punctuation))?;
                p.one(end, is_query_end).map(|_| end)
            })
        })
        .or_else(|| self.lit(at, "#").map(|_| at))
    }

    /// `fragment = "#" ~ fragment_char*`,
    /// `fragment_char = fragment_end | query_punctuation_char+ ~ &fragment_end`
    fn fragment(&mut self, at: usize) -> End {
        let at = self.lit(at, "#")?;
        let fragment_end = |c: char| is_query_end(c) || c == '#';
        Some(self.star(at, |p, at| {
            p.one(at, fragment_end).or_else(|| {
                let end = p.plus(at, |p, at| p.one(at, is_query_punctuation))?;
                p.one(end, fragment_end).map(|_| end)
            })
        }))
    }
}

/// `dec_octet`: 250–255, 200–249, 100–199, 10–99 or 0–9, tried in that order.
fn dec_octet(p: &Scan, at: usize) -> End {
    let digit =
        |at: usize, range: std::ops::RangeInclusive<char>| p.one(at, move |c| range.contains(&c));
    let d = |at| digit(at, '0'..='9');
    p.lit(at, "25")
        .and_then(|at| digit(at, '0'..='5'))
        .or_else(|| d(digit(p.lit(at, "2")?, '0'..='4')?))
        .or_else(|| d(d(p.lit(at, "1")?)?))
        .or_else(|| d(digit(at, '1'..='9')?))
        .or_else(|| d(at))
}

/// `h16 = HEX_DIGIT{1,4}`
fn h16(p: &Scan, at: usize) -> End {
    let mut end = p.one(at, pest::unicode::HEX_DIGIT)?;
    for _ in 1..4 {
        match p.one(end, pest::unicode::HEX_DIGIT) {
            Some(next) => end = next,
            None => break,
        }
    }
    Some(end)
}

/// `h16_ = h16 ~ ":"`
fn h16_colon(p: &mut Scan, at: usize) -> End {
    let end = h16(p, at)?;
    p.lit(end, ":")
}

/// `path_punctuation`
fn is_path_punctuation(c: char) -> bool {
    matches!(
        c,
        '!' | '*'
            | '\''
            | ';'
            | ':'
            | ','
            | '.'
            | '$'
            | '%'
            | '['
            | ']'
            | '\u{2013}'
            | '~'
            | '|'
            | '&'
            | '@'
    )
}

/// `query_end_char = ASCII_ALPHA | ASCII_DIGIT | "-" | "_" | "&" | "=" | "/" | "+"`
fn is_query_end(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '&' | '=' | '/' | '+')
}

/// `query_punctuation_char`
fn is_query_punctuation(c: char) -> bool {
    matches!(
        c,
        '!' | '?'
            | '*'
            | '\''
            | '('
            | ')'
            | ';'
            | ':'
            | '$'
            | '%'
            | '['
            | ']'
            | '.'
            | ','
            | '~'
            | '|'
            | '@'
    )
}
