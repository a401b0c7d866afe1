//! A Linux jail: new mount + UTS (+ network, for VNET) namespaces, pinned by bind mounts.
//!
//! The pins live in `<run>/jails/<name>/ns/{mnt,uts,net}`. A shared-IP jail pins the network
//! namespace it was started from, so `ioc exec` lands in the right stack even when called from
//! elsewhere. The run dir is made a private mount first: a mount-namespace file may only be
//! pinned on a mount that does not propagate (otherwise the namespace could end up holding a
//! reference to itself). Jails' mount namespaces are made from a base namespace without the
//! run dir's mounts (see [`ensure_base_namespace`]), so no jail holds another one's namespaces.

use std::ffi::{CStr, CString, OsStr};
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::thread::sleep;
use std::time::{Duration, Instant};

use nix::mount::{mount, umount2, MntFlags, MsFlags};
use nix::sched::{setns, CloneFlags};
use nix::sys::signal::{kill, Signal};
use nix::sys::wait::waitpid;
use nix::unistd::{fork, ForkResult, Pid};

use crate::step::{JailParams, LINUX_JAIL_NET_SYSCTLS};
use crate::store::fs::{replace_file, Durability};

/// The namespace kinds a jail pins, with the `/proc/PID/ns` entry and setns flag of each.
const KINDS: [(&str, CloneFlags); 3] = [
    ("net", CloneFlags::CLONE_NEWNET),
    ("uts", CloneFlags::CLONE_NEWUTS),
    ("mnt", CloneFlags::CLONE_NEWNS),
];

/// How long a stop waits for SIGTERM before sending SIGKILL.
const TERM_GRACE: Duration = Duration::from_secs(5);

/// Paths of one jail's runtime state.
#[derive(Clone, Debug)]
pub struct JailPaths {
    pub dir: PathBuf,
}

impl JailPaths {
    pub fn new(run_dir: &Path, name: &str) -> JailPaths {
        JailPaths {
            dir: run_dir.join("jails").join(name),
        }
    }
    pub fn ns_dir(&self) -> PathBuf {
        self.dir.join("ns")
    }
    pub fn pin(&self, kind: &str) -> PathBuf {
        self.ns_dir().join(kind)
    }
    pub fn resolv_conf(&self) -> PathBuf {
        self.dir.join("resolv.conf")
    }
}

/// Open handles on a jail's namespaces.
#[derive(Debug)]
pub struct JailNs {
    pub net: OwnedFd,
    pub uts: OwnedFd,
    pub mnt: OwnedFd,
}

impl JailNs {
    /// Opens the pins of a running jail.
    pub fn open(paths: &JailPaths) -> io::Result<JailNs> {
        let open = |kind: &str| -> io::Result<OwnedFd> {
            File::open(paths.pin(kind)).map(OwnedFd::from).map_err(|e| {
                io::Error::new(e.kind(), format!("{}: {e}", paths.pin(kind).display()))
            })
        };
        let ns = JailNs {
            net: open("net")?,
            uts: open("uts")?,
            mnt: open("mnt")?,
        };
        // An unmounted pin is an empty regular file, not a namespace: the jail is gone.
        ns_inode(ns.mnt.as_fd())?;
        Ok(ns)
    }

    /// Enters all of the jail's namespaces on the calling thread. Must run in a single-threaded
    /// process (setns of a mount namespace requires it), e.g. a forked child.
    pub fn enter(&self) -> nix::Result<()> {
        setns(self.net.as_fd(), CloneFlags::CLONE_NEWNET)?;
        setns(self.uts.as_fd(), CloneFlags::CLONE_NEWUTS)?;
        setns(self.mnt.as_fd(), CloneFlags::CLONE_NEWNS)
    }

