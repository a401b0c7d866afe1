//! The configuration commands as whole transactions: each validates everything first and
//! writes only when all of it is valid, under one hold of the store lock.

use super::{HostSettings, Store};
use crate::config::{Assignment, JailName, Owner, ResolvedJail, Settings, DEFAULTS};
use crate::error::{Error, Result};
use crate::filter::Filter;

/// What `ioc set` changes: the user defaults or the jails a filter selects.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    Defaults,
    Jails(Filter),
}

impl Target {
    /// `defaults`, or a filter argument.
    pub fn parse(arg: &str) -> Result<Target> {
        if arg == DEFAULTS {
            Ok(Target::Defaults)
        } else {
            Filter::from_args(&[arg]).map(Target::Jails)
        }
    }
}

impl Store {
    /// `ioc create NAME KEY=VALUE...`: checks the assignments and the resolved jail, then
    /// creates it; fails if it exists.
    pub fn create(&self, name: &JailName, assignments: &[Assignment]) -> Result<ResolvedJail> {
        let mut settings = Settings::default();
        settings.apply(Owner::Jail(name), assignments)?;
        let locked = self.lock()?;
        if locked.jail_exists(name) {
            return Err(Error::JailExists(name.to_string()));
        }
        let resolved = ResolvedJail::resolve(name, &settings, &locked.defaults()?);
        resolved.validate()?;
        crate::pool::reserve(&locked, &resolved)?;
        locked.create_jail(name, &settings)?;
        Ok(resolved)
    }

    /// `ioc set KEY[=VALUE]... TARGET`: applies the assignments to the defaults or to every
    /// selected jail. All jails are checked (each against its resulting configuration) before
    /// any is written, so either every selected jail changes or none does. Returns what
    /// changed: `defaults` or the jail names.
    pub fn set(&self, target: &Target, assignments: &[Assignment]) -> Result<Vec<String>> {
        let locked = self.lock()?;
        let defaults = locked.defaults()?;
        let filter = match target {
            Target::Defaults => {
                let mut changed = defaults.clone();
                changed.apply(Owner::Defaults, assignments)?;
                if changed != defaults {
                    locked.write_defaults(&changed)?;
                }
                return Ok(vec![DEFAULTS.to_string()]);
            }
            Target::Jails(filter) => filter,
        };
        let mut updates = Vec::new();
        let mut errors = Vec::new();
        for name in locked.select_names(filter)? {
            let current = locked.jail_settings(&name)?;
            let mut changed = current.clone();
            let checked = changed
                .apply(Owner::Jail(&name), assignments)
                .and_then(|()| {
                    let resolved = ResolvedJail::resolve(&name, &changed, &defaults);
                    resolved.validate()?;
                    // A NAT address the user chose is claimed now (see `pool::reserve`).
                    crate::pool::reserve(&locked, &resolved)
                });
            match checked {
                Ok(()) => updates.push((name, current, changed)),
                Err(e) => errors.push(e),
            }
        }
        Error::collect(errors)?;
        for (name, current, changed) in &updates {
            if changed != current {
                locked.write_jail(name, changed)?;
            }
        }
        Ok(updates
            .into_iter()
            .map(|(name, ..)| name.to_string())
            .collect())
    }

