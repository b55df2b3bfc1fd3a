//! The layering of the workspace, enforced: a unit test reads `cargo metadata` and refuses any
//! dependency between workspace crates that the table below does not allow.
//!
//! - `xmp-envelope` (below the plumbing) holds what the host and the components must agree on:
//!   the error envelope's body and the correlation-id rule. It depends on no crate of the
//!   workspace; `common`, the components, the probe fixture and the host may use it, the domain
//!   crates reach it through `common`.
//! - `common` (plumbing) depends on no crate of the workspace but `xmp-envelope`.
//! - A domain crate depends on `common` and on domain crates below it only:
//!   `xmp-identity` < `xmp-accounts` < `xmp-posts`, `xmp-analytics` < `xmp-scheduler`.
//! - A component depends on `common` and on the domain crates it serves, never on another
//!   component.
//! - The test fixture `probe` may use any domain crate, never a component.
//!
//! A new crate under `crates/` or `components/` fails the check until it has a row here.

#[cfg(test)]
mod tests {
    use serde_json::Value;
    use std::collections::BTreeMap;
    use std::path::Path;
    use std::process::Command;

    /// The domain crates and their layer: a domain crate may depend only on lower layers.
    const DOMAINS: &[(&str, u8)] = &[
        ("xmp-identity", 1),
        ("xmp-accounts", 2),
        ("xmp-posts", 3),
        ("xmp-analytics", 3),
        ("xmp-scheduler", 4),
    ];

    /// What the host and the components share, below the plumbing: allowed to `common`, the
    /// components and the probe fixture (the host is outside the table and may use it too).
    const SHARED_WITH_HOST: &[&str] = &["xmp-envelope"];

    /// Every crate of the workspace under `crates/`, `components/` and `tests/fixtures/`, with
    /// the workspace crates it may depend on (normal, dev and build dependencies alike).
    /// `None`: any domain crate, but no component. `SHARED_WITH_HOST` is added for `common`,
    /// the components and `probe` below.
    const ALLOWED: &[(&str, Option<&[&str]>)] = &[
        // Shared with the host.
        ("xmp-envelope", Some(&[])),
        // Plumbing.
        ("common", Some(&[])),
        // Domains.
        ("xmp-identity", Some(&["common"])),
        ("xmp-accounts", Some(&["common", "xmp-identity"])),
        (
            "xmp-posts",
            Some(&["common", "xmp-identity", "xmp-accounts"]),
        ),
        (
            "xmp-analytics",
            Some(&["common", "xmp-identity", "xmp-accounts"]),
        ),
        (
            "xmp-scheduler",
            Some(&[
                "common",
                "xmp-identity",
                "xmp-accounts",
                "xmp-posts",
                "xmp-analytics",
            ]),
        ),
        // Components: the domains they serve (identity for the guard of every API component).
        ("system", Some(&["common", "xmp-scheduler"])),
        ("web", Some(&["common"])),
        ("auth", Some(&["common", "xmp-identity"])),
        (
            "accounts",
            Some(&["common", "xmp-identity", "xmp-accounts"]),
        ),
        ("tweets", Some(&["common", "xmp-identity", "xmp-posts"])),
        ("scheduler", Some(&["common", "xmp-scheduler"])),
        (
            "analytics",
            Some(&["common", "xmp-identity", "xmp-analytics"]),
        ),
        // Test fixture.
        ("probe", None),
    ];

    /// Native crates outside the layering: the runner, the X simulator and the test suites.
    const OUTSIDE: &[&str] = &["xmp-host", "xsim", "xmp-tests", "xmp-layering"];

    struct Package {
        name: String,
        dir: String,
        deps: Vec<String>,
    }