    /// A `Command` that starts inside the jail.
    pub fn command(&self, program: impl AsRef<OsStr>) -> Command {
        let mut cmd = Command::new(program);
        let (net, uts, mnt) = (
            self.net.as_raw_fd(),
            self.uts.as_raw_fd(),
            self.mnt.as_raw_fd(),
        );
        // SAFETY: runs in the forked child before exec; setns is async-signal-safe and the fds
        // stay open in the parent until spawn returns.
        unsafe {
            cmd.pre_exec(move || {
                for (fd, flag) in [
                    (net, libc::CLONE_NEWNET),
                    (uts, libc::CLONE_NEWUTS),
                    (mnt, libc::CLONE_NEWNS),
                ] {
                    if libc::setns(fd, flag) != 0 {
                        return Err(io::Error::last_os_error());
                    }
                }
                Ok(())
            });
        }
        cmd
    }
}

/// The namespace inode behind an fd; fails for anything that is not a namespace.
fn ns_inode(fd: BorrowedFd<'_>) -> io::Result<u64> {
    let st = nix::sys::stat::fstat(fd)?;
    let nsfs_dev = fs::metadata("/proc/self/ns/net")?.dev();
    if st.st_dev != nsfs_dev {
        return Err(io::Error::new(
            io::ErrorKind::NotFound,
            "namespace pin is not mounted",
        ));
    }
    Ok(st.st_ino)
}

/// Makes `run_dir` a private mount (a bind mount of itself). Cheap when it already is one:
/// whether it is a mount point is one `statx`, not a read of the whole mount table (which grows
/// with every jail's pins).
pub fn ensure_private_run_dir(run_dir: &Path) -> io::Result<()> {
    fs::create_dir_all(run_dir)?;
    let real = run_dir.canonicalize()?;
    if !is_mount_point(&real)? {
        mount(
            Some(&real),
            &real,
            None::<&str>,
            MsFlags::MS_BIND,
            None::<&str>,
        )?;
    }
    // Idempotent, and it repairs a run dir someone made shared.
    mount(
        None::<&str>,
        &real,
        None::<&str>,
        MsFlags::MS_PRIVATE,
        None::<&str>,
    )?;
    Ok(())
}