    /// Changes the host settings under the lock; `change` may refuse by returning an error,
    /// and then nothing is written. Returns the new settings.
    pub fn update_host_settings(
        &self,
        change: impl FnOnce(&mut HostSettings) -> Result<()>,
    ) -> Result<HostSettings> {
        let locked = self.lock()?;
        let mut host = locked.host_settings()?;
        change(&mut host)?;
        locked.write_host_settings(&host)?;
        Ok(host)
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::store;
    use super::*;

    fn assign(args: &[&str]) -> Vec<Assignment> {
        Assignment::parse_all(args, true).unwrap()
    }

    fn jail(name: &str) -> JailName {
        JailName::new(name).unwrap()
    }

    #[test]
    fn seed_scenario() {
        let (_tmp, store) = store();
        store.set(&Target::Defaults, &assign(&["vnet=on"])).unwrap();
        store.create(&jail("jail-a"), &[]).unwrap();
        store.create(&jail("jail-b"), &[]).unwrap();
        let changed = store
            .set(
                &Target::parse("jail-a").unwrap(),
                &assign(&[
                    "vnet=on",
                    "interfaces=vnet0:bridge0",
                    "ip4_addr=vnet0|10.23.42.2/24",
                    "defaultrouter=10.23.42.1",
                ]),
            )
            .unwrap();
        assert_eq!(changed, ["jail-a"]);
        let a = store.resolve(&jail("jail-a")).unwrap();
        assert_eq!(a.display("ip4_addr").unwrap(), "vnet0|10.23.42.2/24");
        assert_eq!(
            a.display("vnet0_mac").unwrap(),
            "02:ff:60:e7:93:9d,02:ff:60:e7:93:9e"
        );
        assert!(store.resolve(&jail("jail-b")).unwrap().vnet());
    }

    #[test]
    fn a_failing_jail_blocks_every_write() {
        let (_tmp, store) = store();
        store
            .create(&jail("a"), &assign(&["interfaces=vnet0:br0"]))
            .unwrap();
        store.create(&jail("b"), &[]).unwrap();
        let before_a = store.jail_settings(&jail("a")).unwrap();
        let before_b = store.jail_settings(&jail("b")).unwrap();
        // Valid for a (it has vnet0), invalid for b.
        let err = store
            .set(
                &Target::parse("*").unwrap(),
                &assign(&["vnet0_mac=02:00:00:00:00:01,02:00:00:00:00:02"]),
            )
            .unwrap_err()
            .to_string();
        assert!(err.contains("'vnet0_mac' of jail 'b'"), "{err}");
        assert_eq!(store.jail_settings(&jail("a")).unwrap(), before_a);
        assert_eq!(store.jail_settings(&jail("b")).unwrap(), before_b);
    }

    #[test]
    fn bare_keys_reset_to_the_default() {
        let (_tmp, store) = store();
        store
            .set(&Target::Defaults, &assign(&["ip4=inherit"]))
            .unwrap();
        store.create(&jail("a"), &assign(&["ip4=disable"])).unwrap();
        assert_eq!(
            store.resolve(&jail("a")).unwrap().display("ip4").unwrap(),
            "disable"
        );
        store
            .set(&Target::parse("a").unwrap(), &assign(&["ip4"]))
            .unwrap();
        assert_eq!(
            store.resolve(&jail("a")).unwrap().display("ip4").unwrap(),
            "inherit"
        );
        store.set(&Target::Defaults, &assign(&["ip4"])).unwrap();
        assert_eq!(
            store.resolve(&jail("a")).unwrap().display("ip4").unwrap(),
            "new"
        );
    }

    #[test]
    fn create_refuses_invalid_input_without_writing() {
        let (_tmp, store) = store();
        assert!(store.create(&jail("a"), &assign(&["vnet=maybe"])).is_err());
        assert!(store
            .create(
                &jail("a"),
                &assign(&["vnet1_mac=02ff60000001,02ff60000002"])
            )
            .is_err());
        assert!(store.create(&jail("a"), &assign(&["firewall=pf"])).is_err());
        assert!(store.jail_names().unwrap().is_empty());
        store.create(&jail("a"), &[]).unwrap();
        assert!(matches!(
            store.create(&jail("a"), &[]),
            Err(Error::JailExists(_))
        ));
    }

    #[test]
    fn firewall_only_on_defaults() {
        let (_tmp, store) = store();
        store.create(&jail("a"), &[]).unwrap();
        store
            .set(&Target::Defaults, &assign(&["firewall=pf"]))
            .unwrap();
        assert_eq!(store.resolve(&jail("a")).unwrap().firewall().as_str(), "pf");
        let err = store
            .set(&Target::parse("a").unwrap(), &assign(&["firewall=ipfw"]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("host-wide"), "{err}");
    }

    #[test]
    fn host_settings_updates() {
        let (_tmp, store) = store();
        store
            .update_host_settings(|h| {
                h.disable("vnet");
                Ok(())
            })
            .unwrap();
        assert_eq!(store.host_settings().unwrap().disabled, ["vnet"]);
        let refused = store.update_host_settings(|h| {
            h.enable("vnet");
            Err(Error::Usage("no".into()))
        });
        assert!(refused.is_err());
        assert_eq!(store.host_settings().unwrap().disabled, ["vnet"]);
    }

    #[test]
    fn concurrent_writers_lose_nothing() {
        let (_tmp, store) = store();
        store.create(&jail("a"), &[]).unwrap();
        std::thread::scope(|s| {
            for i in 0..8 {
                let store = store.clone();
                s.spawn(move || {
                    let arg = format!("user.k{i}=v{i}");
                    store
                        .set(&Target::parse("a").unwrap(), &assign(&[&arg]))
                        .unwrap();
                });
            }
        });
        let a = store.resolve(&jail("a")).unwrap();
        for i in 0..8 {
            assert_eq!(a.display(&format!("user.k{i}")).unwrap(), format!("v{i}"));
        }
    }
}
