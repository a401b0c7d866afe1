//! What NAT allocation needs from every jail's configuration (its forwards and the address
//! the user set), cached in `<root>/.nat-index.json` and checked against each `config.ron`'s
//! inode, size and modification time (and `defaults.ron`'s).
//!
//! A start checks its forwards against every other jail's and keeps clear of addresses other
//! jails chose: without the cache that means parsing every jail's configuration on every start
//! (about 40 µs a jail). With it, a start reads one file and stats each configuration; only a
//! configuration changed since (by `ioc set`, an editor, a restore) is parsed again. Nothing else
//! has to maintain the cache: a stale entry is seen by its stamp, a missing or damaged cache
//! file is rebuilt. It is read and written under the store lock, like the blocks themselves,
//! so uniqueness among concurrent starts does not depend on it.

use std::collections::{BTreeMap, BTreeSet};
use std::net::Ipv4Addr;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::config::syntax::{Forward, PortRange, Proto};
use crate::error::Result;
use crate::store::fs::{read_state_file, replace_file, Durability};
use crate::store::LockedStore;

/// The cache file, in the store's root.
const INDEX_FILE: &str = ".nat-index.json";

/// What identifies one version of a file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct Stamp {
    ino: u64,
    size: u64,
    mtime: i64,
    mtime_nsec: i64,
}

impl Stamp {
    fn of(path: &Path) -> Option<Stamp> {
        let m = std::fs::symlink_metadata(path).ok()?;
        Some(Stamp {
            ino: m.ino(),
            size: m.size(),
            mtime: m.mtime(),
            mtime_nsec: m.mtime_nsec(),
        })
    }
}

/// A NAT jail as allocation sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NatSummary {
    /// The forwards: `(udp, first host port, last host port)`.
    forwards: Vec<(bool, u16, u16)>,
    /// The jail address the user set (`ip4_addr`), if any.
    pub user_address: Option<Ipv4Addr>,
}

impl NatSummary {
    /// The host ports it forwards, as the configuration gives them.
    pub fn forwards(&self) -> impl Iterator<Item = (Proto, PortRange)> + '_ {
        self.forwards.iter().map(|&(udp, first, last)| {
            let proto = if udp { Proto::Udp } else { Proto::Tcp };
            (proto, PortRange { first, last })
        })
    }

    fn new(forwards: &[Forward], user_address: Option<Ipv4Addr>) -> NatSummary {
        NatSummary {
            forwards: forwards
                .iter()
                .map(|f| (f.proto == Proto::Udp, f.host.first, f.host.last))
                .collect(),
            user_address,
        }
    }
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct Index {
    defaults: Option<Stamp>,
    jails: BTreeMap<String, (Stamp, Option<NatSummary>)>,
}

/// Every jail's NAT summary (`None` for a jail without NAT), by name, sorted.
pub fn summaries(store: &LockedStore<'_>) -> Result<Vec<(String, Option<NatSummary>)>> {
    let root = store.root().to_path_buf();
    let mut index: Index = read_state_file(&root.join(INDEX_FILE))
        .ok()
        .flatten()
        .and_then(|text| serde_json::from_str(&text).ok())
        .unwrap_or_default();
    let defaults = Stamp::of(&root.join("defaults.ron"));
    let mut dirty = false;
    if index.defaults != defaults {
        index = Index {
            defaults,
            jails: BTreeMap::new(),
        };
        dirty = true;
    }
    let mut out = Vec::new();
    let mut seen = BTreeSet::new();
    for name in store.jail_names()? {
        let stamp = Stamp::of(&store.jail_dir(&name).join("config.ron"));
        let cached = index
            .jails
            .get(name.as_str())
            .filter(|(s, _)| Some(*s) == stamp)
            .map(|(_, summary)| summary.clone());
        let summary = match cached {
            Some(summary) => summary,
            None => {
                let jail = store.resolve(&name)?;
                let summary = jail.nat().map(|nat| {
                    NatSummary::new(&nat.forwards, nat.address.filter(|_| nat.user_set))
                });
                if let Some(stamp) = stamp {
                    index
                        .jails
                        .insert(name.as_str().to_string(), (stamp, summary.clone()));
                    dirty = true;
                }
                summary
            }
        };
        seen.insert(name.as_str().to_string());
        out.push((name.as_str().to_string(), summary));
    }
    let before = index.jails.len();
    index.jails.retain(|name, _| seen.contains(name));
    dirty |= index.jails.len() != before;
    if dirty {
        // A cache: losing it to a crash costs one rebuild, so no fsync.
        if let Ok(text) = serde_json::to_string(&index) {
            let _ = replace_file(
                &root.join(INDEX_FILE),
                text.as_bytes(),
                0o600,
                Durability::Volatile,
            );
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::settings::Owner;
    use crate::config::{JailName, Settings};
    use crate::store::Store;

    fn nat_settings(name: &JailName, forwards: &str) -> Settings {
        let mut s = Settings::default();
        s.set(Owner::Jail(name), "vnet", "on").unwrap();
        s.set(Owner::Jail(name), "nat", "on").unwrap();
        s.set(Owner::Jail(name), "nat_forwards", forwards).unwrap();
        s
    }

    fn ports(summary: &[(String, Option<NatSummary>)], jail: &str) -> Vec<(Proto, u16, u16)> {
        summary
            .iter()
            .find(|(n, _)| n == jail)
            .and_then(|(_, s)| s.as_ref())
            .map(|s| s.forwards().map(|(p, r)| (p, r.first, r.last)).collect())
            .unwrap_or_default()
    }

    /// The cache answers like a fresh parse after every kind of change: a jail's config
    /// rewritten, a jail given NAT, a jail destroyed, the cache file damaged.
    #[test]
    fn the_cache_follows_every_change() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path());
        let locked = store.lock().unwrap();
        let web = JailName::new("web").unwrap();
        let db = JailName::new("db").unwrap();
        locked
            .create_jail(&web, &nat_settings(&web, "tcp(80:8080)"))
            .unwrap();
        locked.create_jail(&db, &Settings::default()).unwrap();
        let first = summaries(&locked).unwrap();
        assert_eq!(ports(&first, "web"), [(Proto::Tcp, 8080, 8080)]);
        assert_eq!(first.iter().find(|(n, _)| n == "db").unwrap().1, None);
        assert!(dir.path().join(INDEX_FILE).exists());
        assert_eq!(summaries(&locked).unwrap(), first);

        locked
            .write_jail(&web, &nat_settings(&web, "udp(53)"))
            .unwrap();
        assert_eq!(
            ports(&summaries(&locked).unwrap(), "web"),
            [(Proto::Udp, 53, 53)]
        );
        locked
            .write_jail(&db, &nat_settings(&db, "tcp(5432)"))
            .unwrap();
        assert_eq!(
            ports(&summaries(&locked).unwrap(), "db"),
            [(Proto::Tcp, 5432, 5432)]
        );
        locked.destroy_jail(&web).unwrap();
        let after = summaries(&locked).unwrap();
        assert_eq!(after.len(), 1);
        // A damaged cache file is rebuilt.
        std::fs::write(dir.path().join(INDEX_FILE), "{").unwrap();
        assert_eq!(summaries(&locked).unwrap(), after);
    }
}
