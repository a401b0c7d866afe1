//! The LAN of the module comment, its jails started, and the frame tool at each of its places:
//! send a batch of crafted frames from one place and see what another receives.

use std::fs::File;
use std::io::Read;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use ioc_tests::netns::{in_netns, ip_in, parse_links, wait_for_line, Background, HostNs};
use ioc_tests::probes::{node, Node};
use serde_json::Value;

use crate::{create_jail, sandbox, FRAME};

/// How long a capture waits for its end marker at most.
const CAPTURE_WINDOW_MS: u64 = 15_000;

/// Where `ioc-frame` runs: inside a jail (through `ioc exec`) or in a peer namespace.
#[derive(Clone, Debug)]
pub enum Place {
    Jail(&'static str),
    Peer(String),
}

impl Place {
    /// The link frames leave and arrive on.
    pub fn link(&self) -> &'static str {
        match self {
            Place::Jail(_) => "vnet0",
            Place::Peer(_) => "eth0",
        }
    }
}

/// The sandbox with the LAN of the module comment; [`Lan::start`] starts the jails.
pub struct Lan {
    pub host: HostNs,
    pub observer_ns: String,
    pub observer: Node,
    pub secure: Node,
    pub plain: Node,
    pub victim: Node,
    /// Where `ioc-frame` is inside `myjail` when it has a root of its own.
    rooted_frame: Option<String>,
}

impl Lan {
    pub fn new() -> Lan {
        Lan::build(false)
    }

    /// The same LAN with `myjail` (the Secure VNET jail) on a busybox root of its own
    /// (issue 16), `ioc-frame` and the host's libraries bind-mounted into it: the filter is
    /// the host's, whatever root the jail has. `None` when no static busybox is installed
    /// (the test said why).
    pub fn rooted() -> Option<Lan> {
        if ioc_tests::skip::skip_unless_ci(ioc_tests::roots::static_busybox().err()) {
            return None;
        }
        Some(Lan::build(true))
    }

    fn build(rooted: bool) -> Lan {
        let mut host = sandbox();
        let observer_ns = host.add_peer("bridge0", "10.23.42.3/24");
        ip_in(
            &observer_ns,
            ["addr", "add", "fd00:23::3/64", "dev", "eth0", "nodad"],
        );
        create_jail(&host, "myjail", "vnet0::bridge0", 2);
        let mut rooted_frame = None;
        if rooted {
            let root = host.dir().join("myjail-root");
            ioc_tests::roots::build_busybox_root(&root);
            let (mounts, tool) = ioc_tests::roots::tool_mounts(&root, std::path::Path::new(FRAME));
            rooted_frame = Some(tool);
            host.ok([
                "set",
                &format!("path={}", root.display()),
                &format!("mounts={mounts}"),
                "myjail",
            ]);
        }
        create_jail(&host, "plainjail", "vnet0:bridge0", 4);
        create_jail(&host, "victim", "vnet0:bridge0", 5);
        let observer_mac = parse_links(&ip_in(&observer_ns, ["-j", "link", "show", "eth0"]))
            .pop()
            .expect("the observer's eth0")
            .mac;
        // The jails' MACs are read once they run.
        Lan {
            observer_ns,
            observer: node(&observer_mac, 3),
            secure: node("00:00:00:00:00:00", 2),
            plain: node("00:00:00:00:00:00", 4),
            victim: node("00:00:00:00:00:00", 5),
            rooted_frame,
            host,
        }
    }

    /// Starts the jails, each with its MAC noted. `myjail` starts while the observer listens,
    /// which shows its duplicate address detection probe crossing the filter.
    pub fn start(&mut self) -> Vec<String> {
        self.host.ok(["start", "plainjail,victim"]);
        let dad = "ip6 :: > ff02::1:ff00:2 icmp6 ns target fd00:23::2";
        let capture = Capture::start(self, &self.observer_place(), dad);
        self.host.ok(["start", "myjail"]);
        let seen = capture.finish();
        let netns: Vec<PathBuf> = ["myjail", "plainjail", "victim"]
            .map(|jail| self.jail_netns(jail))
            .into();
        for (netns, node) in netns
            .iter()
            .zip([&mut self.secure, &mut self.plain, &mut self.victim])
        {
            // Read with the host's `ip` in the jail's namespace: a jail with a root of its
            // own has busybox's, which prints no JSON.
            let out = Command::new("nsenter")
                .arg(format!("--net={}", netns.display()))
                .args(["ip", "-j", "link", "show", "dev", "vnet0"])
                .output()
                .expect("run nsenter");
            let link = parse_links(&String::from_utf8_lossy(&out.stdout)).pop();
            node.mac = link.expect("the jail's vnet0").mac.parse().expect("MAC");
        }
        // Everyone's addresses usable (DAD done), and the observer's neighbour entries for
        // every jail made, so later attacks have entries to poison.
        for node in [&self.secure, &self.plain, &self.victim] {
            for address in [node.ip4.to_string(), node.ip6.to_string()] {
                assert!(
                    self.observer_pings(&address),
                    "the observer cannot ping {address}"
                );
            }
        }
        seen
    }

    pub fn observer_place(&self) -> Place {
        Place::Peer(self.observer_ns.clone())
    }

