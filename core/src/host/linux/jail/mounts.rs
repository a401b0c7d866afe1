//! The run dir's own mount, and whether a path is a mount point or this process is in a
//! transient mount namespace.

use std::ffi::CStr;
use std::fs::{self, File};
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use nix::mount::{mount, umount2, MntFlags, MsFlags};

use super::cstring;
use super::paths::JailPaths;

/// Makes `run_dir` a private mount: a bind mount of itself that ioc made, private. Cheap when
/// it already is one: one `statx` and a read of a small record, not a read of the whole mount
/// table (which grows with every jail's pins).
///
/// The bind mount is ioc's own even when the run dir is already a mount point of its own (an
/// admin's tmpfs on `/run/ioc`, say): ioc stacks its bind on top and records that mount's ID.
/// The base namespace detaches the run dir's top mount to drop every jail's pins; with ioc's
/// bind on top that reveals the same directory below (the admin's tmpfs, or the parent file
/// system), where detaching the admin's own mount would hide the run dir's contents from every
/// jail. And [`release_run_dir`] unmounts only the mount the record names, never the admin's.
/// Called under the run dir's global lock.
pub fn ensure_private_run_dir(run_dir: &Path) -> io::Result<()> {
    fs::create_dir_all(run_dir)?;
    let real = run_dir.canonicalize()?;
    // Making it private again is idempotent, and it repairs a run dir someone made shared.
    let bind = !(is_mount_point(&real)? && is_own_mount(&real));
    private_mount_of_itself(&real, bind)?;
    if bind {
        record_own_mount(&real)?;
    }
    Ok(())
}

/// The file in the run dir naming the mount ioc made there: the boot and the mount's ID.
const OWN_MOUNT_RECORD: &str = ".own-mount";

/// `STATX_MNT_ID_UNIQUE` (Linux 6.8+): a mount ID never reused while the system runs.
const STATX_MNT_ID_UNIQUE: libc::c_uint = 0x4000;

/// What identifies the mount at `dir` for this boot: the boot ID and the mount's ID (the
/// unique one where the kernel has it), as written in the record.
fn mount_identity(dir: &Path) -> io::Result<String> {
    let boot = fs::read_to_string("/proc/sys/kernel/random/boot_id")?;
    let c_dir = cstring(dir.as_os_str())?;
    let stx = statx(
        &c_dir,
        libc::AT_SYMLINK_NOFOLLOW,
        libc::STATX_MNT_ID | STATX_MNT_ID_UNIQUE,
    )?;
    if stx.stx_mask & (libc::STATX_MNT_ID | STATX_MNT_ID_UNIQUE) == 0 {
        return Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "the kernel does not report mount IDs (statx STATX_MNT_ID, Linux 5.8+)",
        ));
    }
    Ok(format!("{} {}\n", boot.trim(), stx.stx_mnt_id))
}

/// Whether the mount at `dir` is the one ioc recorded making there.
fn is_own_mount(dir: &Path) -> bool {
    match (
        fs::read_to_string(dir.join(OWN_MOUNT_RECORD)),
        mount_identity(dir),
    ) {
        (Ok(recorded), Ok(now)) => recorded == now,
        _ => false,
    }
}

/// Records the mount at `dir` as ioc's (written atomically: a torn record would make the next
/// start stack another bind, harmless but a mount more).
fn record_own_mount(dir: &Path) -> io::Result<()> {
    let identity = mount_identity(dir)?;
    let tmp = dir.join(format!("{OWN_MOUNT_RECORD}.{}.tmp", std::process::id()));
    fs::write(&tmp, identity)?;
    fs::rename(&tmp, dir.join(OWN_MOUNT_RECORD))
}

/// Makes `dir` a private mount: first a bind mount of itself when `bind` (it is not a mount
/// point yet), then private propagation, so mounts made under it stay its own and go with it.
fn private_mount_of_itself(dir: &Path, bind: bool) -> io::Result<()> {
    if bind {
        mount(Some(dir), dir, None::<&str>, MsFlags::MS_BIND, None::<&str>)?;
    }
    mount(
        None::<&str>,
        dir,
        None::<&str>,
        MsFlags::MS_PRIVATE,
        None::<&str>,
    )?;
    Ok(())
}

/// Undoes [`ensure_private_run_dir`] when no jail is left, so an idle ioc leaves no mount (the
/// base namespace pinned in the run dir goes with it). Only ioc's own bind mount goes: a mount
/// the run dir had before (an admin's tmpfs) stays.
pub fn release_run_dir(run_dir: &Path) -> io::Result<()> {
    let jails = run_dir.join("jails");
    let busy = fs::read_dir(&jails)
        .map(|mut d| d.next().is_some())
        .unwrap_or(false);
    if busy {
        return Ok(());
    }
    let real = run_dir.canonicalize()?;
    if is_mount_point(&real)? && is_own_mount(&real) {
        umount2(&real, MntFlags::MNT_DETACH)?;
        // The record is in the directory below too (a bind of itself shows the same one).
        let _ = fs::remove_file(real.join(OWN_MOUNT_RECORD));
    }
    Ok(())
}

