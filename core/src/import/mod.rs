//! `ioc import`: jail configurations of iocage and libioc, read, mapped onto ioc's properties
//! and created through the store.
//!
//! - [`source`]: finding the configuration files under the paths given (a file, a jail
//!   directory, a directory of jails or an iocage root) and reading them as [`SourceJail`]s.
//! - [`iocage_json`] and [`legacy`]: the two file formats, `config.json` (iocage and libioc)
//!   and the key=value `config` of older iocage versions, read into flat key/text pairs.
//! - [`mapping`]: what each key becomes in ioc, with the quirks of those tools normalised
//!   (`"vnet": 1`, `none`/`-`, `defaultrouter` `auto`...), and why the others are left out
//!   (`unknown`: the reasons for keys no ioc property takes).
//! - [`apply`]: every property through ioc's normal checks, then one atomic create (or, with
//!   `--replace`, one atomic rewrite) per jail under the store lock.
//!
//! One jail's failure never stops the others: [`import`] reports each jail as it finishes.

pub mod apply;
pub mod iocage_json;
pub mod legacy;
pub mod mapping;
pub mod source;
mod unknown;

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};

pub use apply::{JailReport, Options, Outcome};
pub use mapping::{Mapped, Plan, Skipped};
pub use source::{Format, SourceJail};

use crate::store::Store;

/// Why a configuration could not be read or imported. Every message names the file.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: io::Error,
    },

    #[error("{}: not a JSON jail configuration: {reason}", path.display())]
    Json { path: PathBuf, reason: String },

    #[error("{}, line {line}: expected KEY=VALUE but got \"{text}\"", path.display())]
    LegacyLine {
        path: PathBuf,
        line: usize,
        text: String,
    },

    #[error(
        "{}: no jail configuration here (expected a config.json or config file, a jail \
         directory holding one, or a directory of such jail directories)",
        path.display()
    )]
    NothingFound { path: PathBuf },

    #[error("{}: no usable jail name: {tried}", path.display())]
    NoName { path: PathBuf, tried: String },

    /// A value that fails ioc's checks: the source key and value, and ioc's reason.
    #[error("{}: {key}=\"{value}\": {source}", path.display())]
    Invalid {
        path: PathBuf,
        key: String,
        value: String,
        #[source]
        source: Box<crate::Error>,
    },

    #[error(
        "{}: jail '{name}' already exists; `ioc import --replace` replaces its configuration",
        path.display()
    )]
    Exists { path: PathBuf, name: String },

    #[error("{}: jail '{name}' is imported twice in this command (also from {})", path.display(), first.display())]
    Twice {
        path: PathBuf,
        name: String,
        first: PathBuf,
    },

    #[error("{}: jail '{name}' is running (JID {jid}); stop it before replacing its configuration", path.display())]
    Running {
        path: PathBuf,
        name: String,
        jid: u32,
    },

    /// ioc's checks refused the jail for a reason no single key of the file explains.
    #[error("{}: {source}", path.display())]
    Refused {
        path: PathBuf,
        #[source]
        source: Box<crate::Error>,
    },

    /// Several problems with one file, each on its own line.
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
    Several(Vec<ImportError>),

    /// The summary of a command some of whose jails failed (their errors came first).
    #[error("{failed} jail configuration(s) not imported; the errors are above")]
    Incomplete { failed: usize },

    /// The store itself failed (lock, read or write).
    #[error("{}: {source}", path.display())]
    Store {
        path: PathBuf,
        #[source]
        source: Box<crate::Error>,
    },
}

impl From<ImportError> for crate::Error {
    fn from(e: ImportError) -> crate::Error {
        crate::Error::Import(Box::new(e))
    }
}

/// Flat key/text pairs as a file holds them, in key order.
pub type Entries = BTreeMap<String, String>;

impl Running for crate::runtime::RunDir {
    fn jid(&self, name: &str) -> Option<u32> {
        crate::runtime::RunDir::jid(self, name)
    }
}

/// Which jails `import` must not touch because they are running: the jail's JID, if any.
pub trait Running {
    fn jid(&self, name: &str) -> Option<u32>;
}

/// Imports every jail found under `paths`, calling `report` as each one finishes (created,
/// replaced, checked in a dry run, or failed). Returns the failures; a path that holds no
/// configuration is one too.
pub fn import(
    store: &Store,
    running: &dyn Running,
    paths: &[PathBuf],
    options: Options,
    report: &mut dyn FnMut(&Result<JailReport, ImportError>),
) -> Vec<ImportError> {
    let mut failures = Vec::new();
    let mut seen: BTreeMap<String, PathBuf> = BTreeMap::new();
    for path in paths {
        let files = match source::discover(path) {
            Ok(files) => files,
            Err(e) => {
                let result = Err(e);
                report(&result);
                failures.extend(result.err());
                continue;
            }
        };
        for file in files {
            let result = import_one(store, running, &file, options, &mut seen);
            report(&result);
            if let Err(e) = result {
                failures.push(e);
            }
        }
    }
    failures
}

/// Reads, maps, checks and (unless a dry run) writes one jail.
fn import_one(
    store: &Store,
    running: &dyn Running,
    file: &Path,
    options: Options,
    seen: &mut BTreeMap<String, PathBuf>,
) -> Result<JailReport, ImportError> {
    let source = SourceJail::read(file)?;
    let plan = mapping::plan(&source)?;
    if let Some(first) = seen.get(plan.name.as_str()) {
        return Err(ImportError::Twice {
            path: file.to_path_buf(),
            name: plan.name.to_string(),
            first: first.clone(),
        });
    }
    seen.insert(plan.name.to_string(), file.to_path_buf());
    if options.replace {
        if let Some(jid) = running.jid(plan.name.as_str()) {
            return Err(ImportError::Running {
                path: file.to_path_buf(),
                name: plan.name.to_string(),
                jid,
            });
        }
    }
    apply::apply(store, plan, options)
}