/// Undoes [`ensure_private_run_dir`] when no jail is left, so an idle ioc leaves no mount (the
/// base namespace pinned in the run dir goes with it).
pub fn release_run_dir(run_dir: &Path) -> io::Result<()> {
    let jails = run_dir.join("jails");
    let busy = fs::read_dir(&jails)
        .map(|mut d| d.next().is_some())
        .unwrap_or(false);
    if busy {
        return Ok(());
    }
    let real = run_dir.canonicalize()?;
    if is_mount_point(&real)? {
        umount2(&real, MntFlags::MNT_DETACH)?;
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
    // SAFETY: a zeroed statx is a valid buffer, which the call fills.
    let mut stx: libc::statx = unsafe { std::mem::zeroed() };
    // SAFETY: the path is a valid C string and `stx` outlives the call.
    let rc = unsafe { libc::statx(libc::AT_FDCWD, path.as_ptr(), flags, mask, &mut stx) };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(stx)
}

/// The mount ID of PID 1's root: the first mountinfo line whose mount point is `/`. Reads only
/// up to that line (the first, normally), not the whole table.
fn init_root_mount_id() -> Option<u64> {
    use std::io::BufRead;
    let file = File::open("/proc/1/mountinfo").ok()?;
    std::io::BufReader::new(file)
        .lines()
        .take(64)
        .map_while(Result::ok)
        .find_map(|line| {
            let mut fields = line.split(' ');
            let id = fields.next()?.parse().ok()?;
            (fields.nth(3)? == "/").then_some(id)
        })
}

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

/// Where the base mount namespace is pinned.
fn base_pin(run_dir: &Path) -> PathBuf {
    run_dir.join("base.mnt")
}

/// The mount namespace new jails are made from: the host's mounts (following the host's
/// changes, as a slave) without the run dir's mounts. Copying a mount namespace copies every
/// mount in it, and the host's holds three pins per running jail; made from this one instead,
/// a jail's namespace costs the same with 1 or 1000 jails running, and never holds another
/// jail's namespaces. Created once, pinned in the run dir; must be called under the run dir's
/// global lock, after [`ensure_private_run_dir`].
pub fn ensure_base_namespace(run_dir: &Path) -> io::Result<OwnedFd> {
    let pin = base_pin(run_dir);
    if let Ok(file) = File::open(&pin) {
        let fd = OwnedFd::from(file);
        if ns_inode(fd.as_fd()).is_ok() {
            return Ok(fd);
        }
    }
    OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(&pin)?;
    let plan = ChildPlan {
        base: None,
        flags: libc::CLONE_NEWNS,
        hostname: None,
        resolv: None,
        hide: Some(cstring(run_dir.canonicalize()?.as_os_str())?),
        jail_network: false,
        sysctls: Vec::new(),
    };
    spawn_pinned(&plan, &[("mnt", pin.clone())])
        .map_err(|e| io::Error::new(e.kind(), format!("base mount namespace: {e}")))?;
    Ok(OwnedFd::from(File::open(&pin)?))
}

/// Everything the forked child needs, prepared before the fork so the child allocates nothing.
struct ChildPlan {
    /// Mount namespace to start from (the base), instead of the caller's.
    base: Option<libc::c_int>,
    flags: libc::c_int,
    hostname: Option<CString>,
    resolv: Option<(CString, CString)>,
    /// A mount to detach in the new namespace (the run dir, for the base namespace).
    hide: Option<CString>,
    /// A jail's own network stack: its own /sys.
    jail_network: bool,
    /// `/proc/sys` files and values to write in the new network namespace.
    sysctls: Vec<(CString, &'static str)>,
}

/// Step codes the child reports when it fails, for the error message.
const CHILD_STEPS: [&str; 7] = [
    "enter the base mount namespace",
    "unshare",
    "make / a slave mount",
    "set the hostname",
    "mount the jail's resolv.conf",
    "hide the run dir",
    "signal readiness",
];

/// Creates the jail's namespaces (from `base`, see [`ensure_base_namespace`]) and pins them.
/// On failure nothing is left behind. The run dir must already be a private mount.
pub fn create(run_dir: &Path, base: BorrowedFd<'_>, params: &JailParams) -> io::Result<()> {
    let paths = JailPaths::new(run_dir, &params.name);
    fs::create_dir_all(paths.ns_dir())?;
    let result = create_pinned(&paths, base, params);
    if result.is_err() {
        let _ = unpin(&paths);
    }
    result
}

fn create_pinned(paths: &JailPaths, base: BorrowedFd<'_>, params: &JailParams) -> io::Result<()> {
    for (kind, _) in KINDS {
        OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(paths.pin(kind))?;
    }
    let resolv = match &params.resolv_conf {
        Some(content) => {
            // Runtime state, gone at reboot: no fsync.
            replace_file(
                &paths.resolv_conf(),
                content.as_bytes(),
                0o644,
                Durability::Volatile,
            )?;
            Some((
                cstring(paths.resolv_conf().as_os_str())?,
                cstring(OsStr::new("/etc/resolv.conf"))?,
            ))
        }
        None => None,
    };
    let mut flags = libc::CLONE_NEWNS | libc::CLONE_NEWUTS;
    if params.vnet {
        flags |= libc::CLONE_NEWNET;
    }
    let plan = ChildPlan {
        base: Some(base.as_raw_fd()),
        flags,
        hostname: Some(cstring(OsStr::new(&params.hostname))?),
        resolv,
        hide: None,
        jail_network: params.vnet,
        sysctls: if params.vnet {
            jail_net_sysctls()?
        } else {
            Vec::new()
        },
    };
    let pins: Vec<(&str, PathBuf)> = KINDS
        .iter()
        .map(|(kind, _)| (*kind, paths.pin(kind)))
        .collect();
    spawn_pinned(&plan, &pins)
}

/// [`LINUX_JAIL_NET_SYSCTLS`] as `/proc/sys` paths, made before the fork (the child may not
/// allocate).
fn jail_net_sysctls() -> io::Result<Vec<(CString, &'static str)>> {
    LINUX_JAIL_NET_SYSCTLS
        .iter()
        .map(|(key, value)| {
            let path = format!("/proc/sys/{}", key.replace('.', "/"));
            Ok((cstring(OsStr::new(&path))?, *value))
        })
        .collect()
}

/// Forks a child that builds namespaces as `plan` says, and pins the child's namespaces of
/// each kind onto the given files before letting it exit.
///
/// The kernel pins a mount namespace only into an older one: it compares namespace IDs, to
/// rule out reference loops. Since Linux 6.18 those IDs come from per-CPU batches, so a
/// namespace made on one CPU can carry a lower ID than an older one made on another. From the
/// first mount namespace (ID 1) that never matters; from a later one (ioc run in an
/// `ip netns exec` shell) the pin then fails with EINVAL now and then. So the namespaces are
/// made again with the child on each CPU in turn: the CPU that made the caller's namespace
/// hands out higher IDs from then on.
fn spawn_pinned(plan: &ChildPlan, pins: &[(&str, PathBuf)]) -> io::Result<()> {
    let mut result = spawn_pinned_on(plan, pins, None);
    for cpu in allowed_cpus() {
        if !matches!(result, Err(PinError::OlderNamespace(_))) {
            break;
        }
        tracing::debug!("the kernel refused to pin the new mount namespace; again on CPU {cpu}");
        result = spawn_pinned_on(plan, pins, Some(cpu));
    }
    result.map_err(|e| match e {
        PinError::OlderNamespace(e) => io::Error::other(format!(
            "pin mnt namespace: {e} (the kernel found this mount namespace newer than the jail's on every CPU)"
        )),
        PinError::Other(e) => e,
    })
}

/// Why pinning failed: the kernel's loop check, which another try may pass, or anything else.
enum PinError {
    OlderNamespace(nix::errno::Errno),
    Other(io::Error),
}

impl From<io::Error> for PinError {
    fn from(e: io::Error) -> PinError {
        PinError::Other(e)
    }
}

/// The CPUs this process may run on.
fn allowed_cpus() -> Vec<usize> {
    use nix::sched::{sched_getaffinity, CpuSet};
    let Ok(set) = sched_getaffinity(Pid::from_raw(0)) else {
        return Vec::new();
    };
    (0..CpuSet::count())
        .filter(|&cpu| set.is_set(cpu).unwrap_or(false))
        .collect()
}

/// One try of [`spawn_pinned`], with the child on `cpu` if given. A failed try leaves no pin.
fn spawn_pinned_on(
    plan: &ChildPlan,
    pins: &[(&str, PathBuf)],
    cpu: Option<usize>,
) -> Result<(), PinError> {
    let cpu_set = cpu.map(|cpu| {
        // SAFETY: a zeroed cpu_set_t is the empty set.
        let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
        // SAFETY: CPU_SET only writes inside the set.
        unsafe { libc::CPU_SET(cpu, &mut set) };
        set
    });
    let (ready_r, ready_w) = pipe()?;
    let (go_r, go_w) = pipe()?;
    // SAFETY: the child only makes raw syscalls on data prepared above, then _exits.
    match unsafe { fork() }.map_err(io::Error::from)? {
        ForkResult::Child => {
            drop(ready_r);
            drop(go_w);
            if let Some(set) = &cpu_set {
                // SAFETY: a plain syscall on a set prepared before the fork. Best effort.
                unsafe { libc::sched_setaffinity(0, std::mem::size_of_val(set), set) };
            }
            let code = child_main(plan, ready_w.as_raw_fd(), go_r.as_raw_fd());
            unsafe { libc::_exit(code) }
        }
        ForkResult::Parent { child } => {
            drop(ready_w);
            drop(go_r);
            let result = pin_child(pins, child, ready_r);
            if result.is_err() {
                for (_, pin) in pins {
                    let _ = umount2(pin, MntFlags::MNT_DETACH);
                }
            }
            drop(go_w); // lets the child exit
            let _ = waitpid(child, None);
            result
        }
    }
}

/// Waits for the child to have its namespaces, then bind-mounts them onto the pins.
fn pin_child(pins: &[(&str, PathBuf)], child: Pid, ready: OwnedFd) -> Result<(), PinError> {
    let mut status = [0u8; 2];
    File::from(ready)
        .read_exact(&mut status)
        .map_err(|_| io::Error::other("the namespace helper process died before it was ready"))?;
    if status[0] != 0 {
        let step = CHILD_STEPS
            .get(usize::from(status[0]) - 1)
            .unwrap_or(&"set up");
        let errno = nix::errno::Errno::from_raw(i32::from(status[1]));
        return Err(PinError::Other(io::Error::new(
            io::Error::from(errno).kind(),
            format!("could not {step} for the jail: {errno}"),
        )));
    }
    for (kind, pin) in pins {
        let source = PathBuf::from(format!("/proc/{child}/ns/{kind}"));
        match mount(
            Some(&source),
            pin,
            None::<&str>,
            MsFlags::MS_BIND,
            None::<&str>,
        ) {
            Ok(()) => {}
            Err(e @ nix::errno::Errno::EINVAL) if *kind == "mnt" => {
                return Err(PinError::OlderNamespace(e))
            }
            Err(e) => {
                return Err(PinError::Other(io::Error::other(format!(
                    "pin {kind} namespace: {e}"
                ))))
            }
        }
    }
    Ok(())
}

/// The forked child: new namespaces, hostname, private resolv.conf, fresh /sys. Returns the
/// exit code. Only raw syscalls: the parent may have had other threads.
fn child_main(plan: &ChildPlan, ready: libc::c_int, go: libc::c_int) -> libc::c_int {
    let report = |step: u8| {
        let errno = if step == 0 {
            0
        } else {
            nix::errno::Errno::last_raw() as u8
        };
        let buf = [step, errno];
        // SAFETY: writing a stack buffer to a pipe fd we own.
        unsafe { libc::write(ready, buf.as_ptr().cast(), 2) };
    };
    // SAFETY (whole block): plain syscalls with pointers to CStrings that live in `plan`.
    unsafe {
        if let Some(base) = plan.base {
            if libc::setns(base, libc::CLONE_NEWNS) != 0 || libc::chdir(c"/".as_ptr()) != 0 {
                report(1);
                return 1;
            }
        }
        if libc::unshare(plan.flags) != 0 {
            report(2);
            return 1;
        }
        if libc::mount(
            std::ptr::null(),
            c"/".as_ptr(),
            std::ptr::null(),
            libc::MS_REC | libc::MS_SLAVE,
            std::ptr::null(),
        ) != 0
        {
            report(3);
            return 1;
        }
        if let Some(hostname) = &plan.hostname {
            let name = hostname.as_bytes();
            if libc::sethostname(name.as_ptr().cast(), name.len()) != 0 {
                report(4);
                return 1;
            }
        }
        if let Some((source, target)) = &plan.resolv {
            if libc::mount(
                source.as_ptr(),
                target.as_ptr(),
                std::ptr::null(),
                libc::MS_BIND,
                std::ptr::null(),
            ) != 0
            {
                report(5);
                return 1;
            }
        }
        if let Some(hide) = &plan.hide {
            if libc::umount2(hide.as_ptr(), libc::MNT_DETACH) != 0 {
                report(6);
                return 1;
            }
        }
        if plan.jail_network {
            // Best effort: a kernel without optimistic DAD lacks those files, and the jail
            // still works (see `LINUX_JAIL_NET_SYSCTLS`).
            for (path, value) in &plan.sysctls {
                let fd = libc::open(path.as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC);
                if fd >= 0 {
                    libc::write(fd, value.as_ptr().cast(), value.len());
                    libc::close(fd);
                }
            }
            // /sys shows the network devices of the namespace that mounted it. Best effort:
            // a jail without its own /sys still works.
            let sys = c"/sys";
            if libc::umount2(sys.as_ptr(), libc::MNT_DETACH) == 0 {
                libc::mount(
                    c"sysfs".as_ptr(),
                    sys.as_ptr(),
                    c"sysfs".as_ptr(),
                    0,
                    std::ptr::null(),
                );
            }
        }
        report(0);
        let mut byte = 0u8;
        libc::read(go, (&mut byte as *mut u8).cast(), 1);
    }
    0
}

fn pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0; 2];
    // SAFETY: pipe2 fills two fds we then own.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: both fds are fresh and owned by nobody else.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

fn cstring(s: &OsStr) -> io::Result<CString> {
    CString::new(s.as_bytes())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "NUL byte in path or name"))
}

