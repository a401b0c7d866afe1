//! Creating namespaces: a forked child enters new namespaces, and the parent pins them with
//! bind mounts before letting the child exit. Used for each jail, and once for the base mount
//! namespace jails are made from.
//!
//! A jail with its own root (`path`) also gets a PID namespace: the child forks the jail's init
//! into it (see `init` and `rootfs`), which builds the root and pivots; the parent pins the
//! init's namespaces, PID included, and only then tells it to go on. Both report on the same
//! pipe, in messages of 6 bytes (`INIT_*` tags), so nothing interleaves.

use std::ffi::{CString, OsStr};
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use nix::mount::{mount, umount2, MntFlags, MsFlags};
use nix::unistd::{fork, ForkResult, Pid};

use super::paths::{ns_inode, JailPaths};
use super::rootfs::RootPlan;
use super::sysfs::SysfsPending;
use super::terminate::unpin;
use super::{cstring, init_start, INIT_FAILED, INIT_READY, INIT_STARTED, KINDS, PID_KIND};
use crate::step::JailParams;
use crate::store::fs::{replace_file, Durability};

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
        root: None,
    };
    spawn_pinned(plan, &[("mnt", pin.clone())])
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
    /// A jail's own network stack: its own /sys (see [`ChildPlan::own_sysfs`]).
    jail_network: bool,
    /// Sysctl files (relative to a proc root) and values to write in the new network
    /// namespace (see [`super::sysctl`]).
    sysctls: super::sysctl::Sysctls,
    /// The jail's own root: the child then starts the jail's init in a new PID namespace,
    /// which builds the root and pivots into it (see [`super::init_start`]).
    root: Option<RootPlan>,
}

impl ChildPlan {
    /// Whether the helper mounts the jail's sysfs (see [`super::sysfs`]): for a jail with a
    /// network stack of its own and no root of its own, whose init mounts its own.
    fn own_sysfs(&self) -> bool {
        self.jail_network && self.root.is_none()
    }
}

/// Step codes the child reports when it fails, for the error message.
const CHILD_STEPS: [&str; 8] = [
    "enter the base mount namespace",
    "unshare",
    "make / a slave mount",
    "set the hostname",
    "mount the jail's resolv.conf",
    "hide the run dir",
    "signal readiness",
    "start the jail's init",
];

/// Creates the jail's namespaces (from `base`, see [`ensure_base_namespace`]) and pins them.
/// On failure nothing is left behind. The run dir must already be a private mount. A VNET jail
/// may get its sysfs a moment later: wait for the [`SysfsPending`] returned before anything
/// runs in the jail and before its start is done.
pub fn create(
    run_dir: &Path,
    base: BorrowedFd<'_>,
    params: &JailParams,
) -> io::Result<Option<SysfsPending>> {
    let paths = JailPaths::new(run_dir, &params.name);
    fs::create_dir_all(paths.ns_dir())?;
    let result = mount_ns_dir(&paths).and_then(|()| create_pinned(&paths, base, params));
    if result.is_err() {
        let _ = unpin(&paths);
    }
    result
}

/// Makes the jail's `ns` dir a mount of its own, so the pins inside are its submounts and a
/// stop unmounts them all with one `umount` (see `unpin`): every unmount waits for an RCU grace
/// period, one per pin when each is unmounted alone.
///
/// The mount is a tiny tmpfs, not a bind mount of the dir itself: a bind mount makes the
/// kernel look at every other mount on the run dir's mount (`has_locked_children`, one per
/// running jail: 0.4 ms a start at 1,000 jails, cold), while a new tmpfs looks at none. It is
/// private like every mount made on the private run dir (see
/// [`super::mounts::ensure_private_run_dir`]), and it holds only the empty pin files.
fn mount_ns_dir(paths: &JailPaths) -> io::Result<()> {
    mount(
        Some("ioc-ns"),
        &paths.ns_dir(),
        Some("tmpfs"),
        MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC,
        Some("mode=0700,size=4k,nr_inodes=16"),
    )
    .map_err(|e| {
        let kind = io::Error::from(e).kind();
        io::Error::new(kind, format!("mount {}: {e}", paths.ns_dir().display()))
    })
}

