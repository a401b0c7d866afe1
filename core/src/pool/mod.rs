//! Address pools: blocks of a private IPv4 range handed out to jails, unique among all jails of
//! the host, kept across restarts and released when the jail is destroyed.
//!
//! Core owns the mechanism (this module); the NAT mode owns the policy (a /30 per jail from
//! `nat_prefix`, the host end first, see [`crate::config::nat`]).
//!
//! Each jail's block is a small file in its own state directory, `jails/<name>/pool-block`, so
//! a destroy (which removes the directory) releases it and a rename carries it along. Who holds
//! which block is told by one claim file per block (see [`claims`]), so an allocation looks at
//! its own block and at the few claims it meets, never at every jail. Allocation happens under
//! the store lock, which every `ioc` process takes for a read-modify-write: two starts at the
//! same moment see each other's claims. Files are written atomically, so a SIGKILL leaves either
//! no block or a whole one (which the jail then keeps), and at worst a stale claim.

mod claims;
mod nat;
mod uplink;

pub use nat::{allocate_nat, with_nat, NAT_BLOCK_LEN};
pub use uplink::default_route_interface;

use claims::BlockClaims;

use std::net::Ipv4Addr;

use crate::config::{JailName, ResolvedJail};
use crate::error::{Error, Result};
use crate::store::fs::{read_state_file, replace_file, Durability, FILE_MODE};
use crate::store::{LockedStore, Store};

/// The file holding a jail's block.
pub const BLOCK_FILE: &str = "pool-block";

/// An IPv4 range `network/len`.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub struct Range {
    pub network: Ipv4Addr,
    pub len: u8,
}

impl Range {
    fn mask(len: u8) -> u32 {
        u32::MAX.checked_shl(32 - u32::from(len)).unwrap_or(0)
    }

    /// Whether `addr` lies in the range.
    pub fn contains(&self, addr: Ipv4Addr) -> bool {
        u32::from(addr) & Self::mask(self.len) == u32::from(self.network)
    }

    /// The block of length `len` holding `addr`.
    pub fn block_of(addr: Ipv4Addr, len: u8) -> Range {
        Range {
            network: Ipv4Addr::from(u32::from(addr) & Self::mask(len)),
            len,
        }
    }

    fn parse(text: &str) -> Option<Range> {
        let (addr, len) = text.trim().split_once('/')?;
        let range = Range {
            network: addr.parse().ok()?,
            len: len.parse().ok().filter(|l| *l <= 32)?,
        };
        (Range::block_of(range.network, range.len) == range).then_some(range)
    }
}

impl std::fmt::Display for Range {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.network, self.len)
    }
}

/// Why a block could not be given to a jail.
#[derive(Debug, thiserror::Error)]
pub enum PoolError {
    /// Every block of the range is held by another jail.
    #[error(
        "jail '{jail}': no free /{block_len} left in {pool} (held by {holders} jails); destroy a \
         jail that holds one or choose a larger range"
    )]
    Full {
        jail: String,
        pool: Range,
        block_len: u8,
        holders: usize,
    },
    /// The requested block is another jail's.
    #[error("jail '{jail}': the address block {block} is already held by jail '{other}'")]
    Taken {
        jail: String,
        block: Range,
        other: String,
    },
}

/// The block `jail` holds, if any (a damaged file counts as none: the next allocation replaces
/// it).
pub fn kept(store: &LockedStore<'_>, jail: &JailName) -> Option<Range> {
    kept_in(&store.jail_dir(jail))
}

fn kept_in(dir: &std::path::Path) -> Option<Range> {
    read_state_file(&dir.join(BLOCK_FILE))
        .ok()
        .flatten()
        .and_then(|text| Range::parse(&text))
}

/// `jail` with the NAT address it keeps from its pool shown as its `ip4_addr` (only NAT jails
/// read their block file).
pub fn with_kept(store: &Store, jail: ResolvedJail) -> ResolvedJail {
    if jail.nat().is_none() {
        return jail;
    }
    match kept_in(&store.jail_dir(jail.name())) {
        Some(block) => jail.with_pool_block(block.network),
        None => jail,
    }
}

/// What a jail asks of a pool.
#[derive(Clone, Copy, Debug)]
pub struct Request<'a> {
    pub jail: &'a JailName,
    /// The range blocks come from.
    pub pool: Range,
    /// The length of one block (30 for NAT).
    pub block_len: u8,
    /// A block the user chose (from a set address), which must be free.
    pub wanted: Option<Range>,
}

