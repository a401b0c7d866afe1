//! Finding and reading the configuration files: `ioc import PATH` takes a file, a jail
//! directory (holding `config.json` or `config`), a directory of jail directories (iocage's
//! `jails/`) or an iocage root (holding `jails/`).

use std::collections::BTreeSet;
use std::fmt;
use std::path::{Path, PathBuf};

use super::{iocage_json, legacy, Entries, ImportError};

/// The file iocage 1.x and libioc write.
pub const JSON_FILE: &str = "config.json";
/// The key=value file of older iocage versions (and libioc's UCL `config`).
pub const LEGACY_FILE: &str = "config";
/// The directory of jails under an iocage root.
const JAILS_DIR: &str = "jails";
/// The defaults of an iocage (or libioc) root, which a thin jail configuration inherits.
pub const DEFAULTS_FILE: &str = "defaults.json";

/// The format a configuration file is written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// `config.json` of iocage or libioc.
    Json,
    /// The key=value `config` file of older iocage versions.
    Legacy,
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Format::Json => "JSON",
            Format::Legacy => "legacy key=value",
        })
    }
}

/// One jail's configuration as read: flat key/text pairs, and where they came from.
#[derive(Clone, Debug)]
pub struct SourceJail {
    pub file: PathBuf,
    pub format: Format,
    /// The jail's own keys and, under them, those it inherits from its root's defaults.
    pub entries: Entries,
    pub inherited: Option<Inherited>,
}

/// The keys a thin `config.json` takes from `ROOT/defaults.json` (iocage stores only what
/// differs from its defaults in a jail's file, and reads the rest from there).
#[derive(Clone, Debug)]
pub struct Inherited {
    pub file: PathBuf,
    pub keys: BTreeSet<String>,
}

impl SourceJail {
    /// Reads `file`, telling the formats apart by content: JSON starts with `{`.
    pub fn read(file: &Path) -> Result<SourceJail, ImportError> {
        let mut jail = Self::parse(file, &read(file)?)?;
        if let Some(defaults) = jail.defaults_file().filter(|d| d.is_file()) {
            let inherited = iocage_json::parse(&defaults, &read(&defaults)?)?;
            let mut keys = BTreeSet::new();
            for (key, value) in inherited {
                if !jail.entries.contains_key(&key) {
                    jail.entries.insert(key.clone(), value);
                    keys.insert(key);
                }
            }
            jail.inherited = Some(Inherited {
                file: defaults,
                keys,
            });
        }
        Ok(jail)
    }

    /// `ROOT/defaults.json` for a `ROOT/jails/NAME/config.json`.
    fn defaults_file(&self) -> Option<PathBuf> {
        if self.format != Format::Json {
            return None;
        }
        let jails = self.file.parent()?.parent()?;
        let root = jails.parent()?;
        (jails.file_name()? == JAILS_DIR).then(|| root.join(DEFAULTS_FILE))
    }

    /// Whether `key` comes from the root's defaults rather than the jail's own file.
    pub fn is_inherited(&self, key: &str) -> bool {
        self.inherited
            .as_ref()
            .is_some_and(|i| i.keys.contains(key))
    }

    /// Parses `text` read from `file`.
    pub fn parse(file: &Path, text: &str) -> Result<SourceJail, ImportError> {
        let (format, entries) = if text.trim_start().starts_with('{') {
            (Format::Json, iocage_json::parse(file, text)?)
        } else {
            (Format::Legacy, legacy::parse(file, text)?)
        };
        Ok(SourceJail {
            file: file.to_path_buf(),
            format,
            entries,
            inherited: None,
        })
    }

    /// The name of the directory holding the file: iocage names a jail's directory after it.
    pub fn dir_name(&self) -> Option<&str> {
        self.file.parent()?.file_name()?.to_str()
    }
}

fn read(file: &Path) -> Result<String, ImportError> {
    std::fs::read_to_string(file).map_err(|source| ImportError::Read {
        path: file.to_path_buf(),
        source,
    })
}

/// The configuration file of the jail directory `dir`, if it holds one (`config.json` first:
/// iocage keeps a converted legacy `config` beside it).
fn jail_file(dir: &Path) -> Option<PathBuf> {
    [JSON_FILE, LEGACY_FILE]
        .iter()
        .map(|name| dir.join(name))
        .find(|file| file.is_file())
}