    fn workspace() -> Vec<Package> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let out = Command::new(cargo)
            .args([
                "metadata",
                "--format-version",
                "1",
                "--no-deps",
                "--offline",
            ])
            .arg("--manifest-path")
            .arg(root.join("Cargo.toml"))
            .output()
            .expect("cargo metadata runs");
        assert!(
            out.status.success(),
            "cargo metadata: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let meta: Value = serde_json::from_slice(&out.stdout).expect("cargo metadata is JSON");
        let root_dir = meta["workspace_root"].as_str().unwrap().to_string();
        let members: Vec<&str> = meta["packages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap())
            .collect();
        meta["packages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                let manifest = p["manifest_path"].as_str().unwrap();
                let dir = Path::new(manifest)
                    .parent()
                    .unwrap()
                    .strip_prefix(&root_dir)
                    .unwrap()
                    .display()
                    .to_string();
                let deps = p["dependencies"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|d| d["name"].as_str().unwrap().to_string())
                    .filter(|d| members.contains(&d.as_str()))
                    .collect();
                Package {
                    name: p["name"].as_str().unwrap().to_string(),
                    dir,
                    deps,
                }
            })
            .collect()
    }

    #[test]
    fn the_table_lets_domains_use_only_those_below_and_allows_no_component() {
        let layer: BTreeMap<&str, u8> = DOMAINS.iter().copied().collect();
        for (from, to) in ALLOWED {
            for dep in to.iter().flat_map(|d| d.iter()) {
                if let (Some(a), Some(b)) = (layer.get(from), layer.get(dep)) {
                    assert!(
                        b < a,
                        "the table lets {from} (layer {a}) use {dep} (layer {b})"
                    );
                }
                assert!(
                    *dep == "common" || layer.contains_key(dep),
                    "the table lets {from} use {dep}, which is no domain crate"
                );
                assert!(
                    !SHARED_WITH_HOST.contains(from),
                    "the table lets {from}, shared with the host, use {dep}"
                );
            }
        }
    }

    /// Why `package` may not depend on `dep` (`rule`: its row of the table).
    fn why_not(package: &str, dep: &str, rule: Option<&[&str]>, components: &[&str]) -> String {
        let allowed = || rule.map(|l| l.join(", ")).unwrap_or_default();
        if components.contains(&dep) {
            "another component".to_string()
        } else if package == "common" {
            "common is plumbing and depends on no crate of the workspace but xmp-envelope"
                .to_string()
        } else if SHARED_WITH_HOST.contains(&package) {
            "it is shared with the host and depends on no crate of the workspace".to_string()
        } else if DOMAINS.iter().any(|(d, _)| *d == package) {
            format!(
                "a domain crate that is not below it (allowed: {})",
                allowed()
            )
        } else {
            format!("a domain it does not serve (allowed: {})", allowed())
        }
    }

    #[test]
    fn components_depend_only_on_the_domains_they_serve_and_domains_only_on_those_below() {
        let allowed: BTreeMap<&str, Option<&[&str]>> = ALLOWED.iter().copied().collect();
        let packages = workspace();
        let components: Vec<&str> = packages
            .iter()
            .filter(|p| p.dir.starts_with("components/"))
            .map(|p| p.name.as_str())
            .collect();
        let mut wrong = Vec::new();
        for p in &packages {
            if OUTSIDE.contains(&p.name.as_str()) {
                for dep in p.deps.iter().filter(|d| components.contains(&d.as_str())) {
                    wrong.push(format!(
                        "{} ({}) depends on the component {dep}",
                        p.name, p.dir
                    ));
                }
                continue;
            }
            let Some(&rule) = allowed.get(p.name.as_str()) else {
                wrong.push(format!(
                    "{} ({}) has no row in the layering table (tests/layering/lib.rs)",
                    p.name, p.dir
                ));
                continue;
            };
            let shares_with_host =
                p.name == "common" || p.name == "probe" || components.contains(&p.name.as_str());
            for dep in &p.deps {
                let ok = (shares_with_host && SHARED_WITH_HOST.contains(&dep.as_str()))
                    || match rule {
                        Some(list) => list.contains(&dep.as_str()),
                        None => !components.contains(&dep.as_str()),
                    };
                if !ok {
                    let why = why_not(&p.name, dep, rule, &components);
                    wrong.push(format!("{} ({}) depends on {dep}: {why}", p.name, p.dir));
                }
            }
        }
        assert!(
            wrong.is_empty(),
            "dependencies across layers:\n  {}",
            wrong.join("\n  ")
        );
    }
}
