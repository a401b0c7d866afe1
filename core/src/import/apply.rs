//! Checking a [`Plan`] with ioc's normal property checks and writing it through the store.
//!
//! Each property goes through [`Settings::set`] (the key, its scope and its value's syntax),
//! the whole jail through [`ResolvedJail::validate`] (the cross-property checks), against the
//! user defaults of this store. Values equal to what the jail would get anyway are left out,
//! so the jail keeps following the defaults. Only a jail that passes everything is written:
//! one atomic create, or with `--replace` one atomic rewrite of its configuration, under the
//! store lock (the checks run again under the lock, against the defaults as they are then).

use super::mapping::{Mapped, Plan, Skipped};
use super::ImportError;
use crate::config::{Owner, ResolvedJail, Settings};
use crate::error::Error;
use crate::store::Store;

/// How `ioc import` writes.
#[derive(Clone, Copy, Debug, Default)]
pub struct Options {
    /// Replace the configuration of jails that exist already (otherwise they are refused).
    pub replace: bool,
    /// Check and show, write nothing.
    pub dry_run: bool,
}

/// What happened to one jail.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Created,
    Replaced,
    WouldCreate,
    WouldReplace,
}

impl Outcome {
    /// How the CLI says it: `created jail NAME`.
    pub fn verb(self) -> &'static str {
        match self {
            Outcome::Created => "created",
            Outcome::Replaced => "replaced",
            Outcome::WouldCreate => "would create",
            Outcome::WouldReplace => "would replace",
        }
    }
}

/// One jail imported (or checked): its plan with the values in their canonical form, and
/// what happened.
#[derive(Clone, Debug)]
pub struct JailReport {
    pub plan: Plan,
    pub outcome: Outcome,
}

/// Checks `plan` and, unless a dry run, writes it.
pub fn apply(store: &Store, plan: Plan, options: Options) -> Result<JailReport, ImportError> {
    if options.dry_run {
        let (plan, _, exists) = check(store, plan, options)?;
        let outcome = match exists {
            true => Outcome::WouldReplace,
            false => Outcome::WouldCreate,
        };
        return Ok(JailReport { plan, outcome });
    }
    let store_error = |source| ImportError::Store {
        path: plan.file.clone(),
        source: Box::new(source),
    };
    let locked = store.lock().map_err(store_error)?;
    let (plan, settings, exists) = check(&locked, plan, options)?;
    let written = match exists {
        true => locked.write_jail(&plan.name, &settings),
        false => locked.create_jail(&plan.name, &settings),
    };
    written.map_err(|source| ImportError::Store {
        path: plan.file.clone(),
        source: Box::new(source),
    })?;
    let outcome = match exists {
        true => Outcome::Replaced,
        false => Outcome::Created,
    };
    Ok(JailReport { plan, outcome })
}

/// The settings of a plan, each value through ioc's parser and scope check.
fn settings_of(plan: &Plan) -> Result<Settings, Vec<(Option<usize>, Error)>> {
    let owner = Owner::Jail(&plan.name);
    let mut settings = Settings::default();
    let errors: Vec<_> = plan
        .properties
        .iter()
        .enumerate()
        .filter_map(|(i, m)| {
            settings
                .set(owner, &m.key, &m.value)
                .err()
                .map(|e| (Some(i), e))
        })
        .collect();
    match errors.is_empty() {
        true => Ok(settings),
        false => Err(errors),
    }
}

/// Checks every property and the whole jail against `store`'s defaults; returns the plan with
/// canonical values (and the values equal to the defaults moved to the skipped ones), its
/// settings, and whether the jail exists.
fn check(
    store: &Store,
    mut plan: Plan,
    options: Options,
) -> Result<(Plan, Settings, bool), ImportError> {
    let store_error = |source| ImportError::Store {
        path: plan.file.clone(),
        source: Box::new(source),
    };
    let defaults = store.defaults().map_err(store_error)?;
    let exists = store.jail_exists(&plan.name);
    if exists && !options.replace {
        return Err(ImportError::Exists {
            path: plan.file.clone(),
            name: plan.name.to_string(),
        });
    }
    let settings = settings_of(&plan).map_err(|e| invalid(&plan, e))?;
    let baseline = ResolvedJail::resolve(&plan.name, &Settings::default(), &defaults);
    let mut kept = Vec::new();
    for mut mapped in std::mem::take(&mut plan.properties) {
        let canonical = settings
            .get(&mapped.key)
            .map(|v| v.print())
            .unwrap_or_default();
        if baseline.display(&mapped.key).ok().as_deref() == Some(canonical.as_str()) {
            plan.skipped.push(Skipped {
                key: mapped.source_key,
                value: mapped.source_value,
                inherited: mapped.inherited,
                reason: format!(
                    "{}={canonical} is what the jail gets anyway (ioc's default)",
                    mapped.key
                ),
            });
            continue;
        }
        mapped.value = canonical;
        kept.push(mapped);
    }
    plan.properties = kept;
    let settings = settings_of(&plan).map_err(|e| invalid(&plan, e))?;
    let resolved = ResolvedJail::resolve(&plan.name, &settings, &defaults);
    if let Err(e) = resolved.validate() {
        let errors = match e {
            Error::Several(all) => all,
            one => vec![one],
        };
        let errors = errors.into_iter().map(|e| (None, e)).collect();
        return Err(invalid(&plan, errors));
    }
    Ok((plan, settings, exists))
}

