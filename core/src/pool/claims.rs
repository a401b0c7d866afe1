//! Who holds which block: one claim file per block held, `<root>/.pool/blocks/<network>-<len>`,
//! holding the holder's name, made with `O_EXCL`. A start touches its own block's claim (and,
//! for a new block, the few claims from the pool's hint on), never every jail's: its cost does
//! not grow with the number of jails.
//!
//! The jail's own block file (`jails/<name>/pool-block`) stays the truth of what a jail holds;
//! a claim is live only while the jail it names exists and its block file names the block, or
//! its configuration chooses the block (a user-set `ip4_addr`, claimed by `ioc create` and
//! `ioc set` so that no other jail's first start takes it; see [`super::reserve`]). Anything
//! else is stale and taken over by the next allocation that meets it: the claim of a
//! destroyed jail, of a renamed one (until its next start claims it again under its new name,
//! see [`BlockClaims::moved`] for the rename itself), of a start killed between making the
//! claim and writing the block file, or of a jail that moved to another block and died before
//! releasing the old one. So a crash at any point leaves nothing that blocks another jail.
//!
//! All of it happens under the store lock (every writer holds it); `O_EXCL` and the block file
//! check make the claims right even for a reader that does not.

use std::io;
use std::net::Ipv4Addr;
use std::path::PathBuf;

use super::nat::chosen_block;
use super::{kept_in, Range};
use crate::config::JailName;
use crate::error::{Error, Result};
use crate::store::fs::{ensure_private_dir, replace_file, Durability, FILE_MODE};
use crate::store::LockedStore;

/// The pool's directory in the store's root.
const POOL_DIR: &str = ".pool";

/// In the pool's directory once the claims of every block allocated before there were claims
/// are made (see [`BlockClaims::migrate_once`]).
const MARKER: &str = "claims-v1";

/// What one claim says.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Holder {
    Nobody,
    /// A live claim of this jail.
    Jail(String),
}

/// The block claims of one store (held under its lock).
pub(crate) struct BlockClaims<'s> {
    store: &'s LockedStore<'s>,
    dir: PathBuf,
}

