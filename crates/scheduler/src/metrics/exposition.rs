//! The text exposition format: `# HELP` and `# TYPE` once per family, then its samples.

use std::fmt::Write;

#[derive(Default)]
pub(super) struct Exposition(pub(super) String);

impl Exposition {
    pub(super) fn family(&mut self, name: &str, kind: &str, help: &str) {
        let _ = writeln!(self.0, "# HELP {name} {}", escape(help, false));
        let _ = writeln!(self.0, "# TYPE {name} {kind}");
    }

    pub(super) fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: f64) {
        self.0.push_str(name);
        if !labels.is_empty() {
            let inner: Vec<String> = labels
                .iter()
                .map(|(k, v)| format!("{k}=\"{}\"", escape(v, true)))
                .collect();
            let _ = write!(self.0, "{{{}}}", inner.join(","));
        }
        let _ = writeln!(self.0, " {value}");
    }

    /// A family of one unlabelled gauge.
    pub(super) fn gauge(&mut self, name: &str, help: &str, value: f64) {
        self.family(name, "gauge", help);
        self.sample(name, &[], value);
    }
}

/// Milliseconds as the seconds the format uses (negative durations as 0).
pub(super) fn seconds(ms: i64) -> f64 {
    ms.max(0) as f64 / 1000.0
}

/// Escapes `\` and newlines (and `"` in label values), as the format requires.
fn escape(s: &str, label: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '"' if label => out.push_str("\\\""),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_follow_the_text_format() {
        let mut out = Exposition::default();

        out.family("xmp_x", "gauge", "Line one\nline \\two");
        out.sample("xmp_x", &[("a", "q\"uote"), ("b", "back\\slash\n")], 1.5);
        out.sample("xmp_x", &[], 0.0);

        assert_eq!(
            out.0,
            "# HELP xmp_x Line one\\nline \\\\two\n# TYPE xmp_x gauge\n\
             xmp_x{a=\"q\\\"uote\",b=\"back\\\\slash\\n\"} 1.5\nxmp_x 0\n"
        );
    }
}