/// Gives `request.jail` a block: the one it keeps when that still fits the request (and no
/// other jail holds it), else the wanted one, else the lowest free one from the pool's hint.
/// Other jails are seen only through the claims met on the way (see [`claims`]): a start costs
/// the same with one jail or with thousands. A new block is claimed, then written to the
/// jail's block file, then the jail's old block (if any) is released: a crash between any two
/// steps leaves a stale claim, which the next allocation meeting it takes over.
pub(crate) fn allocate(store: &LockedStore<'_>, request: &Request<'_>) -> Result<Range> {
    let name = request.jail.as_str();
    let claims = BlockClaims::new(store);
    claims.migrate_once()?;
    let fits = |b: &Range| {
        b.len == request.block_len
            && request.pool.contains(b.network)
            && request.wanted.is_none_or(|w| w == *b)
    };
    let old = kept(store, request.jail);
    if let Some(block) = old.filter(fits) {
        // One read when the claim is the jail's; a claim lost or gone stale is made again.
        if claims.names(block, name) || claims.claim(block, name)?.is_ok() {
            return Ok(block);
        }
    }
    let block = match request.wanted {
        Some(wanted) => match claims.claim(wanted, name)? {
            Ok(()) => wanted,
            Err(other) => {
                return Err(pool_error(PoolError::Taken {
                    jail: name.to_string(),
                    block: wanted,
                    other,
                }))
            }
        },
        None => claim_first_free(&claims, request)?,
    };
    let dir = store.jail_dir(request.jail);
    // Atomic but not fsynced: the block file is allocation state, not configuration. After a
    // crash of the machine it may be lost, and the jail's next start then takes a free block
    // again (an unreadable file counts as none, see `kept_in`, and its claim is then stale);
    // no two jails can ever hold one block, because a claim is live only with its block file.
    // The two fsyncs of a durable write were most of what a NAT start cost beyond plain VNET's.
    let path = dir.join(BLOCK_FILE);
    let written = replace_file(
        &path,
        format!("{block}\n").as_bytes(),
        FILE_MODE,
        Durability::Volatile,
    );
    if let Err(e) = written {
        claims.release(block, name);
        return Err(Error::io("cannot write", &path, e));
    }
    if let Some(old) = old.filter(|o| *o != block) {
        claims.release(old, name);
    }
    Ok(block)
}

/// Claims the lowest free block from the pool's hint on, going round to the pool's start
/// before the pool counts as full.
fn claim_first_free(claims: &BlockClaims<'_>, request: &Request<'_>) -> Result<Range> {
    let name = request.jail.as_str();
    let size = 1u64 << (32 - request.block_len);
    let start = u64::from(u32::from(request.pool.network));
    let end = start + (1u64 << (32 - request.pool.len));
    let hint = claims
        .hint(request.pool, request.block_len)
        .map_or(start, |h| {
            u64::from(u32::from(Range::block_of(h, request.block_len).network))
        });
    let step = usize::try_from(size).unwrap_or(usize::MAX);
    let mut holders = 0;
    for n in (hint..end).step_by(step).chain((start..hint).step_by(step)) {
        let block = Range {
            network: Ipv4Addr::from(u32::try_from(n).unwrap_or(0)),
            len: request.block_len,
        };
        match claims.claim(block, name)? {
            Ok(()) => {
                let next = u32::try_from(n + size).ok().map(Ipv4Addr::from);
                if let Some(next) = next.filter(|a| request.pool.contains(*a)) {
                    claims.set_hint(request.pool, request.block_len, next);
                }
                return Ok(block);
            }
            Err(_) => holders += 1,
        }
    }
    Err(pool_error(PoolError::Full {
        jail: name.to_string(),
        pool: request.pool,
        block_len: request.block_len,
        holders,
    }))
}

/// Claims the block `jail`'s configuration chooses (a user-set address of a NAT jail), so that
/// no other jail's first start takes it: `ioc create` and `ioc set`, before they write. A block
/// another jail holds or chose is refused naming that jail, as at start. Nothing else changes:
/// a running jail keeps the block it runs with until its next start moves it (its block file
/// keeps that claim live); a claim left by a write that then failed is stale.
pub fn reserve(store: &LockedStore<'_>, jail: &ResolvedJail) -> Result<()> {
    let Some(block) = nat::chosen_block(jail) else {
        return Ok(());
    };
    let name = jail.name().as_str();
    let claims = BlockClaims::new(store);
    claims.migrate_once()?;
    match claims.claim(block, name)? {
        Ok(()) => Ok(()),
        Err(other) => Err(pool_error(PoolError::Taken {
            jail: name.to_string(),
            block,
            other,
        })),
    }
}

/// Releases `jail`'s block claim (its block file goes with its directory): `ioc destroy`.
pub fn release(store: &LockedStore<'_>, jail: &JailName) {
    if let Some(block) = kept(store, jail) {
        BlockClaims::new(store).release(block, jail.as_str());
    }
}

