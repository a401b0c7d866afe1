//! The state store: the configuration of every jail, the user defaults and host settings.
//!
//! Layout under the config root (`--root`, else `IOC_ROOT`, else `/var/lib/ioc`):
//!
//! ```text
//! .lock                   exclusive flock for every read-modify-write
//! defaults.ron            user defaults (`ioc set K=V defaults`), user-set keys only
//! host.ron                host settings that are not properties (enabled plugins)
//! jails/<name>/config.ron a jail's own user-set keys
//! ```
//!
//! Reads need no lock: every write replaces a whole file by rename, so a reader sees the old or
//! the new version. Writes go through [`LockedStore`], which only [`Store::lock`] hands out, so
//! the type system makes sure no write happens without the lock. Directories are 0700 and files
//! 0600, set explicitly whatever the umask.

mod edit;
mod files;
pub(crate) mod fs;
mod lock;

use std::io;
use std::ops::Deref;
use std::path::{Path, PathBuf};

pub use edit::Target;
pub use files::HostSettings;
pub use lock::StoreLock;

use crate::config::{JailName, Owner, ResolvedJail, Settings};
use crate::error::{Error, Result};
use crate::filter::Filter;

/// The config root when neither `--root` nor `IOC_ROOT` is given.
pub const DEFAULT_ROOT: &str = "/var/lib/ioc";

const LOCK_FILE: &str = ".lock";
const DEFAULTS_FILE: &str = "defaults.ron";
const HOST_FILE: &str = "host.ron";
pub(crate) const JAILS_DIR: &str = "jails";
const CONFIG_FILE: &str = "config.ron";

/// The config root: `cli` (`--root`), else `IOC_ROOT` when set and non-empty, else
/// [`DEFAULT_ROOT`].
pub fn root_from(cli: Option<&Path>) -> PathBuf {
    if let Some(root) = cli {
        return root.to_path_buf();
    }
    match std::env::var_os("IOC_ROOT") {
        Some(root) if !root.is_empty() => PathBuf::from(root),
        _ => PathBuf::from(DEFAULT_ROOT),
    }
}

/// Read access to the store; see the module documentation.
#[derive(Clone, Debug)]
pub struct Store {
    root: PathBuf,
}

impl Store {
    /// A store at `root`; nothing is touched until it is used.
    pub fn new(root: impl Into<PathBuf>) -> Store {
        Store { root: root.into() }
    }

    /// The store at [`root_from`]`(cli)`.
    pub fn from_cli(cli: Option<&Path>) -> Store {
        Store::new(root_from(cli))
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    fn jails_dir(&self) -> PathBuf {
        self.root.join(JAILS_DIR)
    }

    /// The directory holding one jail's state.
    pub fn jail_dir(&self, name: &JailName) -> PathBuf {
        self.jails_dir().join(name.as_str())
    }

    /// Takes the exclusive store lock (blocking), creating the root if needed.
    pub fn lock(&self) -> Result<LockedStore<'_>> {
        fs::ensure_private_dir(&self.root)?;
        let lock = StoreLock::acquire(&self.root.join(LOCK_FILE))?;
        Ok(LockedStore {
            store: self,
            _lock: lock,
        })
    }

