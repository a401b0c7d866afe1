//! A jail's own root (issue 16): the steps that build it, prepared before the fork, and the
//! forked init that carries them out and then pivots into it.
//!
//! Every file system is mounted onto an fd opened inside the root with `openat2` (see
//! [`super::resolve`]), never onto a path string: the root belongs to the jail, whose root
//! user could have swapped `/dev` for a symlink to the host's `/` since the last start. All
//! mounts are made in the jail's own mount namespace (a slave of the host's), so none is ever
//! visible on the host, and they all vanish with the namespace.

use std::ffi::{CStr, CString, OsStr};
use std::io;
use std::path::Path;

use super::cstring;
use super::resolve::{bind_onto, fd_path, open_within, Within};
use crate::step::JailRoot;

/// One step of building the root, relative to it.
enum RootStep {
    /// A file system of type `fstype` on directory `rel` (made if missing).
    Mount {
        rel: CString,
        fstype: &'static CStr,
        flags: libc::c_ulong,
        data: Option<&'static CStr>,
    },
    /// A device node in the fresh `/dev`.
    Node {
        rel: CString,
        mode: libc::mode_t,
        dev: libc::dev_t,
    },
    /// A symlink in the fresh `/dev`.
    Link { target: &'static CStr, rel: CString },
    /// A directory in the fresh `/dev`.
    Dir { rel: CString },
    /// A host path bind-mounted onto `rel`, resolved `within` the root.
    Bind {
        source: CString,
        rel: CString,
        read_only: bool,
        within: Within,
        /// Create `rel` as an empty file when it is missing (resolv.conf).
        create: bool,
    },
}

/// Everything the jail's init needs to build its root, as C strings made before the fork.
pub(super) struct RootPlan {
    root: CString,
    steps: Vec<RootStep>,
    /// What each step does, for the parent's error message (never touched by the child).
    what: Vec<String>,
    /// ioc's argv and environment areas, which the init overwrites (see `init::rename`).
    argv: Option<[usize; 4]>,
}

const NOSUID_NODEV_NOEXEC: libc::c_ulong = libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC;

/// The device nodes of a jail's `/dev`: name, major, minor.
const NODES: [(&str, u32, u32); 6] = [
    ("null", 1, 3),
    ("zero", 1, 5),
    ("full", 1, 7),
    ("random", 1, 8),
    ("urandom", 1, 9),
    ("tty", 5, 0),
];

/// Symlinks of a jail's `/dev`.
const LINKS: [(&CStr, &str); 5] = [
    (c"pts/ptmx", "ptmx"),
    (c"/proc/self/fd", "fd"),
    (c"/proc/self/fd/0", "stdin"),
    (c"/proc/self/fd/1", "stdout"),
    (c"/proc/self/fd/2", "stderr"),
];

impl RootPlan {
    /// The steps for `root`, with the jail's resolv.conf copy (if any) bound onto its
    /// `/etc/resolv.conf`.
    pub(super) fn new(root: &JailRoot, resolv: Option<&Path>) -> io::Result<RootPlan> {
        let mut plan = RootPlan {
            root: cstring(OsStr::new(&root.path))?,
            steps: Vec::new(),
            what: Vec::new(),
            argv: argv_area(),
        };
        let c = |s: &str| cstring(OsStr::new(s));
        let mount = |rel: &str, fstype, flags, data| -> io::Result<RootStep> {
            Ok(RootStep::Mount {
                rel: c(rel)?,
                fstype,
                flags,
                data,
            })
        };
        plan.push(
            mount("proc", c"proc", NOSUID_NODEV_NOEXEC, None)?,
            "mount /proc",
        );
        plan.push(
            mount(
                "dev",
                c"tmpfs",
                libc::MS_NOSUID | libc::MS_NOEXEC,
                Some(c"mode=755,size=64k"),
            )?,
            "mount /dev",
        );
        for (name, major, minor) in NODES {
            let node = RootStep::Node {
                rel: c(&format!("dev/{name}"))?,
                mode: libc::S_IFCHR | 0o666,
                dev: libc::makedev(major, minor),
            };
            plan.push(node, &format!("make /dev/{name}"));
        }
        for dir in ["pts", "shm"] {
            let step = RootStep::Dir {
                rel: c(&format!("dev/{dir}"))?,
            };
            plan.push(step, &format!("make /dev/{dir}"));
        }
        for (target, name) in LINKS {
            let link = RootStep::Link {
                target,
                rel: c(&format!("dev/{name}"))?,
            };
            plan.push(link, &format!("make /dev/{name}"));
        }
        plan.push(
            mount(
                "dev/pts",
                c"devpts",
                libc::MS_NOSUID | libc::MS_NOEXEC,
                Some(c"newinstance,ptmxmode=0666,mode=0620"),
            )?,
            "mount /dev/pts",
        );
        plan.push(
            mount("dev/shm", c"tmpfs", NOSUID_NODEV_NOEXEC, Some(c"mode=1777"))?,
            "mount /dev/shm",
        );
        plan.push(
            mount("sys", c"sysfs", NOSUID_NODEV_NOEXEC | libc::MS_RDONLY, None)?,
            "mount /sys read-only",
        );
        plan.push(
            mount(
                "tmp",
                c"tmpfs",
                libc::MS_NOSUID | libc::MS_NODEV,
                Some(c"mode=1777"),
            )?,
            "mount /tmp",
        );
        if let Some(resolv) = resolv {
            let bind = RootStep::Bind {
                source: cstring(resolv.as_os_str())?,
                rel: c("etc/resolv.conf")?,
                read_only: false,
                within: Within::InRoot,
                create: true,
            };
            plan.push(bind, "mount the jail's /etc/resolv.conf");
        }
        for m in &root.mounts {
            let bind = RootStep::Bind {
                source: c(&m.source)?,
                rel: c(m.target.trim_start_matches('/'))?,
                read_only: m.read_only,
                within: Within::Beneath,
                create: false,
            };
            plan.push(
                bind,
                &format!(
                    "bind-mount {} onto {} (property 'mounts')",
                    m.source, m.target
                ),
            );
        }
        Ok(plan)
    }

