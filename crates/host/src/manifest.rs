//! The Spin application manifest (`spin.toml`, manifest version 2): the parts this host runs.

use anyhow::{bail, Context, Result};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[derive(Debug, Deserialize)]
pub struct Manifest {
    pub spin_manifest_version: u32,
    pub application: Application,
    #[serde(default)]
    pub variables: BTreeMap<String, VariableDecl>,
    #[serde(default)]
    pub trigger: Triggers,
    #[serde(default)]
    pub component: BTreeMap<String, ComponentDecl>,
}

#[derive(Debug, Deserialize)]
pub struct Application {
    pub name: String,
    #[serde(default)]
    pub version: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct VariableDecl {
    #[serde(default)]
    pub default: Option<String>,
    #[serde(default)]
    pub required: bool,
    #[serde(default)]
    pub secret: bool,
}

#[derive(Debug, Default, Deserialize)]
pub struct Triggers {
    #[serde(default)]
    pub http: Vec<HttpTrigger>,
    #[serde(default)]
    pub cron: Vec<CronTrigger>,
}

#[derive(Debug, Deserialize)]
pub struct HttpTrigger {
    pub route: RouteDecl,
    pub component: String,
}

/// `route = "/api/..."`, or `route = { private = true }` (reachable only from other components).
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum RouteDecl {
    Path(String),
    Private { private: bool },
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CronTrigger {
    pub component: String,
    pub cron_expression: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ComponentDecl {
    pub source: String,
    #[serde(default)]
    pub allowed_outbound_hosts: Vec<String>,
    #[serde(default)]
    pub key_value_stores: Vec<String>,
    #[serde(default)]
    pub variables: BTreeMap<String, String>,
    #[serde(default)]
    pub description: Option<String>,
}

/// A manifest with the directory its relative paths are resolved against.
pub struct LoadedManifest {
    pub manifest: Manifest,
    pub dir: PathBuf,
}

impl LoadedManifest {
    pub fn load(path: &Path) -> Result<LoadedManifest> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read manifest {}", path.display()))?;
        let manifest =
            parse(&text).with_context(|| format!("invalid manifest {}", path.display()))?;
        let dir = path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."));
        Ok(LoadedManifest { manifest, dir })
    }

    pub fn source_path(&self, component: &ComponentDecl) -> PathBuf {
        self.dir.join(&component.source)
    }
}

pub fn parse(text: &str) -> Result<Manifest> {
    let manifest: Manifest = toml::from_str(text)?;
    if manifest.spin_manifest_version != 2 {
        bail!(
            "spin_manifest_version must be 2, found {}",
            manifest.spin_manifest_version
        );
    }
    for (name, decl) in &manifest.variables {
        crate::variable_name::validate(name)?;
        if decl.required && decl.default.is_some() {
            bail!("variable {name} cannot be both required and have a default");
        }
        if !decl.required && decl.default.is_none() {
            bail!("variable {name} must be `required` OR have a `default`");
        }
    }
    let triggered = manifest
        .trigger
        .http
        .iter()
        .map(|t| &t.component)
        .chain(manifest.trigger.cron.iter().map(|t| &t.component));
    for id in triggered {
        if !manifest.component.contains_key(id) {
            bail!("a trigger names component {id:?}, which the manifest does not define");
        }
    }
    Ok(manifest)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MANIFEST: &str = r#"
spin_manifest_version = 2
[application]
name = "demo"
[variables]
database_url = { required = true, secret = true }
log_level = { default = "info" }
[[trigger.http]]
route = "/api/..."
component = "api"
[[trigger.cron]]
component = "api"
cron_expression = "*/10 * * * * *"
[component.api]
source = "api.wasm"
allowed_outbound_hosts = ["postgres://127.0.0.1:5432"]
key_value_stores = ["default"]
[component.api.variables]
database_url = "{{ database_url }}"
"#;

    #[test]
    fn a_spin_manifest_parses() {
        let m = parse(MANIFEST).unwrap();
        assert_eq!(m.application.name, "demo");
        assert!(m.variables["database_url"].secret);
        assert_eq!(m.trigger.cron[0].cron_expression, "*/10 * * * * *");
        assert!(matches!(&m.trigger.http[0].route, RouteDecl::Path(p) if p == "/api/..."));
    }

    #[test]
    fn a_trigger_for_a_missing_component_is_refused() {
        let bad = MANIFEST.replace("component = \"api\"\ncron", "component = \"nope\"\ncron");
        let err = parse(&bad).unwrap_err().to_string();
        assert!(err.contains("nope"), "{err}");
    }

    #[test]
    fn a_variable_without_default_or_required_is_refused() {
        let bad = MANIFEST.replace(
            "log_level = { default = \"info\" }",
            "log_level = { secret = true }",
        );
        assert!(parse(&bad).is_err());
    }
}
