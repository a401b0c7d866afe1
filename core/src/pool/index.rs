//! What NAT allocation needs from every jail (its forwards, the address the user set, and the
//! block it holds), cached in `<root>/.nat-index.json` and checked against each `config.ron`'s
//! inode, size and modification time (and `defaults.ron`'s), and against each jail
//! directory's.
//!
//! A start checks its forwards against every other jail's, keeps clear of addresses other jails
//! chose and of the blocks they hold: without the cache that means parsing every jail's
//! configuration (about 40 µs a jail) and opening every jail's block file on every start. With
//! it, a start reads one file and stats one or two paths per jail; only a jail changed since is
//! read again: a configuration rewritten (by `ioc set`, an editor, a restore) changes the
//! configuration's stamp, and a block file written or removed (always through a rename or with
//! its directory) changes the directory's. Nothing else has to maintain the cache: a stale entry
//! is seen by its stamps, a missing or damaged cache file is rebuilt. It is read and written
//! under the store lock, like the blocks themselves, so uniqueness among concurrent starts does
//! not depend on it.
//!
//! The stats are what a start pays per jail (the parse of the cache is a tenth of it), so they
//! are kept few and short: each is a lookup relative to the open `jails` directory (two path
//! components instead of a walk from `/`), and a jail without NAT has only its configuration
//! stat'ed. Its directory's stamp would only tell of a block file, and a block file is only
//! ever written for a NAT jail: a jail becomes one by a change of its configuration, which its
//! stamp shows.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::os::fd::AsFd;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use nix::fcntl::AtFlags;

use serde::{Deserialize, Serialize};

use super::Range;
use crate::config::syntax::{Forward, PortRange, Proto};
use crate::error::Result;
use crate::store::fs::read_state_file;
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

    /// The stamp of `path` relative to the directory `dir` (not following a final link), with
    /// the same values as [`Stamp::of`] gives.
    // The widths of `stat`'s fields differ between platforms; on Linux these casts are no-ops.
    #[allow(clippy::unnecessary_cast)]
    fn at(dir: impl AsFd, path: &str) -> Option<Stamp> {
        let st = nix::sys::stat::fstatat(dir, path, AtFlags::AT_SYMLINK_NOFOLLOW).ok()?;
        Some(Stamp {
            ino: st.st_ino as u64,
            size: st.st_size as u64,
            mtime: st.st_mtime as i64,
            mtime_nsec: st.st_mtime_nsec as i64,
        })
    }
}

/// Stats paths inside the store's `jails` directory: relative to it while it is open.
struct JailsDir {
    dir: Option<std::fs::File>,
    path: PathBuf,
}

impl JailsDir {
    fn open(path: PathBuf) -> JailsDir {
        JailsDir {
            dir: std::fs::File::open(&path).ok(),
            path,
        }
    }