    /// ioc's argv and environment areas (`[arg_start, arg_end, env_start, env_end]`), for
    /// the init to rename itself and forget ioc's environment.
    pub(super) fn argv_area(&self) -> Option<[usize; 4]> {
        self.argv
    }

    fn push(&mut self, step: RootStep, what: &str) {
        self.steps.push(step);
        self.what.push(what.to_string());
    }

    /// What step `index` of the child's report did.
    pub(super) fn describe(&self, index: u16) -> &str {
        match index {
            BIND_ROOT => "bind-mount the jail's root onto itself",
            OPEN_ROOT => "open the jail's root",
            PIVOT => "pivot_root into the jail's root",
            STDIO => "open the jail's /dev/null",
            i => self
                .what
                .get(usize::from(i))
                .map(String::as_str)
                .unwrap_or("build the jail's root"),
        }
    }
}

/// Where this process's argv and environment lie: fields 48 to 51 (`arg_start`, `arg_end`,
/// `env_start`, `env_end`) of `/proc/self/stat`, counted after the command name's closing
/// parenthesis.
fn argv_area() -> Option<[usize; 4]> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let mut fields = stat.get(stat.rfind(')')? + 2..)?.split(' ').skip(45);
    let mut area = [0usize; 4];
    for slot in &mut area {
        *slot = fields.next()?.parse().ok()?;
    }
    (area[0] < area[1] && area[2] <= area[3]).then_some(area)
}

/// Report codes for the steps around the plan's own.
const BIND_ROOT: u16 = u16::MAX;
const OPEN_ROOT: u16 = u16::MAX - 1;
const PIVOT: u16 = u16::MAX - 2;
const STDIO: u16 = u16::MAX - 3;

/// Builds the root and pivots into it, in the jail's init (PID 1 of its PID namespace, already
/// in its mount namespace). On failure, the code of the step that failed. Only raw syscalls on
/// `plan`'s data: the process was forked from one that may have had other threads.
pub(super) fn build(plan: &RootPlan) -> Result<(), u16> {
    // The device nodes and directories get exactly the modes asked for. The init's umask
    // reaches no one: `ioc exec` and the hooks are forked from ioc, not from the init.
    // SAFETY: a raw syscall without pointers.
    unsafe { libc::umask(0) };
    // SAFETY: C strings owned by `plan`; null type and data are allowed for a bind mount.
    let bound = unsafe {
        libc::mount(
            plan.root.as_ptr(),
            plan.root.as_ptr(),
            std::ptr::null(),
            libc::MS_BIND | libc::MS_REC,
            std::ptr::null(),
        )
    };
    if bound != 0 {
        return Err(BIND_ROOT);
    }
    // SAFETY: a C string owned by `plan`.
    let root = unsafe {
        libc::open(
            plan.root.as_ptr(),
            libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC,
        )
    };
    if root < 0 {
        return Err(OPEN_ROOT);
    }
    for (index, step) in plan.steps.iter().enumerate() {
        if run_step(root, step) != 0 {
            return Err(index as u16);
        }
    }
    if pivot(root) != 0 {
        return Err(PIVOT);
    }
    if null_stdio() != 0 {
        return Err(STDIO);
    }
    Ok(())
}

