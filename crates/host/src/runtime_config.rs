//! Spin's runtime configuration file: `[key_value_store.<label>]` with `type = "redis"` and
//! `url`, or `type = "spin"` with `path` (an embedded store in a local file). Without an entry
//! for `default`, the default store is the embedded one at `<state_dir>/sqlite_key_value.db`.

use anyhow::{bail, Context, Result};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[derive(Debug, Default, Deserialize)]
pub struct RuntimeConfig {
    #[serde(default)]
    pub key_value_store: BTreeMap<String, KvStoreConfig>,
    #[serde(default)]
    pub state_dir: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum KvStoreConfig {
    Redis { url: String },
    Spin { path: Option<PathBuf> },
}

impl RuntimeConfig {
    pub fn load(path: &Path) -> Result<RuntimeConfig> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read runtime config {}", path.display()))?;
        let mut config: RuntimeConfig = toml::from_str(&text)
            .with_context(|| format!("invalid runtime config {}", path.display()))?;
        // Relative paths are relative to the runtime config file, as in Spin.
        let base = path.parent().unwrap_or(Path::new("."));
        for store in config.key_value_store.values_mut() {
            match store {
                KvStoreConfig::Spin { path: Some(p) } if p.is_relative() => *p = base.join(&*p),
                KvStoreConfig::Redis { url }
                    if !url.starts_with("redis://") && !url.starts_with("rediss://") =>
                {
                    bail!("Invalid Redis URL {url:?}")
                }
                _ => {}
            }
        }
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_spin_format() {
        let c: RuntimeConfig = toml::from_str(
            "[key_value_store.default]\ntype = \"redis\"\nurl = \"redis://127.0.0.1:6379\"\n[key_value_store.cache]\ntype = \"spin\"\npath = \"cache.db\"\n",
        )
        .unwrap();
        assert!(
            matches!(&c.key_value_store["default"], KvStoreConfig::Redis { url } if url == "redis://127.0.0.1:6379")
        );
        assert!(matches!(
            &c.key_value_store["cache"],
            KvStoreConfig::Spin { path: Some(_) }
        ));
    }
}
