//! Spin's rule for variable names, below both the manifest (which declares variables) and the
//! variables' resolution and host interface (which look them up), so that neither of those
//! imports the other for it.

use anyhow::{bail, Result};

/// Lower-case letters, digits and single underscores, starting with a letter, as Spin requires.
pub fn validate(name: &str) -> Result<()> {
    let ok = name.starts_with(|c: char| c.is_ascii_lowercase())
        && name.ends_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && !name.contains("__");
    if !ok {
        bail!("invalid variable name {name:?}: use lower-case letters, digits and single underscores, starting with a letter");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_spins_rules() {
        for ok in ["a", "database_url", "key2"] {
            assert!(validate(ok).is_ok(), "{ok}");
        }
        for bad in ["", "A", "_a", "a_", "a__b", "a-b", "2a"] {
            assert!(validate(bad).is_err(), "{bad}");
        }
    }
}
