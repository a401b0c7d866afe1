//! A network sandbox for end-to-end tests: a throw-away "host" network namespace in which the
//! real `ioc` runs, so a test never touches the machine's own network.
//!
//! [`HostNs`] creates `ioc-t-<pid>-<n>` with `ip netns add`, gives it its own config root and
//! runtime dir (a [`Sandbox`]), and runs `ioc` inside it with `nsenter --net=/run/netns/NAME`.
//! Not `ip netns exec`: that runs the command in a private mount namespace, so the bind mounts
//! with which ioc pins a jail's namespaces would vanish when the command exits.
//!
//! Dropping a [`HostNs`] always cleans up, also after a failed assertion: `ioc stop -f` of every
//! jail it knows, an unmount of anything left under its temporary directory, `ip netns del` of
//! the sandbox and its peers, and the removal of the temporary directory.

use std::ffi::OsStr;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStderr, Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::{ioc_bin, Sandbox};

/// Skips the calling test, saying why, unless it runs as root. Creating namespaces, links and
/// mounts needs root; CI runs as root, so there these tests run.
#[macro_export]
macro_rules! require_root {
    () => {
        if let Some(reason) = $crate::netns::missing_privileges() {
            eprintln!(
                "skipped {}: {reason}",
                ::std::thread::current().name().unwrap_or("test")
            );
            return;
        }
    };
}

/// Why this process cannot run sandbox tests, or `None` when it can.
pub fn missing_privileges() -> Option<String> {
    (!nix::unistd::geteuid().is_root())
        .then(|| "needs root (network namespaces, interfaces and mounts)".to_string())
}

/// Unique names for the namespaces of every `HostNs` of this test process.
static NEXT: AtomicUsize = AtomicUsize::new(0);

/// A command that runs in the network namespace `ns` (a name under `/run/netns`), and in the
/// caller's mount namespace.
pub fn in_netns(ns: &str, program: impl AsRef<OsStr>) -> Command {
    let mut command = Command::new("nsenter");
    command.arg(format!("--net=/run/netns/{ns}")).arg(program);
    command
}

/// `ip -n NS ARGS...`, which must succeed; returns its stdout.
pub fn ip_in<I, S>(ns: &str, args: I) -> String
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let mut command = Command::new("ip");
    command.arg("-n").arg(ns).args(args);
    checked(command)
}

/// `ip -n NS addr add ADDRESS dev LINK`; IPv6 without duplicate address detection, so the
/// test's own addresses are usable at once.
pub fn add_address_in(ns: &str, link: &str, address: &str) {
    let mut args = vec!["addr", "add", address, "dev", link];
    if address.contains(':') {
        args.push("nodad");
    }
    ip_in(ns, args);
}

/// Whether namespace `ns` reaches `address` with ping (IPv4 or IPv6), trying for a few
/// seconds as [`HostNs::pings`] does.
pub fn pings_from(ns: &str, address: &str) -> bool {
    eventually(Duration::from_secs(8), || answers_now(ns, address))
}

/// Whether `ns` gets an answer from `address` right now: one ping, one second. For checking
/// that something is gone, where [`pings_from`] would wait in vain.
pub fn answers_now(ns: &str, address: &str) -> bool {
    in_netns(ns, "ping")
        .args(["-c", "1", "-W", "1", address])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// What namespace `peer` gets from `http://address:8080/marker` (busybox wget), waiting up to
/// ten seconds for the server to listen.
pub fn fetch_from(peer: &str, address: &str) -> Option<String> {
    let url = if address.contains(':') {
        format!("http://[{address}]:8080/marker")
    } else {
        format!("http://{address}:8080/marker")
    };
    let mut body = None;
    eventually(Duration::from_secs(10), || {
        // coreutils' timeout, not wget's -T, which crashes busybox 1.35's wget.
        let out = in_netns(peer, "timeout")
            .args(["3", "busybox", "wget", "-q", "-O", "-", &url])
            .output()
            .expect("run busybox wget in the peer");
        if out.status.success() {
            body = Some(String::from_utf8_lossy(&out.stdout).into_owned());
        }
        body.is_some()
    });
    body
}

/// Polls `done` every 100 ms until it holds or `timeout` has passed; whether it held.
pub fn eventually(timeout: Duration, mut done: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if done() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        thread::sleep(Duration::from_millis(100));
    }
}