/// True when `path` is the root of a mount (statx's STATX_ATTR_MOUNT_ROOT, Linux 5.8+).
/// Whether jail `name`'s namespaces are still pinned (its UTS pin is a mount point). A kernel
/// too old to tell counts as pinned.
pub fn is_pinned(run_dir: &Path, name: &str) -> bool {
    match is_mount_point(&JailPaths::new(run_dir, name).pin("uts")) {
        Ok(mounted) => mounted,
        Err(e) => e.kind() == io::ErrorKind::Unsupported,
    }
}

/// Whether this process's mount namespace is another than PID 1's. Namespace pins are mounts,
/// and live only as long as the mount namespace they were made in: one that `ip netns exec`
/// or `unshare -m` made for this command ends with it, and the jails with it.
///
/// PID 1's namespace link is the direct answer, but the kernel may refuse it from another mount
/// namespace (seen: EACCES for a non-dumpable init). Then the root mounts tell: a copied
/// namespace holds copies of every mount, with new mount IDs, so PID 1's root mount (the first
/// line of its mountinfo, which any process may read) has another ID than ours.
pub fn in_transient_mount_namespace() -> bool {
    let id = |path: &str| fs::metadata(path).map(|m| (m.dev(), m.ino()));
    if let (Ok(own), Ok(init)) = (id("/proc/self/ns/mnt"), id("/proc/1/ns/mnt")) {
        return own != init;
    }
    match (own_root_mount_id(), init_root_mount_id()) {
        (Some(own), Some(init)) => own != init,
        _ => false,
    }
}

/// The mount ID of this process's root (statx `STATX_MNT_ID`, Linux 5.8+).
fn own_root_mount_id() -> Option<u64> {
    let stx = statx(c"/", 0, libc::STATX_MNT_ID).ok()?;
    (stx.stx_mask & libc::STATX_MNT_ID != 0).then_some(stx.stx_mnt_id)
}

/// `statx(2)` of `path`, asking for `mask`.
fn statx(path: &CStr, flags: libc::c_int, mask: libc::c_uint) -> io::Result<libc::statx> {
    // SAFETY: libc::statx is a plain C struct of integers, for which all zeroes is a valid
    // value; the call below fills it.
    let mut stx: libc::statx = unsafe { std::mem::zeroed() };
    // SAFETY: `path` is a NUL-terminated C string and `stx` a live, writable statx; the kernel
    // keeps neither pointer past the call.
    let rc = unsafe { libc::statx(libc::AT_FDCWD, path.as_ptr(), flags, mask, &mut stx) };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(stx)
}

/// The mount ID of PID 1's root: the first mountinfo line whose mount point is `/`. Reads only
/// up to that line (among the first few, normally), not the whole table.
///
/// In small reads: the kernel formats as many mountinfo lines as the read asks for, and the
/// table holds three pins per running jail, so the 8 KiB of a default buffer cost some 100 µs
/// (measured with 1,000 mounts) where the lines up to `/` take 512 bytes or so. This runs on
/// each start where PID 1's namespace link is refused (a container without CAP_SYS_PTRACE).
fn init_root_mount_id() -> Option<u64> {
    use std::io::BufRead;
    let file = File::open("/proc/1/mountinfo").ok()?;
    std::io::BufReader::with_capacity(MOUNTINFO_READ, file)
        .lines()
        .take(64)
        .map_while(Result::ok)
        .find_map(|line| {
            let mut fields = line.split(' ');
            let id = fields.next()?.parse().ok()?;
            (fields.nth(3)? == "/").then_some(id)
        })
}

/// The read size for [`init_root_mount_id`].
const MOUNTINFO_READ: usize = 512;

fn is_mount_point(path: &Path) -> io::Result<bool> {
    let c_path = cstring(path.as_os_str())?;
    let stx = statx(&c_path, libc::AT_SYMLINK_NOFOLLOW, libc::STATX_BASIC_STATS)?;
    let flag = libc::STATX_ATTR_MOUNT_ROOT as u64;
    if stx.stx_attributes_mask & flag == 0 {
        return Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "the kernel does not report mount points (statx STATX_ATTR_MOUNT_ROOT, Linux 5.8+)",
        ));
    }
    Ok(stx.stx_attributes & flag != 0)
}