impl<'s> BlockClaims<'s> {
    pub(crate) fn new(store: &'s LockedStore<'s>) -> BlockClaims<'s> {
        BlockClaims {
            dir: store.root().join(POOL_DIR),
            store,
        }
    }

    /// Makes the claims of a store whose blocks were allocated before there were claims (the
    /// blocks in its jails' block files, the addresses chosen in their configurations), once:
    /// afterwards one stat of the marker. Until the marker is written the scan is redone,
    /// which is harmless (a claim that is already there stays). The cache the claims replace
    /// (`.nat-index.json`) goes.
    pub(crate) fn migrate_once(&self) -> Result<()> {
        let marker = self.dir.join(MARKER);
        if std::fs::symlink_metadata(&marker).is_ok() {
            return Ok(());
        }
        for name in self.store.jail_names()? {
            let kept = kept_in(&self.store.jail_dir(&name));
            let chosen = self
                .store
                .resolve(&name)
                .ok()
                .and_then(|j| chosen_block(&j));
            for block in kept.into_iter().chain(chosen) {
                if let Err(other) = self.claim(block, name.as_str())? {
                    tracing::warn!(
                        jail = name.as_str(),
                        "the address block {block} is also held by jail '{other}'; its next \
                         start takes another"
                    );
                }
            }
        }
        let _ = std::fs::remove_file(self.store.root().join(".nat-index.json"));
        ensure_private_dir(&self.dir)?;
        create_new(&marker, "1\n")
            .or_else(|e| match e.kind() {
                io::ErrorKind::AlreadyExists => Ok(()),
                _ => Err(e),
            })
            .map_err(|e| Error::io("cannot write", &marker, e))
    }

    fn path(&self, block: Range) -> PathBuf {
        self.dir
            .join("blocks")
            .join(format!("{}-{}", block.network, block.len))
    }

    /// The jail whose claim on `block` is live (see the module doc).
    pub(crate) fn holder(&self, block: Range) -> Holder {
        let Ok(owner) = std::fs::read_to_string(self.path(block)) else {
            return Holder::Nobody;
        };
        let owner = owner.trim();
        let live = JailName::new(owner).ok().is_some_and(|name| {
            kept_in(&self.store.jail_dir(&name)) == Some(block)
                || self
                    .store
                    .resolve(&name)
                    .ok()
                    .and_then(|j| chosen_block(&j))
                    == Some(block)
        });
        if live {
            Holder::Jail(owner.to_string())
        } else {
            Holder::Nobody
        }
    }

    /// Claims `block` for `jail`: made new with `O_EXCL`, or taken over when the claim there is
    /// stale or already `jail`'s. Another jail's live claim is returned as `Err(holder)`.
    pub(crate) fn claim(
        &self,
        block: Range,
        jail: &str,
    ) -> Result<std::result::Result<(), String>> {
        let path = self.path(block);
        match create_new(&path, jail) {
            Ok(()) => return Ok(Ok(())),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                ensure_private_dir(&self.dir)?;
                ensure_private_dir(&self.dir.join("blocks"))?;
                match create_new(&path, jail) {
                    Ok(()) => return Ok(Ok(())),
                    Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
                    Err(e) => return Err(Error::io("cannot write", &path, e)),
                }
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(Error::io("cannot write", &path, e)),
        }
        match self.holder(block) {
            Holder::Jail(other) if other != jail => Ok(Err(other)),
            _ => {
                replace_file(&path, jail.as_bytes(), FILE_MODE, Durability::Volatile)
                    .map_err(|e| Error::io("cannot write", &path, e))?;
                Ok(Ok(()))
            }
        }
    }

    /// Whether the claim on `block` names `jail` (live or not: its block file is the other half).
    pub(crate) fn names(&self, block: Range, jail: &str) -> bool {
        std::fs::read_to_string(self.path(block)).is_ok_and(|owner| owner.trim() == jail)
    }

    /// Drops `jail`'s claim on `block` (a claim that names another jail stays), and lowers the
    /// pool's hints so the block is found again.
    pub(crate) fn release(&self, block: Range, jail: &str) {
        if self.names(block, jail) {
            let _ = std::fs::remove_file(self.path(block));
        }
        self.lower_hints(block);
    }

    /// `old`'s claim on `block` now belongs to `new` (a rename, which carries the block file).
    pub(crate) fn moved(&self, block: Range, old: &str, new: &str) -> Result<()> {
        if !self.names(block, old) {
            return Ok(());
        }
        let path = self.path(block);
        replace_file(&path, new.as_bytes(), FILE_MODE, Durability::Volatile)
            .map_err(|e| Error::io("cannot write", &path, e))
    }

    /// Where a search for a free block of `block_len` in `pool` starts: below it every block
    /// was held when it was last written. Too low only costs a few more probes; too high (a
    /// claim gone stale without a release) only skips a free block until a release lowers it
    /// or the pool seems full, when the search goes round from the start.
    fn hint_path(&self, pool: Range, block_len: u8) -> PathBuf {
        self.dir
            .join("hints")
            .join(format!("{}-{}-{block_len}", pool.network, pool.len))
    }

    pub(crate) fn hint(&self, pool: Range, block_len: u8) -> Option<Ipv4Addr> {
        std::fs::read_to_string(self.hint_path(pool, block_len))
            .ok()?
            .trim()
            .parse()
            .ok()
            .filter(|a| pool.contains(*a))
    }

    /// Records that the search in `pool` may start at `next` from now on. A hint is only an
    /// optimisation (lost or torn, it costs a longer search), so it is rewritten in place: no
    /// new file on every start (on ext4, making a file costs more the more files were deleted
    /// recently).
    pub(crate) fn set_hint(&self, pool: Range, block_len: u8, next: Ipv4Addr) {
        let path = self.hint_path(pool, block_len);
        let rewrite = || {
            use std::io::Write;
            use std::os::unix::fs::OpenOptionsExt;
            std::fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .mode(FILE_MODE)
                .custom_flags(libc::O_NOFOLLOW)
                .open(&path)?
                .write_all(format!("{next}\n").as_bytes())
        };
        if rewrite().is_err() && ensure_private_dir(&self.dir.join("hints")).is_ok() {
            let _ = rewrite();
        }
    }

    /// Lowers every hint of a pool holding `block` to it.
    fn lower_hints(&self, block: Range) {
        let Ok(entries) = std::fs::read_dir(self.dir.join("hints")) else {
            return;
        };
        for entry in entries.flatten() {
            let Some((pool, len)) = entry.file_name().to_str().and_then(parse_hint_name) else {
                continue;
            };
            let above = self
                .hint(pool, len)
                .is_some_and(|h| u32::from(h) > u32::from(block.network));
            if len == block.len && pool.contains(block.network) && above {
                self.set_hint(pool, len, block.network);
            }
        }
    }
}

/// `172.16.0.0-16-30` as the pool `172.16.0.0/16` and the block length 30.
fn parse_hint_name(name: &str) -> Option<(Range, u8)> {
    let mut parts = name.split('-');
    let network = parts.next()?.parse().ok()?;
    let len = parts.next()?.parse().ok().filter(|l| *l <= 32)?;
    let block_len = parts.next()?.parse().ok().filter(|l| *l <= 32)?;
    Some((Range { network, len }, block_len))
}

/// Makes `path` holding `owner`, failing if it exists (`O_EXCL`; a link there is not
/// followed). Not fsynced: like the block file, a claim is allocation state a crash of the
/// machine may lose, and a lost claim is made again by its jail's next start.
fn create_new(path: &std::path::Path, owner: &str) -> io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(FILE_MODE)
        .open(path)?;
    file.write_all(owner.as_bytes())
}