    /// The stamp of `jails/<jail>/<file>` (`file` empty: of the jail's directory).
    fn stamp(&self, jail: &str, file: &str) -> Option<Stamp> {
        let relative = if file.is_empty() {
            jail.to_string()
        } else {
            format!("{jail}/{file}")
        };
        match &self.dir {
            Some(dir) => Stamp::at(dir, &relative),
            None => Stamp::of(&self.path.join(relative)),
        }
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

/// What the cache knows of one jail, with the stamps that say it is still true.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Entry {
    config: Option<Stamp>,
    dir: Option<Stamp>,
    summary: Option<NatSummary>,
    block: Option<Range>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct Index {
    defaults: Option<Stamp>,
    jails: BTreeMap<String, Entry>,
}

/// Every jail as NAT allocation sees it, read under the store lock (see the module doc).
pub struct Jails {
    index: Index,
    /// Jail names in the store's order.
    names: Vec<String>,
    root: PathBuf,
    dirty: bool,
}

impl Jails {
    /// Every jail's summary and block, from the cache where its stamps still hold.
    pub fn load(store: &LockedStore<'_>) -> Result<Jails> {
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
        let mut names = Vec::new();
        let mut fresh = BTreeMap::new();
        let jails_dir = JailsDir::open(root.join(crate::store::JAILS_DIR));
        for name in store.jail_names()? {
            let config = jails_dir.stamp(name.as_str(), "config.ron");
            // Only a NAT jail's directory stamp matters (see the module doc).
            let cached = index
                .jails
                .remove(name.as_str())
                .filter(|e| e.config.is_some() && e.config == config)
                .filter(|e| e.summary.is_none() || e.dir == jails_dir.stamp(name.as_str(), ""));
            let entry = match cached {
                Some(entry) => entry,
                None => {
                    let dir = store.jail_dir(&name);
                    let jail = store.resolve(&name)?;
                    dirty = true;
                    Entry {
                        // A jail without a configuration file (being made) is never cached.
                        config,
                        dir: jails_dir.stamp(name.as_str(), ""),
                        summary: jail.nat().map(|nat| {
                            NatSummary::new(&nat.forwards, nat.address.filter(|_| nat.user_set))
                        }),
                        block: super::kept_in(&dir),
                    }
                }
            };
            names.push(name.as_str().to_string());
            fresh.insert(name.as_str().to_string(), entry);
        }
        // Entries left over are jails destroyed or renamed since.
        dirty |= !index.jails.is_empty();
        index.jails = fresh;
        Ok(Jails {
            index,
            names,
            root,
            dirty,
        })
    }

    /// Every jail's NAT summary (`None` for a jail without NAT), by name, sorted.
    pub fn summaries(&self) -> Vec<(String, Option<NatSummary>)> {
        self.names
            .iter()
            .map(|name| {
                let summary = self.index.jails.get(name).and_then(|e| e.summary.clone());
                (name.clone(), summary)
            })
            .collect()
    }

    /// Every jail's block, by jail.
    pub fn blocks(&self) -> BTreeMap<String, Range> {
        self.index
            .jails
            .iter()
            .filter_map(|(name, e)| Some((name.clone(), e.block?)))
            .collect()
    }

    /// `jail` holds `block` now (its block file was just written, in `dir`).
    pub fn held(&mut self, jail: &str, dir: &Path, block: Range) {
        if let Some(entry) = self.index.jails.get_mut(jail) {
            entry.block = Some(block);
            entry.dir = Stamp::of(dir);
            self.dirty = true;
        }
    }

    /// Writes the cache back if anything changed. A cache: losing it to a crash costs one
    /// rebuild, so no fsync, and it is rewritten in place rather than replaced: a write cut
    /// short leaves JSON that does not parse, which is rebuilt like a missing file, and no new
    /// file is made on every start (on ext4, making a file costs more the more files were
    /// deleted recently). Readers and writers all hold the store lock. If it cannot be written,
    /// it is removed, so no stale copy stays.
    pub fn save(mut self) {
        if !self.dirty {
            return;
        }
        self.index.jails.retain(|_, e| e.config.is_some());
        let path = self.root.join(INDEX_FILE);
        let written = serde_json::to_string(&self.index)
            .ok()
            .is_some_and(|text| rewrite(&path, text.as_bytes()).is_ok());
        if !written {
            let _ = std::fs::remove_file(&path);
        }
    }
}

/// Replaces the contents of `path` in place (created private if missing; a link in its place
/// is not followed).
fn rewrite(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)?;
    file.write_all(contents)
}

/// Every jail's NAT summary (`None` for a jail without NAT), by name, sorted; the cache is
/// brought up to date.
#[cfg(test)]
fn summaries(store: &LockedStore<'_>) -> Result<Vec<(String, Option<NatSummary>)>> {
    let jails = Jails::load(store)?;
    let out = jails.summaries();
    jails.save();
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

    /// A block file written or removed behind the cache's back (by hand, by a start that died
    /// before saving the cache) is seen: its directory's stamp changed.
    #[test]
    fn the_cache_follows_block_files() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path());
        let locked = store.lock().unwrap();
        let web = JailName::new("web").unwrap();
        locked
            .create_jail(&web, &nat_settings(&web, "tcp(80)"))
            .unwrap();
        let blocks = || {
            let jails = Jails::load(&locked).unwrap();
            let blocks = jails.blocks();
            jails.save();
            blocks
        };
        assert!(blocks().is_empty());
        let block = Range::parse("172.16.0.4/30").unwrap();
        let jail_dir = locked.jail_dir(&web);
        crate::store::fs::write_atomic(&jail_dir, super::super::BLOCK_FILE, b"172.16.0.4/30\n")
            .unwrap();
        assert_eq!(blocks().get("web"), Some(&block));
        assert_eq!(blocks().get("web"), Some(&block), "from the cache");
        // Kernels without fine-grained timestamps on a stat'ed file tell changes within one
        // tick apart only by the inode; a real removal never follows a start that closely.
        std::thread::sleep(std::time::Duration::from_millis(10));
        std::fs::remove_file(jail_dir.join(super::super::BLOCK_FILE)).unwrap();
        assert!(blocks().is_empty());
    }

    /// A plain jail's directory is not stat'ed, yet the block file of a jail that becomes a
    /// NAT jail is seen: becoming one changes its configuration.
    #[test]
    fn a_jail_turned_nat_is_read_again_with_its_block() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path());
        let locked = store.lock().unwrap();
        let db = JailName::new("db").unwrap();
        locked.create_jail(&db, &Settings::default()).unwrap();
        let blocks = || {
            let jails = Jails::load(&locked).unwrap();
            let blocks = jails.blocks();
            jails.save();
            blocks
        };
        assert!(blocks().is_empty());
        let jail_dir = locked.jail_dir(&db);
        crate::store::fs::write_atomic(&jail_dir, super::super::BLOCK_FILE, b"172.16.0.8/30\n")
            .unwrap();
        locked
            .write_jail(&db, &nat_settings(&db, "tcp(5432)"))
            .unwrap();
        let block = Range::parse("172.16.0.8/30").unwrap();
        assert_eq!(blocks().get("db"), Some(&block));
        assert_eq!(blocks().get("db"), Some(&block), "from the cache");
    }
}
