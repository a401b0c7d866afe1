//! A Linux jail: new mount + UTS (+ network, for VNET) namespaces, pinned by bind mounts.
//!
//! The pins live in `<run>/jails/<name>/ns/{mnt,uts,net}`. A shared-IP jail pins the network
//! namespace it was started from, so `ioc exec` lands in the right stack even when called from
//! elsewhere. The run dir is made a private mount first: a mount-namespace file may only be
//! pinned on a mount that does not propagate (otherwise the namespace could end up holding a
//! reference to itself), and each new jail unmounts the run dir inside its own namespace so it
//! never keeps other jails' namespaces alive.

use std::ffi::{CString, OsStr};
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
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

use crate::step::JailParams;

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

/// Makes `run_dir` a private mount (a bind mount of itself), once.
pub fn ensure_private_run_dir(run_dir: &Path) -> io::Result<()> {
    fs::create_dir_all(run_dir)?;
    let real = run_dir.canonicalize()?;
    match mount_propagation(&real)? {
        Some(Propagation::Private) => return Ok(()),
        Some(Propagation::Shared) => {}
        None => mount(
            Some(&real),
            &real,
            None::<&str>,
            MsFlags::MS_BIND,
            None::<&str>,
        )?,
    }
    mount(
        None::<&str>,
        &real,
        None::<&str>,
        MsFlags::MS_PRIVATE,
        None::<&str>,
    )?;
    Ok(())
}

/// Undoes [`ensure_private_run_dir`] when no jail is left, so an idle ioc leaves no mount.
pub fn release_run_dir(run_dir: &Path) -> io::Result<()> {
    let jails = run_dir.join("jails");
    let busy = fs::read_dir(&jails)
        .map(|mut d| d.next().is_some())
        .unwrap_or(false);
    if busy {
        return Ok(());
    }
    let real = run_dir.canonicalize()?;
    if mount_propagation(&real)?.is_some() {
        umount2(&real, MntFlags::MNT_DETACH)?;
    }
    Ok(())
}

enum Propagation {
    Private,
    Shared,
}

/// The propagation of the mount exactly at `path`, `None` if `path` is no mount point.
fn mount_propagation(path: &Path) -> io::Result<Option<Propagation>> {
    let info = fs::read_to_string("/proc/self/mountinfo")?;
    let target = path.as_os_str().as_bytes();
    let mut found = None;
    for line in info.lines() {
        let fields: Vec<&str> = line.split(' ').collect();
        if fields.len() < 7 || unescape_mount_path(fields[4]).as_bytes() != target {
            continue;
        }
        let optional = fields[6..].iter().take_while(|f| **f != "-");
        let shared = optional.into_iter().any(|f| f.starts_with("shared:"));
        // The last entry for a path is the one on top.
        found = Some(if shared {
            Propagation::Shared
        } else {
            Propagation::Private
        });
    }
    Ok(found)
}