    /// `ioc-frame ARGS...` at `place`.
    pub fn frame_tool(&self, place: &Place) -> Command {
        match place {
            Place::Jail(jail) => {
                let mut command = self.host.ioc_command();
                let frame = match (&self.rooted_frame, *jail) {
                    (Some(inside), "myjail") => inside.as_str(),
                    _ => FRAME,
                };
                command.args(["exec", jail, "--", frame]);
                command
            }
            Place::Peer(ns) => in_netns(ns, FRAME),
        }
    }

    /// Sends one crafted frame out of `place`'s link.
    pub fn send(&self, place: &Place, frame: &[String]) {
        let mut command = self.frame_tool(place);
        command.args(["send", place.link()]).args(frame);
        let out = command.output().expect("run ioc-frame");
        assert!(
            out.status.success(),
            "ioc-frame send {frame:?} at {place:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Whether the observer reaches `address`, trying for a few seconds (DAD may be running).
    pub fn observer_pings(&self, address: &str) -> bool {
        let deadline = Instant::now() + Duration::from_secs(8);
        loop {
            let ok = in_netns(&self.observer_ns, "ping")
                .args(["-c", "1", "-W", "1", address])
                .output()
                .is_ok_and(|o| o.status.success());
            if ok || Instant::now() >= deadline {
                return ok;
            }
            thread::sleep(Duration::from_millis(200));
        }
    }

    /// The observer's neighbour table: address -> MAC.
    pub fn observer_neighbours(&self) -> Vec<(String, String)> {
        let json = ip_in(&self.observer_ns, ["-j", "neigh", "show", "dev", "eth0"]);
        let all: Vec<Value> = serde_json::from_str(&json).expect("ip -j neigh");
        all.iter()
            .filter_map(|n| {
                Some((
                    n.get("dst")?.as_str()?.to_string(),
                    n.get("lladdr")?.as_str()?.to_string(),
                ))
            })
            .collect()
    }

    pub fn observer_neighbour(&self, address: impl ToString) -> Option<String> {
        let address = address.to_string();
        self.observer_neighbours()
            .into_iter()
            .find(|(a, _)| *a == address)
            .map(|(_, mac)| mac)
    }

    /// Whether the observer took a rogue router advertisement's /64 `prefix`: its on-link
    /// route, which comes with the SLAAC address and the default route through the sender.
    pub fn observer_took_prefix(&self, prefix: &str) -> bool {
        ip_in(&self.observer_ns, ["-6", "route", "show", "dev", "eth0"])
            .contains(&format!("{prefix}/64"))
    }

    /// The MACs `bridge0` has learned, as `MAC PORT` lines.
    pub fn learned_macs(&self) -> String {
        let out = Command::new("bridge")
            .args(["-n", self.host.name(), "fdb", "show", "br", "bridge0"])
            .output()
            .expect("run bridge");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// The jail's network namespace, through the pin ioc keeps under its runtime dir
    /// (`<run>/jails/<name>/ns/net`).
    pub fn jail_netns(&self, jail: &str) -> PathBuf {
        self.host
            .sandbox()
            .run_dir()
            .join("jails")
            .join(jail)
            .join("ns")
            .join("net")
    }

    pub fn observer_netns(&self) -> PathBuf {
        PathBuf::from("/run/netns").join(&self.observer_ns)
    }

    /// Sends `frames` from `from` while `to` listens, then an honest end marker from `from`
    /// (which passes in every mode); returns what `to` received.
    pub fn deliver(
        &self,
        from: &Place,
        to: &Place,
        frames: &[Vec<String>],
        marker: &[String],
    ) -> Vec<String> {
        let end = marker
            .iter()
            .find_map(|w| w.strip_prefix("tag="))
            .map(|t| format!("tag={t}"))
            .expect("the end marker has a tag");
        let capture = Capture::start(self, to, &end);
        for frame in frames {
            self.send(from, frame);
        }
        self.send(from, marker);
        let seen = capture.finish();
        assert!(
            seen.iter().any(|l| l.contains(&end)),
            "the end marker {end} never arrived; received:\n{}",
            seen.join("\n")
        );
        seen
    }
}

/// `ioc-frame listen` running at a place, its lines going to a file.
pub struct Capture {
    process: Background,
    out: PathBuf,
}

impl Capture {
    /// Starts listening on `place`'s link until a line contains `until`, and returns once the
    /// socket is bound, so nothing sent afterwards is missed.
    pub fn start(lan: &Lan, place: &Place, until: &str) -> Capture {
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let out = lan.host.dir().join(format!("capture-{n}.txt"));
        let mut command = lan.frame_tool(place);
        command
            .args(["listen", place.link()])
            .arg(format!("ms={CAPTURE_WINDOW_MS}"))
            .arg(format!("until={until}"))
            .stdout(File::create(&out).expect("capture file"))
            .stderr(Stdio::piped());
        let mut process = Background::spawn(command);
        let stderr = process.take_stderr().expect("piped stderr");
        if let Err(lines) = wait_for_line(stderr, "listening on", Duration::from_secs(10)) {
            panic!("ioc-frame listen at {place:?} did not start: {lines:?}");
        }
        Capture { process, out }
    }

    /// Waits for the capture to end (its `until` line, or the window) and returns its lines.
    pub fn finish(mut self) -> Vec<String> {
        self.process.wait();
        let mut text = String::new();
        File::open(&self.out)
            .and_then(|mut f| f.read_to_string(&mut text))
            .expect("read the capture");
        text.lines().map(str::to_string).collect()
    }
}