/// `ip netns add NS`, which must succeed.
fn add_netns(ns: &str) {
    let mut command = Command::new("ip");
    command.args(["netns", "add", ns]);
    checked(command);
}

/// Runs a command, panicking with its stderr when it cannot start.
fn output(mut command: Command) -> Output {
    command
        .output()
        .unwrap_or_else(|e| panic!("cannot run {command:?}: {e}"))
}

/// Runs a command that must succeed and returns its stdout.
fn checked(command: Command) -> String {
    let shown = format!("{command:?}");
    let out = output(command);
    assert!(
        out.status.success(),
        "{shown} failed ({:?}): {}{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A process started in the background (a server, or an `ioc` that hangs on purpose), killed
/// with SIGKILL and reaped on drop so no test leaves one behind or blocks on its locks.
pub struct Background {
    child: Child,
}

impl Background {
    pub fn spawn(mut command: Command) -> Background {
        let child = command
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {command:?}: {e}"));
        Background { child }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The piped stderr, once.
    pub fn take_stderr(&mut self) -> Option<ChildStderr> {
        self.child.stderr.take()
    }

    /// Whether it has exited (reaping it if so).
    pub fn exited(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(Some(_)))
    }

    /// Waits for it to end by itself.
    pub fn wait(&mut self) -> std::process::ExitStatus {
        self.child.wait().expect("wait for a child")
    }

    /// `kill -9`, then waits for it to be gone.
    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// One link of `ip -j link`.
#[derive(Clone, Debug)]
pub struct Link {
    pub name: String,
    pub mac: String,
    pub mtu: u64,
    /// The bridge it is attached to.
    pub master: Option<String>,
}

impl Link {
    fn from_json(v: &Value) -> Link {
        let text = |key: &str| v.get(key).and_then(Value::as_str).map(str::to_string);
        Link {
            name: text("ifname").unwrap_or_default(),
            mac: text("address").unwrap_or_default(),
            mtu: v.get("mtu").and_then(Value::as_u64).unwrap_or_default(),
            master: text("master"),
        }
    }
}

/// Parses `ip -j link` output.
pub fn parse_links(json: &str) -> Vec<Link> {
    let all: Vec<Value> = serde_json::from_str(json)
        .unwrap_or_else(|e| panic!("ip -j printed no JSON ({e}): {json}"));
    all.iter().map(Link::from_json).collect()
}

/// One address of `ip -j addr`.
#[derive(Clone, Debug)]
pub struct Address {
    /// `ADDRESS/PREFIX`.
    pub cidr: String,
    /// Still in IPv6 duplicate address detection.
    pub tentative: bool,
}

/// Parses `ip -j addr` output: the addresses of every link listed, in order.
pub fn parse_addresses(json: &str) -> Vec<Address> {
    let all: Vec<Value> = serde_json::from_str(json)
        .unwrap_or_else(|e| panic!("ip -j printed no JSON ({e}): {json}"));
    all.iter()
        .filter_map(|link| link.get("addr_info")?.as_array())
        .flatten()
        .filter_map(|a| {
            let local = a.get("local")?.as_str()?;
            let prefix = a.get("prefixlen")?.as_u64()?;
            Some(Address {
                cidr: format!("{local}/{prefix}"),
                tentative: a.get("tentative").and_then(Value::as_bool) == Some(true),
            })
        })
        .collect()
}

/// The mount points at or below `dir` in this process's mount namespace, deepest first.
pub fn mounts_under(dir: &Path) -> Vec<PathBuf> {
    let info = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    let mut found: Vec<PathBuf> = info
        .lines()
        .filter_map(|line| line.split(' ').nth(4))
        .map(|p| PathBuf::from(p.replace("\\040", " ")))
        .filter(|p| p.starts_with(dir))
        .collect();
    found.sort_by_key(|p| std::cmp::Reverse(p.as_os_str().len()));
    found
}

/// A router advertisement (RFC 4861 4.2) with one prefix information option, sent to
/// ff02::1 on `link` of the calling thread's network namespace. The kernel fills in the
/// ICMPv6 checksum and the link-local source.
fn send_router_advertisement(
    link: &std::ffi::CStr,
    prefix: std::net::Ipv6Addr,
) -> std::io::Result<()> {
    use nix::libc;
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
    let check = |rc: libc::c_int| {
        if rc < 0 {
            Err(std::io::Error::last_os_error())
        } else {
            Ok(rc)
        }
    };
    // SAFETY: plain libc calls on an fd we own, with pointers to live locals.
    unsafe {
        let index = libc::if_nametoindex(link.as_ptr());
        if index == 0 {
            return Err(std::io::Error::last_os_error());
        }
        let fd = check(libc::socket(
            libc::AF_INET6,
            libc::SOCK_RAW,
            libc::IPPROTO_ICMPV6,
        ))?;
        let fd = OwnedFd::from_raw_fd(fd);
        let set = |option: libc::c_int, value: libc::c_int| {
            check(libc::setsockopt(
                fd.as_raw_fd(),
                libc::IPPROTO_IPV6,
                option,
                (&value as *const libc::c_int).cast(),
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            ))
        };
        set(libc::IPV6_MULTICAST_HOPS, 255)?;
        set(libc::IPV6_MULTICAST_IF, index as libc::c_int)?;
        let mut ra = vec![
            134, 0, 0, 0, // type, code, checksum
            64, 0, 0x07, 0x08, // hop limit, flags, router lifetime 1800 s
            0, 0, 0, 0, 0, 0, 0, 0, // reachable time, retrans timer
            3, 4, 64, 0xc0, // prefix information: length 32 bytes, /64, on-link + autonomous
            0, 0, 0x0e, 0x10, 0, 0, 0x0e, 0x10, // valid and preferred lifetimes: 3600 s
            0, 0, 0, 0, // reserved
        ];
        ra.extend_from_slice(&prefix.octets());
        let mut to: libc::sockaddr_in6 = std::mem::zeroed();
        to.sin6_family = libc::AF_INET6 as libc::sa_family_t;
        to.sin6_addr.s6_addr = [0xff, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
        to.sin6_scope_id = index;
        check(libc::sendto(
            fd.as_raw_fd(),
            ra.as_ptr().cast(),
            ra.len(),
            0,
            (&to as *const libc::sockaddr_in6).cast(),
            std::mem::size_of::<libc::sockaddr_in6>() as libc::socklen_t,
        ) as libc::c_int)?;
    }
    Ok(())
}

/// Processes whose command line mentions `dir` (a DHCP client with its lease file in a jail's
/// runtime dir, say), as `PID: COMMAND LINE`.
pub fn processes_mentioning(dir: &Path) -> Vec<String> {
    let needle = dir.to_string_lossy().into_owned();
    let own = std::process::id().to_string();
    let Ok(proc_dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    proc_dir
        .flatten()
        .filter_map(|entry| {
            let pid = entry.file_name().into_string().ok()?;
            if !pid.bytes().all(|b| b.is_ascii_digit()) || pid == own {
                return None;
            }
            let raw = std::fs::read(entry.path().join("cmdline")).ok()?;
            let line = String::from_utf8_lossy(&raw).replace('\0', " ");
            line.contains(&needle)
                .then(|| format!("{pid}: {}", line.trim()))
        })
        .collect()
}

/// The "host" of a test: a network namespace of its own, with a state root and runtime dir.
pub struct HostNs {
    name: String,
    sandbox: Sandbox,
    peers: Vec<String>,
}

impl Default for HostNs {
    fn default() -> Self {
        Self::new()
    }
}

impl HostNs {
    /// A new namespace `ioc-t-<pid>-<n>` with only `lo`, up.
    pub fn new() -> HostNs {
        let n = NEXT.fetch_add(1, Ordering::SeqCst);
        let name = format!("ioc-t-{}-{n}", std::process::id());
        let sandbox = Sandbox::new();
        add_netns(&name);
        // From here on Drop removes the namespace, even if the next step fails.
        let host = HostNs {
            name,
            sandbox,
            peers: Vec::new(),
        };
        host.ip(["link", "set", "lo", "up"]);
        host
    }

    /// The namespace's name under `/run/netns`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The config root and runtime dir `ioc` uses here.
    pub fn sandbox(&self) -> &Sandbox {
        &self.sandbox
    }

    /// The temporary directory holding the config root and runtime dir; a test may keep its
    /// own files here (hook output, server configs).
    pub fn dir(&self) -> PathBuf {
        let root = self.sandbox.root();
        root.parent().unwrap_or(&root).to_path_buf()
    }

    /// A command that runs in this namespace.
    pub fn command(&self, program: impl AsRef<OsStr>) -> Command {
        in_netns(&self.name, program)
    }

    /// `ip -n NAME ARGS...`, which must succeed; returns its stdout.
    pub fn ip<I, S>(&self, args: I) -> String
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        ip_in(&self.name, args)
    }

    /// Adds a bridge, up, with an optional address (`10.23.42.1/24`).
    pub fn add_bridge(&self, name: &str, address: Option<&str>) {
        self.ip(["link", "add", name, "type", "bridge"]);
        if let Some(address) = address {
            self.add_address(name, address);
        }
        self.ip(["link", "set", name, "up"]);
    }

    /// Adds an address to a link; IPv6 without duplicate address detection, so it is usable
    /// at once.
    pub fn add_address(&self, link: &str, address: &str) {
        add_address_in(&self.name, link, address);
    }

    /// A new peer namespace (deleted on drop) joined to this one by a veth pair whose near end
    /// is `near` and whose far end is the peer's `eth0`, up with `addresses`. Returns its name.
    fn new_peer(&mut self, near: &str, addresses: &[&str]) -> String {
        let peer = format!("{}-p{}", self.name, self.peers.len());
        add_netns(&peer);
        self.peers.push(peer.clone());
        self.ip([
            "link", "add", near, "type", "veth", "peer", "name", "eth0", "netns", &peer,
        ]);
        ip_in(&peer, ["link", "set", "lo", "up"]);
        for address in addresses {
            add_address_in(&peer, "eth0", address);
        }
        ip_in(&peer, ["link", "set", "eth0", "up"]);
        peer
    }

    /// Another namespace plugged into `bridge` by a veth pair, playing a peer host on the same
    /// segment (its end is `eth0` with `address`). Returns its name, for [`in_netns`].
    pub fn add_peer(&mut self, bridge: &str, address: &str) -> String {
        let port = format!("peer{}", self.peers.len());
        let peer = self.new_peer(&port, &[address]);
        self.ip(["link", "set", &port, "master", bridge, "up"]);
        peer
    }

    /// A plain interface `link` of this namespace, up with `addresses`, whose other end is a
    /// peer host's `eth0` with `peer_addresses`: the stand-in for a physical NIC such as
    /// FreeBSD's `em0` (this kernel has no dummy links, and a peer makes the NIC's addresses
    /// reachable from outside). Returns the peer's name, for [`in_netns`].
    pub fn add_uplink(
        &mut self,
        link: &str,
        addresses: &[&str],
        peer_addresses: &[&str],
    ) -> String {
        let peer = self.new_peer(link, peer_addresses);
        for address in addresses {
            self.add_address(link, address);
        }
        self.ip(["link", "set", link, "up"]);
        peer
    }

    /// The addresses of a link of this namespace as `ADDRESS/PREFIX`, in listed order.
    pub fn addresses(&self, link: &str) -> Vec<String> {
        parse_addresses(&self.ip(["-j", "addr", "show", "dev", link]))
            .into_iter()
            .map(|a| a.cidr)
            .collect()
    }

    /// Whether `address` (without prefix) is on `link` and usable now: not tentative in IPv6
    /// duplicate address detection (a tentative address can be neither bound nor reached).
    pub fn usable_now(&self, link: &str, address: &str) -> bool {
        parse_addresses(&self.ip(["-j", "addr", "show", "dev", link]))
            .iter()
            .any(|a| a.cidr.split('/').next() == Some(address) && !a.tentative)
    }

    /// Sends one IPv6 router advertisement out of `link` (a bridge of this namespace) to all
    /// nodes, offering the /64 `prefix` for SLAAC with this namespace as default router. No
    /// radvd needed: a raw ICMPv6 socket opened in this namespace from a thread of our own
    /// (setns of a network namespace changes only the calling thread).
    pub fn advertise_prefix(&self, link: &str, prefix: std::net::Ipv6Addr) {
        // An RA must come from a link-local address, which exists only once DAD is done.
        let deadline = Instant::now() + Duration::from_secs(10);
        while !self
            .ip(["-6", "addr", "show", "dev", link, "scope", "link"])
            .lines()
            .any(|l| l.contains("inet6") && !l.contains("tentative"))
        {
            assert!(
                Instant::now() < deadline,
                "{link} has no link-local address"
            );
            thread::sleep(Duration::from_millis(100));
        }
        let ns = PathBuf::from("/run/netns").join(&self.name);
        let link = std::ffi::CString::new(link).expect("link name");
        let sent = thread::spawn(move || -> std::io::Result<()> {
            let file = std::fs::File::open(&ns)?;
            nix::sched::setns(file, nix::sched::CloneFlags::CLONE_NEWNET)?;
            send_router_advertisement(&link, prefix)
        })
        .join()
        .expect("the advertising thread panicked");
        sent.unwrap_or_else(|e| panic!("send a router advertisement: {e}"));
    }

    /// The links of this namespace.
    pub fn links(&self) -> Vec<Link> {
        parse_links(&self.ip(["-j", "link"]))
    }

    /// One link of this namespace, which must exist.
    pub fn link(&self, name: &str) -> Link {
        parse_links(&self.ip(["-j", "link", "show", "dev", name]))
            .pop()
            .unwrap_or_else(|| panic!("no link {name} in {}", self.name))
    }

    /// `ioc` inside this namespace, with this sandbox's root and runtime dir.
    pub fn ioc_command(&self) -> Command {
        let mut command = self.command(ioc_bin());
        self.sandbox.set_env(&mut command);
        command
    }

    /// Runs `ioc ARGS...` here with extra environment (test switches such as
    /// `IOC_FAULT_FAIL_STEP`).
    pub fn ioc_env<I, S>(&self, args: I, env: &[(&str, &str)]) -> Output
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut command = self.ioc_command();
        command.args(args).envs(env.iter().copied());
        output(command)
    }

    /// Runs `ioc ARGS...` here.
    pub fn ioc<I, S>(&self, args: I) -> Output
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.ioc_env(args, &[])
    }

    /// Runs `ioc ARGS...`, asserts success and returns stdout.
    pub fn ok<I, S>(&self, args: I) -> String
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let args: Vec<S> = args.into_iter().collect();
        let out = self.ioc(&args);
        assert!(
            out.status.success(),
            "ioc {:?} failed ({:?}): {}",
            shown(&args),
            out.status.code(),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Runs `ioc ARGS...`, asserts it fails with exit code 1 and no panic; returns stderr.
    pub fn fails<I, S>(&self, args: I) -> String
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let args: Vec<S> = args.into_iter().collect();
        let out = self.ioc(&args);
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(
            out.status.code(),
            Some(1),
            "ioc {:?} should fail with 1; stdout: {} stderr: {err}",
            shown(&args),
            String::from_utf8_lossy(&out.stdout)
        );
        assert!(!err.contains("panicked"), "{err}");
        err
    }

    /// Starts `ioc ARGS...` in the background with extra environment and stderr piped.
    pub fn spawn_ioc(&self, args: &[&str], env: &[(&str, &str)]) -> Background {
        let mut command = self.ioc_command();
        command
            .args(args)
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        Background::spawn(command)
    }

    /// `ioc exec JAIL -- ARGV...`.
    pub fn exec(&self, jail: &str, argv: &[&str]) -> Output {
        let mut args = vec!["exec", jail, "--"];
        args.extend_from_slice(argv);
        self.ioc(args)
    }

    /// `ioc exec JAIL -- ARGV...`, which must succeed; returns stdout.
    pub fn exec_ok(&self, jail: &str, argv: &[&str]) -> String {
        let mut args = vec!["exec", jail, "--"];
        args.extend_from_slice(argv);
        self.ok(args)
    }

    /// The links inside a running jail.
    pub fn jail_links(&self, jail: &str) -> Vec<Link> {
        parse_links(&self.exec_ok(jail, &["ip", "-j", "link"]))
    }

    /// One link inside a running jail, which must exist.
    pub fn jail_link(&self, jail: &str, name: &str) -> Link {
        parse_links(&self.exec_ok(jail, &["ip", "-j", "link", "show", "dev", name]))
            .pop()
            .unwrap_or_else(|| panic!("no link {name} in jail {jail}"))
    }

    /// Whether `jail` reaches `address` with ping, trying for a few seconds (IPv6 addresses
    /// may still be in duplicate address detection right after a start).
    pub fn pings(&self, jail: &str, address: &str) -> bool {
        eventually(Duration::from_secs(8), || {
            self.exec(jail, &["ping", "-c", "1", "-W", "1", address])
                .status
                .success()
        })
    }

    /// Asserts that `jail` reaches every address.
    pub fn assert_pings(&self, jail: &str, addresses: &[&str]) {
        for address in addresses {
            assert!(self.pings(jail, address), "{jail} cannot ping {address}");
        }
    }

    /// `ioc list --output-format json` by jail name.
    pub fn list(&self) -> Vec<Value> {
        let out = self.ok(["list", "--output-format", "json"]);
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("list JSON ({e}): {out}"))
    }

    /// A jail's row of `ioc list`.
    pub fn jail_row(&self, jail: &str) -> Value {
        self.list()
            .into_iter()
            .find(|row| row["name"] == jail)
            .unwrap_or_else(|| panic!("{jail} is not listed"))
    }

    /// Whether `ioc list` shows the jail running.
    pub fn running(&self, jail: &str) -> bool {
        self.jail_row(jail)["running"] == Value::Bool(true)
    }

    /// The jails with runtime state (journal, JID, pins) in the runtime dir.
    pub fn runtime_jails(&self) -> Vec<String> {
        std::fs::read_dir(self.sandbox.run_dir().join("jails"))
            .map(|dir| {
                dir.flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Mounts left under this sandbox's directory (namespace pins, the private run dir).
    pub fn mounts(&self) -> Vec<PathBuf> {
        mounts_under(&self.dir())
    }

    /// Asserts that the sandbox namespace holds exactly `links`, in any order.
    pub fn assert_links(&self, links: &[&str]) {
        let mut have: Vec<String> = self.links().into_iter().map(|l| l.name).collect();
        let mut want: Vec<String> = links.iter().map(|l| l.to_string()).collect();
        have.sort();
        want.sort();
        assert_eq!(have, want, "links in the sandbox");
    }

    /// Starts `jails` with `IOC_FAULT_FAIL_STEP=N` for N = 1, 2, ... until the start goes
    /// through. Each failed start must name the injected step and no rollback error, leave no
    /// jail running and the host clean with exactly `idle` links; `check(N)` adds the
    /// caller's own checks (an interface's addresses, say). Returns how many steps failed.
    pub fn fail_at_every_step(
        &self,
        jails: &str,
        idle: &[&str],
        mut check: impl FnMut(usize),
    ) -> usize {
        for step in 1..100 {
            let n = step.to_string();
            let out = self.ioc_env(["start", jails], &[("IOC_FAULT_FAIL_STEP", &n)]);
            if out.status.success() {
                return step - 1;
            }
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(
                err.contains(&format!("injected failure before step {n}")),
                "step {n}: {err}"
            );
            assert!(!err.contains("rollback failed"), "step {n}: {err}");
            for jail in jails.split(',') {
                assert!(!self.running(jail), "{jail} runs after a failure at {n}");
            }
            self.assert_clean(idle);
            check(step);
        }
        panic!("the start of {jails} never succeeded");
    }

    /// Stops `jails` (comma-separated), expecting each to have been running, then checks the
    /// host is clean with only `links` left (see [`HostNs::assert_clean`]).
    pub fn stop_and_check_clean(&self, jails: &str, links: &[&str]) {
        let out = self.ok(["stop", jails]);
        for jail in jails.split(',') {
            assert!(
                out.contains(&format!("{jail}: stopped")),
                "stop output: {out}"
            );
            assert!(!self.running(jail), "{jail} still listed as running");
        }
        self.assert_clean(links);
    }

    /// Asserts that the host is as clean as before any jail ran: exactly `links` in the
    /// sandbox namespace, no mount (namespace pin or private run dir) under the sandbox's
    /// directory, no runtime state (journal, JID, pins) of any jail, and no process left
    /// working for one.
    pub fn assert_clean(&self, links: &[&str]) {
        self.assert_links(links);
        assert_eq!(self.mounts(), Vec::<PathBuf>::new(), "mounts left");
        assert_eq!(
            self.runtime_jails(),
            Vec::<String>::new(),
            "runtime state left"
        );
        assert_eq!(
            processes_mentioning(&self.sandbox.run_dir()),
            Vec::<String>::new(),
            "processes left"
        );
    }
}

fn shown<S: AsRef<OsStr>>(args: &[S]) -> Vec<String> {
    args.iter()
        .map(|a| a.as_ref().to_string_lossy().into_owned())
        .collect()
}

impl Drop for HostNs {
    /// Best effort and never panicking (a panic while unwinding from a failed assertion would
    /// abort the whole test binary): each step runs whatever the previous ones did.
    fn drop(&mut self) {
        // Only jails with runtime state (running, or left half-done) need a stop.
        for jail in self.runtime_jails() {
            let _ = self.ioc(["stop", "-f", jail.as_str()]);
        }
        for _ in 0..3 {
            let left = self.mounts();
            if left.is_empty() {
                break;
            }
            for mount in left {
                if let Err(e) = nix::mount::umount2(&mount, nix::mount::MntFlags::MNT_DETACH) {
                    eprintln!("cleanup: unmount {}: {e}", mount.display());
                }
            }
        }
        for ns in self.peers.iter().chain(std::iter::once(&self.name)) {
            let deleted = Command::new("ip").args(["netns", "del", ns]).output();
            if !matches!(&deleted, Ok(o) if o.status.success()) {
                eprintln!("cleanup: ip netns del {ns} failed: {deleted:?}");
            }
        }
        // The Sandbox's own drop removes the temporary directory.
    }
}

/// Waits up to `timeout` for a line containing `needle` on a child's stderr. Returns the
/// lines read so far when it does not come (the child exited or timed out).
pub fn wait_for_line(
    stderr: ChildStderr,
    needle: &str,
    timeout: Duration,
) -> Result<(), Vec<String>> {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let deadline = Instant::now() + timeout;
    let mut seen = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) if line.contains(needle) => return Ok(()),
            Ok(line) => seen.push(line),
            Err(_) => return Err(seen),
        }
    }
}

/// The seed document's commands, verbatim: VNET on by default, two jails on `bridge0`.
pub fn seed(host: &HostNs) {
    host.ok(["set", "vnet=on", "defaults"]);
    host.ok(["create", "jail-a"]);
    host.ok(["create", "jail-b"]);
    for (jail, address) in [("jail-a", "10.23.42.2/24"), ("jail-b", "10.23.42.3/24")] {
        host.ok([
            "set",
            "vnet=on",
            "interfaces=vnet0:bridge0",
            &format!("ip4_addr=vnet0|{address}"),
            "defaultrouter=10.23.42.1",
            jail,
        ]);
    }
}

/// A sandbox with the seed's host side: `bridge0` with 10.23.42.1/24.
pub fn seed_host() -> HostNs {
    let host = HostNs::new();
    host.add_bridge("bridge0", Some("10.23.42.1/24"));
    host
}