/// Moves `old`'s block claims (the block it holds, the one it chose) to `new` (its block file
/// and configuration move with its directory): `ioc rename`, after the directory was renamed.
pub fn renamed(store: &LockedStore<'_>, old: &JailName, new: &JailName) -> Result<()> {
    let claims = BlockClaims::new(store);
    let chosen = store.resolve(new).ok().and_then(|j| nat::chosen_block(&j));
    for block in kept(store, new).into_iter().chain(chosen) {
        claims.moved(block, old.as_str(), new.as_str())?;
    }
    Ok(())
}

fn pool_error(e: PoolError) -> Error {
    Error::Pool(Box::new(e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Settings;

    fn range(text: &str) -> Range {
        Range::parse(text).unwrap()
    }

    fn store_with(jails: &[&str]) -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path());
        {
            let locked = store.lock().unwrap();
            for j in jails {
                locked
                    .create_jail(&JailName::new(j).unwrap(), &Settings::default())
                    .unwrap();
            }
        }
        (dir, store)
    }

    fn take(store: &Store, jail: &str, pool: &str, wanted: Option<&str>) -> Result<Range> {
        let name = JailName::new(jail).unwrap();
        let locked = store.lock().unwrap();
        allocate(
            &locked,
            &Request {
                jail: &name,
                pool: range(pool),
                block_len: 30,
                wanted: wanted.map(range),
            },
        )
    }

    #[test]
    fn blocks_are_unique_kept_and_exhaust_with_a_clear_error() {
        let (_dir, store) = store_with(&["a", "b", "c"]);
        assert_eq!(
            take(&store, "a", "10.9.0.0/29", None).unwrap(),
            range("10.9.0.0/30")
        );
        assert_eq!(
            take(&store, "b", "10.9.0.0/29", None).unwrap(),
            range("10.9.0.4/30")
        );
        // Kept on the next start.
        assert_eq!(
            take(&store, "a", "10.9.0.0/29", None).unwrap(),
            range("10.9.0.0/30")
        );
        let full = take(&store, "c", "10.9.0.0/29", None)
            .unwrap_err()
            .to_string();
        assert!(
            full.contains("jail 'c': no free /30 left in 10.9.0.0/29"),
            "{full}"
        );
        assert!(!store
            .jail_dir(&JailName::new("c").unwrap())
            .join(BLOCK_FILE)
            .exists());
        // Destroy releases.
        store
            .lock()
            .unwrap()
            .destroy_jail(&JailName::new("a").unwrap())
            .unwrap();
        assert_eq!(
            take(&store, "c", "10.9.0.0/29", None).unwrap(),
            range("10.9.0.0/30")
        );
    }

    #[test]
    fn a_wanted_block_is_honoured_or_refused_naming_its_holder() {
        let (_dir, store) = store_with(&["a", "b"]);
        assert_eq!(
            take(&store, "a", "172.16.0.0/16", Some("172.16.3.0/30")).unwrap(),
            range("172.16.3.0/30")
        );
        let err = take(&store, "b", "172.16.0.0/16", Some("172.16.3.0/30"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("already held by jail 'a'"), "{err}");
        // A jail leaving the pool's range gets a new block.
        assert_eq!(
            take(&store, "a", "10.0.0.0/24", None).unwrap(),
            range("10.0.0.0/30")
        );
    }

    #[test]
    fn concurrent_allocations_never_share_a_block() {
        let names: Vec<String> = (0..16).map(|i| format!("j{i}")).collect();
        let refs: Vec<&str> = names.iter().map(String::as_str).collect();
        let (dir, _store) = store_with(&refs);
        let root = dir.path().to_path_buf();
        let threads: Vec<_> = names
            .iter()
            .cloned()
            .map(|jail| {
                let root = root.clone();
                std::thread::spawn(move || {
                    take(&Store::new(root), &jail, "172.16.0.0/16", None).unwrap()
                })
            })
            .collect();
        let mut blocks: Vec<Range> = threads.into_iter().map(|t| t.join().unwrap()).collect();
        blocks.sort();
        blocks.dedup();
        assert_eq!(blocks.len(), 16, "two jails got the same block");
    }

    /// A rename carries the block and its claim: nobody else gets the block meanwhile, and the
    /// jail keeps it under its new name.
    #[test]
    fn a_rename_moves_the_claim() {
        let (_dir, store) = store_with(&["a", "b"]);
        let a = JailName::new("a").unwrap();
        let z = JailName::new("z").unwrap();
        assert_eq!(
            take(&store, "a", "10.9.0.0/29", None).unwrap(),
            range("10.9.0.0/30")
        );
        {
            let locked = store.lock().unwrap();
            locked.rename_jail(&a, &z).unwrap();
        }
        assert_eq!(
            take(&store, "b", "10.9.0.0/29", Some("10.9.0.0/30"))
                .unwrap_err()
                .to_string(),
            "jail 'b': the address block 10.9.0.0/30 is already held by jail 'z'"
        );
        assert_eq!(
            take(&store, "z", "10.9.0.0/29", None).unwrap(),
            range("10.9.0.0/30")
        );
    }

    /// A start killed after claiming a block but before writing the jail's block file leaves a
    /// claim no block file backs: the next allocation takes it over.
    #[test]
    fn a_claim_without_its_block_file_is_taken_over() {
        let (dir, store) = store_with(&["a", "b"]);
        assert_eq!(
            take(&store, "a", "10.9.0.0/29", None).unwrap(),
            range("10.9.0.0/30")
        );
        std::fs::remove_file(
            store
                .jail_dir(&JailName::new("a").unwrap())
                .join(BLOCK_FILE),
        )
        .unwrap();
        std::fs::remove_dir_all(dir.path().join(".pool/hints")).unwrap();
        assert_eq!(
            take(&store, "b", "10.9.0.0/29", None).unwrap(),
            range("10.9.0.0/30")
        );
        // a's next start gets the other block: b's claim is live.
        assert_eq!(
            take(&store, "a", "10.9.0.0/29", None).unwrap(),
            range("10.9.0.4/30")
        );
    }

    /// A jail moving to another pool releases its old block, which the hint then points at.
    #[test]
    fn a_block_left_is_free_again_and_found_first() {
        let (_dir, store) = store_with(&["a", "b", "c"]);
        take(&store, "a", "10.9.0.0/28", None).unwrap();
        take(&store, "b", "10.9.0.0/28", None).unwrap();
        assert_eq!(
            take(&store, "a", "10.8.0.0/28", None).unwrap(),
            range("10.8.0.0/30")
        );
        assert_eq!(
            take(&store, "c", "10.9.0.0/28", None).unwrap(),
            range("10.9.0.0/30")
        );
    }

    /// An address chosen by `ioc create` or `ioc set` is claimed at once: no other jail's first
    /// start takes its block, another jail choosing it is refused naming the first, and a
    /// destroy frees it.
    #[test]
    fn a_chosen_address_is_claimed_before_the_first_start() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path());
        let create = |name: &str, args: &[&str]| {
            let assignments = crate::config::Assignment::parse_all(args, true).unwrap();
            store.create(&JailName::new(name).unwrap(), &assignments)
        };
        let nat = ["vnet=on", "nat=on", "nat_prefix=10.9.0.0/29"];
        let chosen = [&nat[..], &["ip4_addr=vnet0|10.9.0.2/30"]].concat();
        create("db", &chosen).unwrap();
        create("web", &nat).unwrap();
        assert_eq!(
            take(&store, "web", "10.9.0.0/29", None).unwrap(),
            range("10.9.0.4/30")
        );
        let err = create("db2", &chosen).unwrap_err().to_string();
        assert!(
            err.contains("jail 'db2': the address block 10.9.0.0/30 is already held by jail 'db'"),
            "{err}"
        );
        assert!(!store.jail_exists(&JailName::new("db2").unwrap()));
        let set = |args: &[&str], jail: &str| {
            let assignments = crate::config::Assignment::parse_all(args, true).unwrap();
            store.set(&crate::store::Target::parse(jail).unwrap(), &assignments)
        };
        let err = set(&["ip4_addr=vnet0|10.9.0.6/30"], "db")
            .unwrap_err()
            .to_string();
        assert!(err.contains("already held by jail 'web'"), "{err}");
        store
            .lock()
            .unwrap()
            .destroy_jail(&JailName::new("db").unwrap())
            .unwrap();
        create("db2", &chosen).unwrap();
    }

    /// A store whose blocks were allocated before there were claims (block files only, and
    /// the old index): its blocks are claimed once, before the first new allocation.
    #[test]
    fn blocks_from_before_the_claims_are_claimed_first() {
        let (dir, store) = store_with(&["old", "new"]);
        let old = store.jail_dir(&JailName::new("old").unwrap());
        crate::store::fs::write_atomic(&old, BLOCK_FILE, b"10.9.0.0/30\n").unwrap();
        std::fs::write(dir.path().join(".nat-index.json"), "{}").unwrap();
        assert_eq!(
            take(&store, "new", "10.9.0.0/29", None).unwrap(),
            range("10.9.0.4/30")
        );
        assert!(!dir.path().join(".nat-index.json").exists());
        assert_eq!(
            take(&store, "old", "10.9.0.0/29", None).unwrap(),
            range("10.9.0.0/30")
        );
    }
}