/// One step; 0 or -1 with errno set.
fn run_step(root: libc::c_int, step: &RootStep) -> libc::c_int {
    let mut buf = [0u8; 32];
    match step {
        RootStep::Mount {
            rel,
            fstype,
            flags,
            data,
        } => {
            // SAFETY: a C string owned by the plan; EEXIST is the normal case.
            unsafe { libc::mkdirat(root, rel.as_ptr(), 0o755) };
            let dir = open_within(
                root,
                rel,
                libc::O_PATH | libc::O_DIRECTORY,
                0,
                Within::NoSymlinks,
            );
            if dir < 0 {
                return -1;
            }
            let target = fd_path(dir, &mut buf);
            let data = data.map_or(std::ptr::null(), |d| d.as_ptr().cast());
            // SAFETY: C strings owned by the plan, literals or the stack buffer `buf`, all
            // alive for the call.
            let rc = unsafe {
                libc::mount(
                    fstype.as_ptr(),
                    target.as_ptr(),
                    fstype.as_ptr(),
                    *flags,
                    data,
                )
            };
            close_keeping_errno(dir);
            rc
        }
        // The next three make entries in the fresh /dev tmpfs just mounted, which only this
        // process has seen, so no symlink of the jail's can be on their way.
        RootStep::Node { rel, mode, dev } => {
            // SAFETY: a C string owned by the plan, alive for the call.
            unsafe { libc::mknodat(root, rel.as_ptr(), *mode, *dev) }
        }
        RootStep::Link { target, rel } => {
            // SAFETY: a literal and a C string owned by the plan, alive for the call.
            unsafe { libc::symlinkat(target.as_ptr(), root, rel.as_ptr()) }
        }
        RootStep::Dir { rel } => {
            // SAFETY: a C string owned by the plan, alive for the call.
            unsafe { libc::mkdirat(root, rel.as_ptr(), 0o755) }
        }
        RootStep::Bind {
            source,
            rel,
            read_only,
            within,
            create,
        } => {
            let mut fd = open_within(root, rel, libc::O_PATH, 0, *within);
            if fd < 0 && *create && nix::errno::Errno::last() == nix::errno::Errno::ENOENT {
                fd = open_within(root, rel, libc::O_RDONLY | libc::O_CREAT, 0o644, *within);
            }
            if fd < 0 {
                return -1;
            }
            let rc = bind_onto(source, fd, *read_only);
            close_keeping_errno(fd);
            rc
        }
    }
}

/// `pivot_root` into the root open as `root`, the old root detached (never `chroot`: a
/// chroot is left with `..`, a pivot leaves nothing of the host reachable).
fn pivot(root: libc::c_int) -> libc::c_int {
    // SAFETY: fchdir to an fd this process holds; then pivot_root(".", ".") stacks the old
    // root under the new one, and the detach removes it; string literals only.
    unsafe {
        if libc::fchdir(root) != 0 {
            return -1;
        }
        if libc::syscall(libc::SYS_pivot_root, c".".as_ptr(), c".".as_ptr()) != 0 {
            return -1;
        }
        if libc::umount2(c".".as_ptr(), libc::MNT_DETACH) != 0 {
            return -1;
        }
        libc::chdir(c"/".as_ptr())
    }
}

/// Points stdin, stdout and stderr at the jail's `/dev/null`: the init must not keep ioc's
/// terminal or a caller's pipe open for the jail's lifetime.
fn null_stdio() -> libc::c_int {
    // SAFETY: a string literal; the fd is dup'ed onto 0-2 and closed, all owned here.
    unsafe {
        let null = libc::open(c"/dev/null".as_ptr(), libc::O_RDWR);
        if null < 0 {
            return -1;
        }
        for fd in 0..3 {
            libc::dup2(null, fd);
        }
        if null > 2 {
            libc::close(null);
        }
    }
    0
}

fn close_keeping_errno(fd: libc::c_int) {
    let errno = nix::errno::Errno::last_raw();
    // SAFETY: closes an fd this process opened and owns.
    unsafe { libc::close(fd) };
    nix::errno::Errno::set_raw(errno);
}