/// The configuration files under `path`, sorted.
pub fn discover(path: &Path) -> Result<Vec<PathBuf>, ImportError> {
    let read_error = |source| ImportError::Read {
        path: path.to_path_buf(),
        source,
    };
    let metadata = std::fs::metadata(path).map_err(read_error)?;
    if metadata.is_file() {
        return Ok(vec![path.to_path_buf()]);
    }
    if let Some(file) = jail_file(path) {
        return Ok(vec![file]);
    }
    let mut files = jails_in(path).map_err(read_error)?;
    if files.is_empty() && path.join(JAILS_DIR).is_dir() {
        files = jails_in(&path.join(JAILS_DIR)).map_err(read_error)?;
    }
    if files.is_empty() {
        return Err(ImportError::NothingFound {
            path: path.to_path_buf(),
        });
    }
    Ok(files)
}

/// The configuration files of the jail directories directly under `dir`, sorted.
fn jails_in(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            files.extend(jail_file(&path));
        }
    }
    files.sort();
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_files_jail_dirs_jail_lists_and_roots() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        let jails = root.join("jails");
        for (jail, file) in [("b", JSON_FILE), ("a", LEGACY_FILE), ("c", JSON_FILE)] {
            std::fs::create_dir_all(jails.join(jail)).unwrap();
            std::fs::write(jails.join(jail).join(file), "{}").unwrap();
        }
        std::fs::write(jails.join("c").join(LEGACY_FILE), "tag=c").unwrap();
        std::fs::create_dir_all(jails.join("empty")).unwrap();
        let expected = vec![
            jails.join("a/config"),
            jails.join("b/config.json"),
            jails.join("c/config.json"),
        ];
        assert_eq!(discover(&jails).unwrap(), expected);
        assert_eq!(discover(root).unwrap(), expected);
        assert_eq!(
            discover(&jails.join("c")).unwrap(),
            [jails.join("c/config.json")]
        );
        assert_eq!(
            discover(&jails.join("a/config")).unwrap(),
            [jails.join("a/config")]
        );
        assert!(matches!(
            discover(&jails.join("empty")),
            Err(ImportError::NothingFound { .. })
        ));
        assert!(matches!(
            discover(&root.join("missing")),
            Err(ImportError::Read { .. })
        ));
    }

    #[test]
    fn thin_json_configs_inherit_the_roots_defaults() {
        let tmp = tempfile::tempdir().unwrap();
        let jail = tmp.path().join("jails/thin");
        std::fs::create_dir_all(&jail).unwrap();
        std::fs::write(
            jail.join(JSON_FILE),
            r#"{"host_hostuuid": "thin", "boot": 1}"#,
        )
        .unwrap();
        std::fs::write(tmp.path().join(DEFAULTS_FILE), r#"{"vnet": 1, "boot": 0}"#).unwrap();
        let read = SourceJail::read(&jail.join(JSON_FILE)).unwrap();
        assert_eq!(read.entries["vnet"], "1");
        assert_eq!(read.entries["boot"], "1");
        assert!(read.is_inherited("vnet") && !read.is_inherited("boot"));
        assert_eq!(read.inherited.unwrap().file, tmp.path().join(DEFAULTS_FILE));
        // A legacy file, or a JSON file outside a root, inherits nothing.
        std::fs::write(jail.join(LEGACY_FILE), "tag=thin").unwrap();
        assert!(SourceJail::read(&jail.join(LEGACY_FILE))
            .unwrap()
            .inherited
            .is_none());
    }

    #[test]
    fn formats_are_told_apart_by_content() {
        let json = SourceJail::parse(Path::new("/j/www/config.json"), " {\"vnet\": 1}").unwrap();
        assert_eq!(json.format, Format::Json);
        assert_eq!(json.dir_name(), Some("www"));
        let legacy = SourceJail::parse(Path::new("/j/db/config"), "vnet=on\n").unwrap();
        assert_eq!(legacy.format, Format::Legacy);
        assert_eq!(legacy.entries["vnet"], "on");
    }
}