/// The property an error of ioc's checks is about.
fn property_of(error: &Error) -> Option<&str> {
    match error {
        Error::InvalidValue { property, .. }
        | Error::UnknownProperty { property, .. }
        | Error::PropertyNotAllowed { property, .. }
        | Error::NotSet { property, .. } => Some(property),
        _ => None,
    }
}

/// ioc's errors as import errors naming the file's key and value (found by index, else by the
/// ioc property the error names).
fn invalid(plan: &Plan, errors: Vec<(Option<usize>, Error)>) -> ImportError {
    let mut all: Vec<ImportError> = errors
        .into_iter()
        .map(|(index, error)| {
            let mapped: Option<&Mapped> = index.map(|i| &plan.properties[i]).or_else(|| {
                let property = property_of(&error)?;
                plan.properties.iter().find(|m| m.key == property)
            });
            match mapped {
                Some(m) => ImportError::Invalid {
                    path: plan.origin(m).to_path_buf(),
                    key: m.source_key.clone(),
                    value: m.source_value.clone(),
                    source: Box::new(error),
                },
                None => ImportError::Refused {
                    path: plan.file.clone(),
                    source: Box::new(error),
                },
            }
        })
        .collect();
    match all.len() {
        1 => all.remove(0),
        _ => ImportError::Several(all),
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::super::{mapping, SourceJail};
    use super::*;
    use crate::config::JailName;

    fn plan(text: &str) -> Plan {
        let source = SourceJail::parse(Path::new("/iocage/jails/www/config.json"), text).unwrap();
        mapping::plan(&source).unwrap()
    }

    fn store() -> (tempfile::TempDir, Store) {
        let tmp = tempfile::tempdir().unwrap();
        let store = Store::new(tmp.path().join("root"));
        (tmp, store)
    }

    const WWW: &str = r#"{"vnet": 1, "interfaces": "vnet0:bridge0", "ip4": "new",
        "ip4_addr": "vnet0|10.0.0.2/24", "vnet0_mac": "02ff60aaaaaa 02ff60aaaaab"}"#;

    #[test]
    fn defaults_are_left_out_and_values_canonical() {
        let (_tmp, store) = store();
        let dry = Options {
            dry_run: true,
            ..Options::default()
        };
        let report = apply(&store, plan(WWW), dry).unwrap();
        assert_eq!(report.outcome, Outcome::WouldCreate);
        let set: Vec<String> = report
            .plan
            .properties
            .iter()
            .map(|m| format!("{}={}", m.key, m.value))
            .collect();
        assert_eq!(
            set,
            [
                "interfaces=vnet0:bridge0",
                "ip4_addr=vnet0|10.0.0.2/24",
                "vnet=on",
                "vnet0_mac=02:ff:60:aa:aa:aa,02:ff:60:aa:aa:ab"
            ]
        );
        let ip4 = report.plan.skipped.iter().find(|s| s.key == "ip4").unwrap();
        assert!(ip4.reason.contains("ioc's default"), "{ip4:?}");
        // A dry run writes nothing, not even the store's root.
        assert!(!store.root().exists());

        let report = apply(&store, plan(WWW), Options::default()).unwrap();
        assert_eq!(report.outcome, Outcome::Created);
        let www = JailName::new("www").unwrap();
        assert_eq!(
            store.resolve(&www).unwrap().display("ip4_addr").unwrap(),
            "vnet0|10.0.0.2/24"
        );
    }

    #[test]
    fn existing_jails_need_replace() {
        let (_tmp, store) = store();
        apply(&store, plan(WWW), Options::default()).unwrap();
        let err = apply(&store, plan(WWW), Options::default()).unwrap_err();
        assert!(matches!(err, ImportError::Exists { .. }), "{err}");
        let replace = Options {
            replace: true,
            ..Options::default()
        };
        let report = apply(&store, plan(r#"{"vnet": "off"}"#), replace).unwrap();
        assert_eq!(report.outcome, Outcome::Replaced);
        let www = JailName::new("www").unwrap();
        assert!(store.jail_settings(&www).unwrap().is_empty());
    }

    #[test]
    fn a_failing_jail_writes_nothing_and_names_key_and_value() {
        let (_tmp, store) = store();
        let err = apply(
            &store,
            plan(r#"{"vnet": 1, "ip4_addr": "vnet0|10.0.0.300/24", "priority": "150"}"#),
            Options::default(),
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("/iocage/jails/www/config.json: ip4_addr=\"vnet0|10.0.0.300/24\": "),
            "{err}"
        );
        assert!(err.contains("priority=\"150\""), "{err}");
        assert!(store.jail_names().unwrap().is_empty());
        // A cross-property check: mounts need the jail's own root.
        let err = apply(
            &store,
            plan(r#"{"mounts": "/srv:/srv"}"#),
            Options::default(),
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.starts_with("/iocage/jails/www/config.json: mounts=\"/srv:/srv\": "),
            "{err}"
        );
        assert!(err.contains("needs a path"), "{err}");
        assert!(store.jail_names().unwrap().is_empty());
    }
}