/// mountinfo escapes space, tab, newline and backslash as octal.
fn unescape_mount_path(field: &str) -> String {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\' && i + 4 <= bytes.len() {
            let octal = std::str::from_utf8(&bytes[i + 1..i + 4]).ok();
            if let Some(v) = octal.and_then(|o| u8::from_str_radix(o, 8).ok()) {
                out.push(v);
                i += 4;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Everything the forked child needs, prepared before the fork so the child allocates nothing.
struct ChildPlan {
    flags: libc::c_int,
    hostname: CString,
    resolv: Option<(CString, CString)>,
    run_dir: CString,
    remount_sys: bool,
}

/// Step codes the child reports when it fails, for the error message.
const CHILD_STEPS: [&str; 6] = [
    "unshare",
    "make / a slave mount",
    "set the hostname",
    "mount the jail's resolv.conf",
    "hide the run dir",
    "signal readiness",
];

/// Creates the jail's namespaces and pins them. On failure nothing is left behind.
/// The run dir must already be a private mount ([`ensure_private_run_dir`]).
pub fn create(run_dir: &Path, params: &JailParams) -> io::Result<()> {
    let paths = JailPaths::new(run_dir, &params.name);
    fs::create_dir_all(paths.ns_dir())?;
    let result = create_pinned(run_dir, &paths, params);
    if result.is_err() {
        let _ = unpin(&paths);
    }
    result
}

fn create_pinned(run_dir: &Path, paths: &JailPaths, params: &JailParams) -> io::Result<()> {
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
            write_private(&paths.resolv_conf(), content.as_bytes(), 0o644)?;
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
        flags,
        hostname: cstring(OsStr::new(&params.hostname))?,
        resolv,
        run_dir: cstring(run_dir.canonicalize()?.as_os_str())?,
        remount_sys: params.vnet,
    };
    let (ready_r, ready_w) = pipe()?;
    let (go_r, go_w) = pipe()?;
    // SAFETY: the child only makes raw syscalls on data prepared above, then _exits.
    match unsafe { fork() }? {
        ForkResult::Child => {
            drop(ready_r);
            drop(go_w);
            let code = child_main(&plan, ready_w.as_raw_fd(), go_r.as_raw_fd());
            unsafe { libc::_exit(code) }
        }
        ForkResult::Parent { child } => {
            drop(ready_w);
            drop(go_r);
            let result = pin_child(paths, child, ready_r);
            drop(go_w); // lets the child exit
            let _ = waitpid(child, None);
            result
        }
    }
}

/// Waits for the child to have its namespaces, then bind-mounts them onto the pins.
fn pin_child(paths: &JailPaths, child: Pid, ready: OwnedFd) -> io::Result<()> {
    let mut status = [0u8; 2];
    File::from(ready)
        .read_exact(&mut status)
        .map_err(|_| io::Error::other("the namespace helper process died before it was ready"))?;
    if status[0] != 0 {
        let step = CHILD_STEPS
            .get(usize::from(status[0]) - 1)
            .unwrap_or(&"set up");
        let errno = nix::errno::Errno::from_raw(i32::from(status[1]));
        return Err(io::Error::new(
            io::Error::from(errno).kind(),
            format!("could not {step} for the jail: {errno}"),
        ));
    }
    for (kind, _) in KINDS {
        let source = PathBuf::from(format!("/proc/{child}/ns/{kind}"));
        mount(
            Some(&source),
            &paths.pin(kind),
            None::<&str>,
            MsFlags::MS_BIND,
            None::<&str>,
        )
        .map_err(|e| io::Error::other(format!("pin {kind} namespace: {e}")))?;
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
        if libc::unshare(plan.flags) != 0 {
            report(1);
            return 1;
        }
        let root = c"/";
        if libc::mount(
            std::ptr::null(),
            root.as_ptr(),
            std::ptr::null(),
            libc::MS_REC | libc::MS_SLAVE,
            std::ptr::null(),
        ) != 0
        {
            report(2);
            return 1;
        }
        let name = plan.hostname.as_bytes();
        if libc::sethostname(name.as_ptr().cast(), name.len()) != 0 {
            report(3);
            return 1;
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
                report(4);
                return 1;
            }
        }
        // Other jails' pins were copied into this namespace; drop them so this jail never keeps
        // another one's namespaces alive.
        if libc::umount2(plan.run_dir.as_ptr(), libc::MNT_DETACH) != 0 {
            report(5);
            return 1;
        }
        if plan.remount_sys {
            // A new network stack accepts IPv6 router advertisements by default; FreeBSD jails
            // do not, and a jail must not take a route from whoever sends one. Interfaces made
            // in this namespace inherit `default`; `accept_rtadv` turns it on per interface.
            let accept_ra = c"/proc/sys/net/ipv6/conf/default/accept_ra";
            let fd = libc::open(accept_ra.as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC);
            if fd >= 0 {
                libc::write(fd, c"0".as_ptr().cast(), 1);
                libc::close(fd);
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

/// Writes a file atomically with the given mode (no fsync: runtime state, gone at reboot).
fn write_private(path: &Path, content: &[u8], mode: u32) -> io::Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let mut f = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(mode)
        .open(&tmp)?;
    f.write_all(content)?;
    fs::rename(&tmp, path)
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