    /// Every jail's name, sorted. Entries that are not jails (hidden staging directories, names
    /// that are not valid jail names, plain files) are skipped with a warning.
    pub fn jail_names(&self) -> Result<Vec<JailName>> {
        let dir = self.jails_dir();
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(Error::io("cannot list", &dir, e)),
        };
        let mut names = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| Error::io("cannot list", &dir, e))?;
            let file_name = entry.file_name();
            let Some(text) = file_name.to_str() else {
                tracing::warn!(path = %entry.path().display(), "skipping a non-UTF-8 entry");
                continue;
            };
            if text.starts_with('.') {
                continue;
            }
            let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
            match JailName::new(text) {
                Ok(name) if is_dir => names.push(name),
                _ => {
                    tracing::warn!(path = %entry.path().display(), "skipping: not a jail directory")
                }
            }
        }
        names.sort();
        Ok(names)
    }

    /// True when the jail exists.
    pub fn jail_exists(&self, name: &JailName) -> bool {
        std::fs::symlink_metadata(self.jail_dir(name)).is_ok_and(|m| m.is_dir())
    }

    /// A jail's own settings. A jail directory without `config.ron` has none.
    pub fn jail_settings(&self, name: &JailName) -> Result<Settings> {
        if !self.jail_exists(name) {
            return Err(Error::NoSuchJail(name.to_string()));
        }
        let path = self.jail_dir(name).join(CONFIG_FILE);
        match fs::read_state_file(&path)? {
            Some(text) => files::decode_settings(&path, Owner::Jail(name), &text),
            None => Ok(Settings::default()),
        }
    }

    /// The user defaults.
    pub fn defaults(&self) -> Result<Settings> {
        let path = self.root.join(DEFAULTS_FILE);
        match fs::read_state_file(&path)? {
            Some(text) => files::decode_settings(&path, Owner::Defaults, &text),
            None => Ok(Settings::default()),
        }
    }

    /// The host settings (defaults when `host.ron` does not exist).
    pub fn host_settings(&self) -> Result<HostSettings> {
        let path = self.root.join(HOST_FILE);
        match fs::read_state_file(&path)? {
            Some(text) => files::decode_host(&path, &text),
            None => Ok(HostSettings::default()),
        }
    }

    /// One jail, resolved against the defaults.
    pub fn resolve(&self, name: &JailName) -> Result<ResolvedJail> {
        let defaults = self.defaults()?;
        let jail = ResolvedJail::resolve(name, &self.jail_settings(name)?, &defaults);
        Ok(crate::pool::with_kept(self, jail))
    }

    /// Every jail, resolved, sorted by name.
    pub fn resolve_all(&self) -> Result<Vec<ResolvedJail>> {
        let defaults = self.defaults()?;
        self.jail_names()?
            .iter()
            .map(|name| {
                let jail = ResolvedJail::resolve(name, &self.jail_settings(name)?, &defaults);
                Ok(crate::pool::with_kept(self, jail))
            })
            .collect()
    }

    /// The names a filter selects, in order; selecting nothing is
    /// [`Error::NoMatch`]. A filter of plain names (`jail-a,jail-b`) only checks that those
    /// jails exist, so it works even when another jail's config is damaged.
    pub fn select_names(&self, filter: &Filter) -> Result<Vec<JailName>> {
        let names = match filter.plain_names() {
            Some(plain) => {
                let mut names: Vec<JailName> = plain
                    .iter()
                    .filter_map(|n| JailName::new(n).ok())
                    .filter(|n| self.jail_exists(n))
                    .collect();
                names.sort();
                names.dedup();
                names
            }
            None => filter
                .select(&self.resolve_all()?)
                .into_iter()
                .map(|jail| jail.name().clone())
                .collect(),
        };
        if names.is_empty() {
            return Err(Error::NoMatch);
        }
        Ok(names)
    }

    /// The jails a filter selects, resolved; selecting nothing is [`Error::NoMatch`].
    pub fn select(&self, filter: &Filter) -> Result<Vec<ResolvedJail>> {
        self.select_names(filter)?
            .iter()
            .map(|name| self.resolve(name))
            .collect()
    }
}

/// The store with its lock held: the only way to write. Reads through `Deref`.
pub struct LockedStore<'a> {
    store: &'a Store,
    _lock: StoreLock,
}

impl Deref for LockedStore<'_> {
    type Target = Store;
    fn deref(&self) -> &Store {
        self.store
    }
}