/// Processes living in the jail: in its mount namespace or (VNET) its network namespace.
pub fn processes(ns: &JailNs, vnet: bool) -> io::Result<Vec<Pid>> {
    let mnt = ns_inode(ns.mnt.as_fd())?;
    let net = if vnet {
        Some(ns_inode(ns.net.as_fd())?)
    } else {
        None
    };
    let own = std::process::id();
    let mut pids = Vec::new();
    for entry in fs::read_dir("/proc")?.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<i32>().ok())
        else {
            continue;
        };
        if pid as u32 == own {
            continue;
        }
        let inode = |kind: &str| {
            fs::metadata(entry.path().join("ns").join(kind))
                .ok()
                .map(|m| m.ino())
        };
        if inode("mnt") == Some(mnt) || (net.is_some() && inode("net") == net) {
            pids.push(Pid::from_raw(pid));
        }
    }
    Ok(pids)
}

/// Ends the jail's processes (SIGTERM, then SIGKILL after a grace period; SIGKILL at once when
/// forced) and removes the pins. A jail whose pins are already gone is not an error.
pub fn remove(run_dir: &Path, params: &JailParams, force: bool) -> io::Result<()> {
    let paths = JailPaths::new(run_dir, &params.name);
    if let Ok(ns) = JailNs::open(&paths) {
        terminate(&ns, params.vnet, force)?;
    }
    unpin(&paths)
}

