//! Application variables as Spin resolves them: an explicit override (tests), then the
//! environment provider (`SPIN_VARIABLE_<NAME>`), then the manifest default. A required
//! variable that nothing resolves refuses to start. Component variables are templates over
//! application variables (`"{{ database_url }}"`).

use crate::manifest::Manifest;
use anyhow::{bail, Result};
use std::collections::{BTreeMap, HashMap};

/// Application variables, resolved once at start.
#[derive(Debug, Clone, Default)]
pub struct AppVariables {
    values: HashMap<String, String>,
}

impl AppVariables {
    /// `env` is the process environment (or a test's stand-in for it).
    pub fn resolve(
        manifest: &Manifest,
        env: &HashMap<String, String>,
        overrides: &HashMap<String, String>,
    ) -> Result<AppVariables> {
        let mut values = HashMap::new();
        let mut missing = Vec::new();
        for (name, decl) in &manifest.variables {
            let env_key = format!("SPIN_VARIABLE_{}", name.to_ascii_uppercase());
            let value = overrides
                .get(name)
                .or_else(|| env.get(&env_key))
                .cloned()
                .or_else(|| decl.default.clone());
            match value {
                Some(v) => {
                    values.insert(name.clone(), v);
                }
                None if decl.required => missing.push(name.clone()),
                None => {}
            }
        }
        if !missing.is_empty() {
            let hints: Vec<String> = missing
                .iter()
                .map(|n| format!("SPIN_VARIABLE_{}", n.to_ascii_uppercase()))
                .collect();
            bail!(
                "no provider resolved required variable(s): {} — set them, e.g. export {}=...",
                missing.join(", "),
                hints.join("=... ")
            );
        }
        Ok(AppVariables { values })
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str)
    }

    /// Expands `{{ name }}` references to application variables.
    pub fn expand(&self, template: &str) -> Result<String> {
        let mut out = String::with_capacity(template.len());
        let mut rest = template;
        while let Some(start) = rest.find("{{") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let Some(end) = after.find("}}") else {
                bail!("unterminated template in {template:?}");
            };
            let name = after[..end].trim();
            match self.get(name) {
                Some(v) => out.push_str(v),
                None => bail!("template {template:?} refers to undefined variable {name:?}"),
            }
            rest = &after[end + 2..];
        }
        out.push_str(rest);
        Ok(out)
    }

    /// Resolves a component's `[component.x.variables]` table.
    pub fn for_component(
        &self,
        table: &BTreeMap<String, String>,
    ) -> Result<HashMap<String, String>> {
        table
            .iter()
            .map(|(name, template)| {
                crate::variable_name::validate(name)?;
                Ok((name.clone(), self.expand(template)?))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest() -> Manifest {
        crate::manifest::parse(
            r#"
spin_manifest_version = 2
[application]
name = "t"
[variables]
database_url = { required = true }
log_level = { default = "info" }
"#,
        )
        .unwrap()
    }

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn env_overrides_defaults_and_overrides_win_over_env() {
        let m = manifest();
        let e = env(&[
            ("SPIN_VARIABLE_DATABASE_URL", "pg://env"),
            ("SPIN_VARIABLE_LOG_LEVEL", "debug"),
        ]);
        let vars = AppVariables::resolve(&m, &e, &HashMap::new()).unwrap();
        assert_eq!(vars.get("log_level"), Some("debug"));
        let o = env(&[("database_url", "pg://override")]);
        let vars = AppVariables::resolve(&m, &e, &o).unwrap();
        assert_eq!(vars.get("database_url"), Some("pg://override"));
    }

    #[test]
    fn a_missing_required_variable_names_itself_and_the_fix() {
        let err = AppVariables::resolve(&manifest(), &HashMap::new(), &HashMap::new())
            .unwrap_err()
            .to_string();
        assert!(err.contains("database_url"), "{err}");
        assert!(err.contains("SPIN_VARIABLE_DATABASE_URL"), "{err}");
    }

    #[test]
    fn templates_expand_and_unknown_references_fail() {
        let vars = AppVariables::resolve(
            &manifest(),
            &env(&[("SPIN_VARIABLE_DATABASE_URL", "x")]),
            &HashMap::new(),
        )
        .unwrap();
        assert_eq!(
            vars.expand("a-{{ log_level }}-{{database_url}}").unwrap(),
            "a-info-x"
        );
        assert!(vars.expand("{{ nope }}").is_err());
    }
}