impl LockedStore<'_> {
    /// Replaces an existing jail's settings.
    pub fn write_jail(&self, name: &JailName, settings: &Settings) -> Result<()> {
        if !self.jail_exists(name) {
            return Err(Error::NoSuchJail(name.to_string()));
        }
        let dir = self.jail_dir(name);
        let text = files::encode_settings(&dir.join(CONFIG_FILE), settings)?;
        fs::write_atomic(&dir, CONFIG_FILE, text.as_bytes())
    }

    /// Replaces the user defaults.
    pub fn write_defaults(&self, settings: &Settings) -> Result<()> {
        let text = files::encode_settings(&self.root.join(DEFAULTS_FILE), settings)?;
        fs::write_atomic(&self.root, DEFAULTS_FILE, text.as_bytes())
    }

    /// Replaces the host settings.
    pub fn write_host_settings(&self, host: &HostSettings) -> Result<()> {
        let text = files::encode_host(&self.root.join(HOST_FILE), host)?;
        fs::write_atomic(&self.root, HOST_FILE, text.as_bytes())
    }

    /// Creates a jail with its settings in one step: the directory is prepared under a hidden
    /// name and renamed into place, so a crash never leaves a half-created jail.
    pub fn create_jail(&self, name: &JailName, settings: &Settings) -> Result<()> {
        let jails = self.jails_dir();
        fs::ensure_private_dir(&jails)?;
        if self.jail_exists(name) {
            return Err(Error::JailExists(name.to_string()));
        }
        let staging = jails.join(format!(".{name}.creating"));
        fs::remove_tree(&staging)?;
        fs::ensure_private_dir(&staging)?;
        let text = files::encode_settings(&self.jail_dir(name).join(CONFIG_FILE), settings)?;
        fs::write_atomic(&staging, CONFIG_FILE, text.as_bytes())?;
        std::fs::rename(&staging, self.jail_dir(name))
            .map_err(|e| Error::io("cannot create", self.jail_dir(name), e))?;
        fs::sync_dir(&jails)
    }

    /// Removes a jail and everything in its directory. The directory is first renamed to a
    /// hidden name, so the jail is gone at once even if removing the files fails halfway.
    pub fn destroy_jail(&self, name: &JailName) -> Result<()> {
        if !self.jail_exists(name) {
            return Err(Error::NoSuchJail(name.to_string()));
        }
        // The block claim first: a crash before the directory goes leaves the jail whole
        // (its next start claims the block again), one after leaves nothing stale.
        crate::pool::release(self, name);
        let jails = self.jails_dir();
        let trash = jails.join(format!(".{name}.destroying"));
        fs::remove_tree(&trash)?;
        std::fs::rename(self.jail_dir(name), &trash)
            .map_err(|e| Error::io("cannot remove", self.jail_dir(name), e))?;
        fs::sync_dir(&jails)?;
        if let Err(e) = fs::remove_tree(&trash) {
            tracing::warn!("jail {name} is destroyed, but its files remain: {e}");
        }
        Ok(())
    }

    /// Renames a jail. Generated MACs follow the name (they hash it); pinned ones stay.
    pub fn rename_jail(&self, old: &JailName, new: &JailName) -> Result<()> {
        if !self.jail_exists(old) {
            return Err(Error::NoSuchJail(old.to_string()));
        }
        if self.jail_exists(new) {
            return Err(Error::JailExists(new.to_string()));
        }
        std::fs::rename(self.jail_dir(old), self.jail_dir(new))
            .map_err(|e| Error::io("cannot rename", self.jail_dir(old), e))?;
        if let Err(e) = crate::pool::renamed(self, old, new) {
            // The rename is done; the next start of the jail claims its block again.
            tracing::warn!("jail {new}: its address block claim was not moved: {e}");
        }
        fs::sync_dir(&self.jails_dir())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    pub(super) fn store() -> (tempfile::TempDir, Store) {
        let tmp = tempfile::tempdir().unwrap();
        let store = Store::new(tmp.path().join("root"));
        (tmp, store)
    }

    fn name(s: &str) -> JailName {
        JailName::new(s).unwrap()
    }

    #[test]
    fn empty_store_reads_fine_without_creating_anything() {
        let (_tmp, store) = store();
        assert!(store.jail_names().unwrap().is_empty());
        assert!(store.defaults().unwrap().is_empty());
        assert_eq!(store.host_settings().unwrap(), HostSettings::default());
        assert!(!store.root().exists());
        assert!(matches!(
            store.jail_settings(&name("a")),
            Err(Error::NoSuchJail(_))
        ));
    }

    #[test]
    fn create_write_rename_destroy() {
        let (_tmp, store) = store();
        let a = name("jail-a");
        let mut settings = Settings::default();
        settings.set(Owner::Jail(&a), "vnet", "on").unwrap();
        {
            let locked = store.lock().unwrap();
            locked.create_jail(&a, &settings).unwrap();
            assert!(matches!(
                locked.create_jail(&a, &settings),
                Err(Error::JailExists(_))
            ));
        }
        assert_eq!(store.jail_settings(&a).unwrap(), settings);
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(store.root()), 0o700);
        assert_eq!(mode(&store.jail_dir(&a)), 0o700);
        assert_eq!(mode(&store.jail_dir(&a).join(CONFIG_FILE)), 0o600);

        let b = name("jail-b");
        let locked = store.lock().unwrap();
        locked.rename_jail(&a, &b).unwrap();
        assert_eq!(store.jail_names().unwrap(), vec![b.clone()]);
        assert!(matches!(
            locked.rename_jail(&a, &b),
            Err(Error::NoSuchJail(_))
        ));
        locked.destroy_jail(&b).unwrap();
        assert!(store.jail_names().unwrap().is_empty());
        assert!(matches!(locked.destroy_jail(&b), Err(Error::NoSuchJail(_))));
        let leftovers: Vec<_> = std::fs::read_dir(store.root().join(JAILS_DIR))
            .unwrap()
            .collect();
        assert!(leftovers.is_empty());
    }

    #[test]
    fn listing_skips_what_is_not_a_jail() {
        let (_tmp, store) = store();
        let jails = store.root().join(JAILS_DIR);
        std::fs::create_dir_all(jails.join("good")).unwrap();
        std::fs::create_dir_all(jails.join(".hidden.creating")).unwrap();
        std::fs::create_dir_all(jails.join("bad name")).unwrap();
        std::fs::write(jails.join("file"), "").unwrap();
        assert_eq!(store.jail_names().unwrap(), vec![name("good")]);
        assert!(store.jail_settings(&name("good")).unwrap().is_empty());
    }

    #[test]
    fn corrupt_configs_are_errors_naming_the_file() {
        let (_tmp, store) = store();
        let a = name("a");
        store
            .lock()
            .unwrap()
            .create_jail(&a, &Settings::default())
            .unwrap();
        let path = store.jail_dir(&a).join(CONFIG_FILE);
        std::fs::write(&path, "(properties: {\"vnet\": \"sometimes\"})").unwrap();
        let err = store.jail_settings(&a).unwrap_err().to_string();
        assert!(err.contains(&path.display().to_string()), "{err}");
        assert!(
            err.contains("Invalid value for property 'vnet' of jail a"),
            "{err}"
        );
        // Plain-name selection still finds the other jails.
        let b = name("b");
        store
            .lock()
            .unwrap()
            .create_jail(&b, &Settings::default())
            .unwrap();
        let filter = Filter::from_args(&["b"]).unwrap();
        assert_eq!(store.select_names(&filter).unwrap(), vec![b]);
        assert!(store.select(&Filter::from_args(&["*"]).unwrap()).is_err());
    }

    #[test]
    fn selection() {
        let (_tmp, store) = store();
        let locked = store.lock().unwrap();
        for n in ["a1", "a2", "b1"] {
            locked.create_jail(&name(n), &Settings::default()).unwrap();
        }
        let select = |args: &[&str]| -> Result<Vec<String>> {
            Ok(store
                .select_names(&Filter::from_args(args).unwrap())?
                .iter()
                .map(|n| n.to_string())
                .collect())
        };
        assert_eq!(select(&["a*"]).unwrap(), ["a1", "a2"]);
        assert_eq!(select(&["b1,zz"]).unwrap(), ["b1"]);
        assert!(matches!(select(&["zz"]), Err(Error::NoMatch)));
        assert!(matches!(select(&["vnet=on"]), Err(Error::NoMatch)));
    }

    #[test]
    fn root_resolution_prefers_the_command_line() {
        assert_eq!(root_from(Some(Path::new("/x"))), PathBuf::from("/x"));
    }
}