fn terminate(ns: &JailNs, vnet: bool, force: bool) -> io::Result<()> {
    let first = if force {
        Signal::SIGKILL
    } else {
        Signal::SIGTERM
    };
    let mut pids = processes(ns, vnet)?;
    for pid in &pids {
        let _ = kill(*pid, first);
    }
    let deadline = Instant::now()
        + if force {
            Duration::from_secs(2)
        } else {
            TERM_GRACE
        };
    let mut escalated = force;
    while !pids.is_empty() {
        sleep(Duration::from_millis(20));
        pids = processes(ns, vnet)?;
        if Instant::now() >= deadline {
            if escalated {
                return Err(io::Error::other(format!(
                    "{} process(es) of the jail survived SIGKILL",
                    pids.len()
                )));
            }
            for pid in &pids {
                let _ = kill(*pid, Signal::SIGKILL);
            }
            escalated = true;
        }
    }
    Ok(())
}

/// Unmounts and deletes the pins and the resolv.conf copy.
fn unpin(paths: &JailPaths) -> io::Result<()> {
    for (kind, _) in KINDS {
        let pin = paths.pin(kind);
        match umount2(&pin, MntFlags::MNT_DETACH) {
            Ok(()) | Err(nix::errno::Errno::EINVAL) | Err(nix::errno::Errno::ENOENT) => {}
            Err(e) => return Err(io::Error::other(format!("unmount {}: {e}", pin.display()))),
        }
        match fs::remove_file(&pin) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
    }
    match fs::remove_dir(paths.ns_dir()) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
        _ => {}
    }
    match fs::remove_file(paths.resolv_conf()) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}