fn create_pinned(
    paths: &JailPaths,
    base: BorrowedFd<'_>,
    params: &JailParams,
) -> io::Result<Option<SysfsPending>> {
    let mut kinds: Vec<&str> = KINDS.iter().map(|(kind, _)| *kind).collect();
    if params.root.is_some() {
        kinds.push(PID_KIND);
    }
    for kind in &kinds {
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
    let root = match &params.root {
        Some(root) => {
            flags |= libc::CLONE_NEWPID;
            let copy = params.resolv_conf.as_ref().map(|_| paths.resolv_conf());
            Some(RootPlan::new(root, copy.as_deref())?)
        }
        None => None,
    };
    // A jail with its own root gets resolv.conf inside it, from its init.
    let resolv = if root.is_some() { None } else { resolv };
    let plan = ChildPlan {
        base: Some(base.as_raw_fd()),
        flags,
        hostname: Some(cstring(OsStr::new(&params.hostname))?),
        resolv,
        hide: None,
        jail_network: params.vnet,
        sysctls: if params.vnet {
            super::sysctl::jail_net_sysctls()?
        } else {
            Vec::new()
        },
        root,
    };
    let pins: Vec<(&str, PathBuf)> = kinds.iter().map(|kind| (*kind, paths.pin(kind))).collect();
    spawn_pinned(plan, &pins)
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
fn spawn_pinned(plan: ChildPlan, pins: &[(&str, PathBuf)]) -> io::Result<Option<SysfsPending>> {
    // Shared with the helpers, which may read it until they are reaped (see `vm_child`).
    let plan = Arc::new(plan);
    let plan = &plan;
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
    plan: &Arc<ChildPlan>,
    pins: &[(&str, PathBuf)],
    cpu: Option<usize>,
) -> Result<Option<SysfsPending>, PinError> {
    let cpu_set = cpu.map(|cpu| {
        // SAFETY: cpu_set_t is a plain bit array, for which all zeroes is a valid value (the
        // empty set).
        let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
        // SAFETY: CPU_SET writes one bit of the set it is given, a live local; `cpu` comes from
        // `allowed_cpus`, below `CpuSet::count()`, the set's size (and libc checks the index).
        unsafe { libc::CPU_SET(cpu, &mut set) };
        set
    });
    super::reap::reap_exited();
    let (ready_r, ready_w) = pipe()?;
    let (go_r, go_w) = pipe()?;
    let helper = Helper {
        plan: Arc::clone(plan),
        ready: ready_w.as_raw_fd(),
        go: go_r.as_raw_fd(),
        parent_ends: [ready_r.as_raw_fd(), go_w.as_raw_fd()],
        cpu_set,
    };
    let (child, running) = if plan.root.is_none() {
        // SAFETY: `helper_main` keeps to what `vm_child::spawn` asks: raw syscalls on the
        // helper's own data (see `child_main`); this thread reads no `errno` while waiting for
        // the helper's report, and after it the helper sets none but on a failed close.
        let (child, running) = unsafe { crate::host::linux::vm_child::spawn(helper, helper_main) }?;
        (child, Some(running))
    } else {
        // A jail with its own root: its init, forked by the helper, lives on as the jail's
        // PID 1, so it gets a copy of the address space of its own.
        // SAFETY: ioc may have other threads, so the child may only do what is
        // async-signal-safe until it exits: it closes fds, makes raw syscalls on data prepared
        // before the fork (no allocation, no lock), and leaves with `_exit`, never returning
        // into Rust code that could run destructors or unwind.
        match unsafe { fork() }.map_err(io::Error::from)? {
            ForkResult::Child => {
                let code = helper_main(&helper);
                // SAFETY: `_exit` ends the forked child at once, without running atexit
                // handlers or destructors that belong to the parent's state; it is
                // async-signal-safe.
                unsafe { libc::_exit(code) }
            }
            ForkResult::Parent { child } => (child, None),
        }
    };
    drop(ready_w);
    drop(go_r);
    let mut ready = File::from(ready_r);
    let mut result = await_ready(&mut ready, child, plan.root.as_ref())
        .and_then(|pinned| pin_child(pins, pinned).map(|()| pinned));
    if plan.root.is_some() {
        // The jail's init runs on once told to; without the byte it leaves.
        if let Ok(init) = result {
            if let Err(e) = (&File::from(go_w)).write_all(&[1]) {
                let _ = nix::sys::signal::kill(init, nix::sys::signal::Signal::SIGKILL);
                result = Err(PinError::Other(e));
            }
        }
    } else {
        // Lets the child exit. A byte, not only the close: a child forked meanwhile by
        // another thread of ioc (a concurrent bulk start) holds a copy of `go_w` too.
        let _ = File::from(go_w).write_all(&[0]);
    }
    if result.is_err() {
        for (_, pin) in pins {
            let _ = umount2(pin, MntFlags::MNT_DETACH);
        }
    }
    // Its exit (proc instance, for a forked one its address space) is reaped later, off the
    // start's path; so is the stack of one sharing ioc's memory.
    super::reap::reap_later(child, running);
    // The rest of the pipe is the helper's report on the jail's sysfs, mounted meanwhile.
    result.map(|_| plan.own_sysfs().then(|| SysfsPending(ready)))
}

/// What a helper gets: the plan, its ends of the two pipes, the parent's ends (which it
/// closes in its own file table, so that a parent killed before telling it to go leaves it
/// reading end-of-file rather than waiting forever), and the CPU to run on.
struct Helper {
    plan: Arc<ChildPlan>,
    ready: libc::c_int,
    go: libc::c_int,
    parent_ends: [libc::c_int; 2],
    cpu_set: Option<libc::cpu_set_t>,
}

/// The helper process: only raw syscalls (see [`child_main`]). Returns the exit code.
fn helper_main(helper: &Helper) -> libc::c_int {
    for fd in helper.parent_ends {
        // SAFETY: closes the child's own copy of a pipe end; the parent's stays open.
        unsafe { libc::close(fd) };
    }
    if let Some(set) = &helper.cpu_set {
        // SAFETY: a raw syscall reading `size_of_val(set)` bytes from a set prepared before
        // the child started, alive for the call. Best effort: its result is ignored.
        unsafe { libc::sched_setaffinity(0, std::mem::size_of_val(set), set) };
    }
    child_main(&helper.plan, helper.ready, helper.go)
}

/// Waits for the child to have its namespaces (and, for a jail with its own root, for its
/// init to have built the root); the process whose namespaces to pin.
fn await_ready(ready: &mut File, child: Pid, root: Option<&RootPlan>) -> Result<Pid, PinError> {
    let died = || io::Error::other("the namespace helper process died before it was ready");
    let mut status = [0u8; 2];
    ready.read_exact(&mut status).map_err(|_| died())?;
    if status[0] == 0 {
        return Ok(child);
    }
    let errno = nix::errno::Errno::from_raw(i32::from(status[1]));
    let (Some(root), INIT_STARTED | INIT_READY | INIT_FAILED) = (root, status[0]) else {
        let step = CHILD_STEPS
            .get(usize::from(status[0]) - 1)
            .unwrap_or(&"set up");
        return Err(PinError::Other(io::Error::new(
            io::Error::from(errno).kind(),
            format!("could not {step} for the jail: {errno}"),
        )));
    };
    // Two messages, from the helper and from the init, in either order.
    let mut init = None;
    let mut message = [status[0], status[1], 0, 0, 0, 0];
    ready.read_exact(&mut message[2..]).map_err(|_| died())?;
    for second in [false, true] {
        let errno = nix::errno::Errno::from_raw(i32::from(message[1]));
        match message[0] {
            INIT_STARTED => {
                let pid = i32::from_le_bytes([message[2], message[3], message[4], message[5]]);
                init = Some(Pid::from_raw(pid));
            }
            INIT_FAILED => {
                let step = root.describe(u16::from_le_bytes([message[2], message[3]]));
                return Err(PinError::Other(io::Error::new(
                    io::Error::from(errno).kind(),
                    format!("could not {step} for the jail: {errno}"),
                )));
            }
            _ => {}
        }
        if !second {
            ready
                .read_exact(&mut message)
                .map_err(|_| io::Error::other("the jail's init died before its root was ready"))?;
        }
    }
    init.ok_or_else(|| PinError::Other(died()))
}

/// Bind-mounts the namespaces of process `child` onto the pins.
fn pin_child(pins: &[(&str, PathBuf)], child: Pid) -> Result<(), PinError> {
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

/// The helper: new namespaces, hostname, private resolv.conf, fresh /sys. Returns the exit
/// code. Only raw syscalls: the parent may have other threads, and the helper may run in the
/// parent's memory (see `vm_child`).
///
/// Each `unsafe` below is one libc call whose pointers are C strings owned by `plan` (alive for
/// the whole child) or string literals, and whose fds are the pipe ends and the base namespace
/// fd this process holds; none of the calls keeps a pointer past its return.
fn child_main(plan: &ChildPlan, ready: libc::c_int, go: libc::c_int) -> libc::c_int {
    let report = |step: u8| {
        let errno = if step == 0 {
            0
        } else {
            nix::errno::Errno::last_raw() as u8
        };
        let buf = [step, errno];
        // SAFETY: writes 2 bytes from a live stack buffer to the pipe fd `ready`.
        unsafe { libc::write(ready, buf.as_ptr().cast(), 2) };
    };
    let fail = |step: u8| {
        report(step);
        1
    };
    if let Some(base) = plan.base {
        // SAFETY: setns on the base namespace fd, which the parent keeps open across the fork.
        if unsafe { libc::setns(base, libc::CLONE_NEWNS) } != 0 {
            return fail(1);
        }
        // SAFETY: a string literal, alive for the call.
        if unsafe { libc::chdir(c"/".as_ptr()) } != 0 {
            return fail(1);
        }
    }
    // SAFETY: no pointer; flags prepared before the fork.
    if unsafe { libc::unshare(plan.flags) } != 0 {
        return fail(2);
    }
    // SAFETY: a string literal target; null source, type and data are allowed for a
    // propagation change.
    let slave = unsafe {
        libc::mount(
            std::ptr::null(),
            c"/".as_ptr(),
            std::ptr::null(),
            libc::MS_REC | libc::MS_SLAVE,
            std::ptr::null(),
        )
    };
    if slave != 0 {
        return fail(3);
    }
    if let Some(hostname) = &plan.hostname {
        let name = hostname.as_bytes();
        // SAFETY: reads `name.len()` bytes of a C string owned by `plan`.
        if unsafe { libc::sethostname(name.as_ptr().cast(), name.len()) } != 0 {
            return fail(4);
        }
    }
    if let Some((source, target)) = &plan.resolv {
        // SAFETY: C strings owned by `plan`; null type and data are allowed for a bind mount.
        let bound = unsafe {
            libc::mount(
                source.as_ptr(),
                target.as_ptr(),
                std::ptr::null(),
                libc::MS_BIND,
                std::ptr::null(),
            )
        };
        if bound != 0 {
            return fail(5);
        }
    }
    if let Some(hide) = &plan.hide {
        // SAFETY: a C string owned by `plan`.
        if unsafe { libc::umount2(hide.as_ptr(), libc::MNT_DETACH) } != 0 {
            return fail(6);
        }
    }
    // Closed only once the parent was told we are ready (see `write_in_child`).
    let mut proc_root = -1;
    if plan.jail_network {
        proc_root = super::sysctl::write_in_child(&plan.sysctls);
    }
    if let Some(root) = &plan.root {
        // The jail's init must not inherit the proc instance.
        if proc_root >= 0 {
            // SAFETY: closes the proc root `write_in_child` opened, which nothing else uses.
            unsafe { libc::close(proc_root) };
        }
        return match init_start(root, ready, go) {
            Ok(()) => 0,
            Err(()) => fail(8),
        };
    }
    report(0);
    if plan.own_sysfs() {
        // After the report: the parent pins and builds the network meanwhile (see `sysfs`).
        // Mounted over the copy of the host's (which, with its submounts, is hidden and goes
        // with the namespace): unmounting it first made every start wait for an RCU grace
        // period (0.1-10 ms). A jail with its own root gets its own from its init.
        super::sysfs::mount_in_child(ready);
    }
    let mut byte = 0u8;
    // SAFETY: reads at most 1 byte into a live local from the pipe fd `go`.
    unsafe { libc::read(go, (&mut byte as *mut u8).cast(), 1) };
    if proc_root >= 0 {
        // After the pins, not while the parent makes them: dissolving the detached mount takes
        // the namespace lock their bind mounts need. The parent does not wait for this (see
        // `reap`), so the instance's teardown is off the start's path.
        // SAFETY: closes the proc root `write_in_child` opened, which nothing else uses.
        unsafe { libc::close(proc_root) };
    }
    0
}

fn pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0; 2];
    // SAFETY: pipe2 writes two fds into a live array of two c_ints.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: pipe2 succeeded, so both fds are open, fresh and owned by nobody else; each
    // OwnedFd takes sole ownership of one.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}
