//! Secure VNET end to end: the real `ioc` and the nftables backend in a sandbox namespace,
//! attacked with raw frames from inside jails.
//!
//! The LAN of every test: the sandbox's `bridge0` (10.23.42.1, fd00:23::1) with
//!
//! ```text
//! myjail     10.23.42.2  fd00:23::2   interfaces="vnet0::bridge0"   the Secure VNET jail
//! observer   10.23.42.3  fd00:23::3   a peer namespace on bridge0    sees what crosses the bridge
//! plainjail  10.23.42.4  fd00:23::4   interfaces="vnet0:bridge0"    the control: plain VNET
//! victim     10.23.42.5  fd00:23::5   interfaces="vnet0:bridge0"    whose addresses are claimed
//! ```
//!
//! `ioc-frame` (this crate's binary) crafts each attack frame on the attacker's `vnet0` and
//! reports, line by line, what reaches the receiver's link. Every attack must be dropped when
//! `myjail` sends it, and must arrive when `plainjail` sends the same frame: that proves the
//! receiver would have seen it, so its absence is the filter's doing. Each batch ends with an
//! honest frame that passes in both modes; frames of one sender on one path keep their order,
//! so once it has arrived, every earlier frame that was going to arrive has.
//!
//! Every test needs root (it says so when skipped) and nftables.
#![cfg(target_os = "linux")]

use std::fmt::Write as _;
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use ioc_sdk::Mac;
use ioc_tests::netns::{in_netns, ip_in, parse_links, wait_for_line, Background, HostNs};
use ioc_tests::require_root;
use nix::sched::{setns, CloneFlags};
use serde_json::Value;

/// The frame tool, built with this test (Cargo builds a package's binaries for its tests).
const FRAME: &str = env!("CARGO_BIN_EXE_ioc-frame");

/// A MAC no node has, for frames that lie about their source.
const FAKE_MAC: &str = "02:66:66:66:66:66";
/// A MAC no node has, for frames the bridge floods because it never learned the destination.
const UNKNOWN_MAC: &str = "02:77:77:77:77:77";
/// Prefixes offered by rogue router advertisements: from a jail, and toward one.
const ROGUE_PREFIX: &str = "2001:db8:bad::";
const ROGUE_PREFIX_IN: &str = "2001:db8:bad2::";

/// An address nobody holds: what a node joining the LAN might probe for, and an attacker
/// could claim to deny it.
const DAD_TARGET: Ipv6Addr = Ipv6Addr::new(0xfd00, 0x23, 0, 0, 0, 0, 0, 0x66);

/// How long a capture waits for its end marker at most.
const CAPTURE_WINDOW_MS: u64 = 15_000;

/// One node of the LAN, as the frames see it.
#[derive(Clone, Debug)]
struct Node {
    mac: Mac,
    ip4: Ipv4Addr,
    ip6: Ipv6Addr,
}

impl Node {
    /// The EUI-64 link-local address its kernel derives from its MAC.
    fn ll(&self) -> Ipv6Addr {
        self.mac.link_local()
    }
}

/// The Ethernet group of an IPv6 multicast address: `33:33` + its low 32 bits.
fn group_mac(a: Ipv6Addr) -> Mac {
    let o = a.octets();
    Mac([0x33, 0x33, o[12], o[13], o[14], o[15]])
}

/// `ff02::1:ffXX:XXXX`, where neighbour solicitations for `a` go.
fn solicited_node(a: Ipv6Addr) -> Ipv6Addr {
    let o = a.octets();
    Ipv6Addr::new(
        0xff02,
        0,
        0,
        0,
        0,
        1,
        0xff00 | u16::from(o[13]),
        u16::from_be_bytes([o[14], o[15]]),
    )
}

/// Where `ioc-frame` runs: inside a jail (through `ioc exec`) or in a peer namespace.
#[derive(Clone, Debug)]
enum Place {
    Jail(&'static str),
    Peer(String),
}

impl Place {
    /// The link frames leave and arrive on.
    fn link(&self) -> &'static str {
        match self {
            Place::Jail(_) => "vnet0",
            Place::Peer(_) => "eth0",
        }
    }
}

/// The sandbox with the LAN of the module comment; [`Lan::start`] starts the jails.
struct Lan {
    host: HostNs,
    observer_ns: String,
    observer: Node,
    secure: Node,
    plain: Node,
    victim: Node,
}

/// The seed's host (`bridge0` with 10.23.42.1/24) with IPv6 (fd00:23::1/64) too.
fn sandbox() -> HostNs {
    let host = HostNs::new();
    host.add_bridge("bridge0", Some("10.23.42.1/24"));
    host.add_address("bridge0", "fd00:23::1/64");
    host
}

/// Creates a VNET jail with 10.23.42.N and fd00:23::N on `interfaces`' only NIC.
fn create_jail(host: &HostNs, jail: &str, interfaces: &str, n: u8) {
    host.ok([
        "create",
        jail,
        "vnet=on",
        &format!("interfaces={interfaces}"),
        &format!("ip4_addr=vnet0|10.23.42.{n}/24"),
        &format!("ip6_addr=vnet0|fd00:23::{n}/64"),
        "defaultrouter=10.23.42.1",
        "defaultrouter6=fd00:23::1",
    ]);
}

/// The sandbox with Secure VNET jails `(NAME, N)`.
fn secure_host(jails: &[(&str, u8)]) -> HostNs {
    let host = sandbox();
    for (jail, n) in jails {
        create_jail(&host, jail, "vnet0::bridge0", *n);
    }
    host
}

/// The sandbox links with no jail running.
const IDLE: &[&str] = &["lo", "bridge0", "peer0"];

impl Lan {
    fn new() -> Lan {
        let mut host = sandbox();
        let observer_ns = host.add_peer("bridge0", "10.23.42.3/24");
        ip_in(
            &observer_ns,
            ["addr", "add", "fd00:23::3/64", "dev", "eth0", "nodad"],
        );
        create_jail(&host, "myjail", "vnet0::bridge0", 2);
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
            host,
        }
    }

    /// Starts the jails, each with its MAC noted. `myjail` starts while the observer listens,
    /// which shows its duplicate address detection probe crossing the filter.
    fn start(&mut self) -> Vec<String> {
        self.host.ok(["start", "plainjail,victim"]);
        let dad = "ip6 :: > ff02::1:ff00:2 icmp6 ns target fd00:23::2";
        let capture = Capture::start(self, &self.observer_place(), dad);
        self.host.ok(["start", "myjail"]);
        let seen = capture.finish();
        for (jail, node) in [
            ("myjail", &mut self.secure),
            ("plainjail", &mut self.plain),
            ("victim", &mut self.victim),
        ] {
            node.mac = self.host.jail_link(jail, "vnet0").mac.parse().expect("MAC");
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

    fn observer_place(&self) -> Place {
        Place::Peer(self.observer_ns.clone())
    }

    /// `ioc-frame ARGS...` at `place`.
    fn frame_tool(&self, place: &Place) -> Command {
        match place {
            Place::Jail(jail) => {
                let mut command = self.host.ioc_command();
                command.args(["exec", jail, "--", FRAME]);
                command
            }
            Place::Peer(ns) => in_netns(ns, FRAME),
        }
    }

    /// Sends one crafted frame out of `place`'s link.
    fn send(&self, place: &Place, frame: &[String]) {
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
    fn observer_pings(&self, address: &str) -> bool {
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
    fn observer_neighbours(&self) -> Vec<(String, String)> {
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

    fn observer_neighbour(&self, address: impl ToString) -> Option<String> {
        let address = address.to_string();
        self.observer_neighbours()
            .into_iter()
            .find(|(a, _)| *a == address)
            .map(|(_, mac)| mac)
    }

    /// Whether the observer took a rogue router advertisement's /64 `prefix`: its on-link
    /// route, which comes with the SLAAC address and the default route through the sender.
    fn observer_took_prefix(&self, prefix: &str) -> bool {
        ip_in(&self.observer_ns, ["-6", "route", "show", "dev", "eth0"])
            .contains(&format!("{prefix}/64"))
    }

    /// The MACs `bridge0` has learned, as `MAC PORT` lines.
    fn learned_macs(&self) -> String {
        let out = Command::new("bridge")
            .args(["-n", self.host.name(), "fdb", "show", "br", "bridge0"])
            .output()
            .expect("run bridge");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// The jail's network namespace, through the pin ioc keeps under its runtime dir
    /// (`<run>/jails/<name>/ns/net`).
    fn jail_netns(&self, jail: &str) -> PathBuf {
        self.host
            .sandbox()
            .run_dir()
            .join("jails")
            .join(jail)
            .join("ns")
            .join("net")
    }

    fn observer_netns(&self) -> PathBuf {
        PathBuf::from("/run/netns").join(&self.observer_ns)
    }

    /// Sends `frames` from `from` while `to` listens, then an honest end marker from `from`
    /// (which passes in every mode); returns what `to` received.
    fn deliver(
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

fn node(mac: &str, n: u8) -> Node {
    Node {
        mac: mac.parse().expect("MAC"),
        ip4: Ipv4Addr::new(10, 23, 42, n),
        ip6: Ipv6Addr::new(0xfd00, 0x23, 0, 0, 0, 0, 0, u16::from(n)),
    }
}

/// `ioc-frame listen` running at a place, its lines going to a file.
struct Capture {
    process: Background,
    out: PathBuf,
}

impl Capture {
    /// Starts listening on `place`'s link until a line contains `until`, and returns once the
    /// socket is bound, so nothing sent afterwards is missed.
    fn start(lan: &Lan, place: &Place, until: &str) -> Capture {
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
    fn finish(mut self) -> Vec<String> {
        self.process.wait();
        let mut text = String::new();
        File::open(&self.out)
            .and_then(|mut f| f.read_to_string(&mut text))
            .expect("read the capture");
        text.lines().map(str::to_string).collect()
    }
}

/// One crafted frame and the line that shows it arrived.
struct Probe {
    /// What the frame tries, for the report.
    name: &'static str,
    /// `ioc-frame send LINK` arguments.
    frame: Vec<String>,
    /// Text that only this frame produces in the receiver's `ioc-frame listen` output.
    seen_as: String,
}

fn words(text: String) -> Vec<String> {
    text.split_whitespace().map(str::to_string).collect()
}

fn probe(name: &'static str, frame: String, seen_as: String) -> Probe {
    Probe {
        name,
        frame: words(frame),
        seen_as,
    }
}

/// Frames an attacker jail `a` sends to try to take over the victim `v`'s addresses (or to
/// pass as someone else) in the eyes of the observer `o`.
fn attacks_from(a: &Node, v: &Node, o: &Node) -> Vec<Probe> {
    let (am, om, vm) = (a.mac, o.mac, v.mac);
    let bcast = "ff:ff:ff:ff:ff:ff";
    let o_group = solicited_node(o.ip6);
    let dad_group = solicited_node(DAD_TARGET);
    vec![
        probe(
            "IPv4 source changed to another jail's",
            format!(
                "icmp4 dst-mac={om} src={} dst={} tag=spoof-ip4-src",
                v.ip4, o.ip4
            ),
            "tag=spoof-ip4-src".into(),
        ),
        probe(
            "UDP from another jail's IPv4 address",
            format!(
                "udp dst-mac={om} src={} dst={} sport=5353 dport=9 tag=spoof-udp4-src",
                v.ip4, o.ip4
            ),
            "tag=spoof-udp4-src".into(),
        ),
        probe(
            "source MAC changed (IPv4)",
            format!(
                "icmp4 src-mac={FAKE_MAC} dst-mac={om} src={} dst={} tag=spoof-mac4",
                a.ip4, o.ip4
            ),
            "tag=spoof-mac4".into(),
        ),
        probe(
            "802.1Q-tagged frame",
            format!(
                "icmp4 vlan=42 dst-mac={om} src={} dst={} tag=spoof-vlan",
                a.ip4, o.ip4
            ),
            "tag=spoof-vlan".into(),
        ),
        probe(
            "802.1ad-tagged frame (QinQ)",
            format!(
                "icmp4 vlan=42 vlan-tpid=88a8 dst-mac={om} src={} dst={} tag=spoof-qinq",
                a.ip4, o.ip4
            ),
            "tag=spoof-qinq".into(),
        ),
        probe(
            "gratuitous ARP claiming another jail's IPv4",
            format!("arp op=request sender-ip={0} target-ip={0}", v.ip4),
            format!(
                "{am} > {bcast} arp request who-has {0} tell {0} at {am}",
                v.ip4
            ),
        ),
        probe(
            "ARP reply claiming another jail's IPv4 (to the peer's request)",
            format!(
                "arp op=reply dst-mac={om} sender-ip={} target-mac={om} target-ip={}",
                v.ip4, o.ip4
            ),
            format!("arp reply {} is-at {am}", v.ip4),
        ),
        probe(
            "ARP request from another jail's IPv4",
            format!("arp op=request sender-ip={} target-ip={}", v.ip4, o.ip4),
            format!("arp request who-has {} tell {} at {am}", o.ip4, v.ip4),
        ),
        probe(
            "ARP with another jail's MAC as sender",
            format!(
                "arp op=request sender-mac={vm} sender-ip={} target-ip={}",
                a.ip4, o.ip4
            ),
            format!(
                "{am} > {bcast} arp request who-has {} tell {} at {vm}",
                o.ip4, a.ip4
            ),
        ),
        probe(
            "IPv6 source changed to another jail's",
            format!(
                "icmp6 dst-mac={om} src={} dst={} tag=spoof-ip6-src",
                v.ip6, o.ip6
            ),
            "tag=spoof-ip6-src".into(),
        ),
        probe(
            "source MAC changed (IPv6)",
            format!(
                "icmp6 src-mac={FAKE_MAC} dst-mac={om} src={} dst={} tag=spoof-mac6",
                a.ip6, o.ip6
            ),
            "tag=spoof-mac6".into(),
        ),
        probe(
            "NA for another jail's address",
            format!(
                "na src={} dst=ff02::1 target={} flags=o tll={am}",
                a.ip6, v.ip6
            ),
            format!(
                "{am} > 33:33:00:00:00:01 ip6 {} > ff02::1 icmp6 na target {} flags o tll {am}",
                a.ip6, v.ip6
            ),
        ),
        probe(
            "NA for another jail's address, from that address",
            format!("na src={0} dst=ff02::1 target={0} flags=o tll={am}", v.ip6),
            format!(
                "{am} > 33:33:00:00:00:01 ip6 {0} > ff02::1 icmp6 na target {0} flags o tll {am}",
                v.ip6
            ),
        ),
        probe(
            "NA for its own address with a foreign target link-layer address",
            format!("na src={0} dst=ff02::1 target={0} flags=o tll={vm}", a.ip6),
            format!("icmp6 na target {} flags o tll {vm}", a.ip6),
        ),
        probe(
            "NA without options for another jail's address",
            format!("na src={} dst=ff02::1 target={} flags=o", a.ip6, v.ip6),
            format!(
                "{am} > 33:33:00:00:00:01 ip6 {} > ff02::1 icmp6 na target {} flags o",
                a.ip6, v.ip6
            ),
        ),
        probe(
            "NS with a foreign source link-layer address",
            format!("ns src={} dst={o_group} target={} sll={vm}", a.ip6, o.ip6),
            format!("icmp6 ns target {} sll {vm}", o.ip6),
        ),
        probe(
            "NS from another jail's address",
            format!("ns src={} dst={o_group} target={} sll={am}", v.ip6, o.ip6),
            format!(
                "ip6 {} > {o_group} icmp6 ns target {} sll {am}",
                v.ip6, o.ip6
            ),
        ),
        // Not for the victim's address: the victim would defend it with an advertisement of
        // its own, which would undo the poisoning this test checks for in plain mode.
        probe(
            "DAD probe for an address not its own",
            format!("ns src=:: dst={dad_group} target={DAD_TARGET}"),
            format!(
                "{am} > {} ip6 :: > {dad_group} icmp6 ns target {DAD_TARGET}",
                group_mac(dad_group)
            ),
        ),
        probe(
            "router advertisement",
            format!(
                "ra src={} dst=ff02::1 prefix={ROGUE_PREFIX}/64 sll={am}",
                a.ll()
            ),
            format!("prefix {ROGUE_PREFIX}/64"),
        ),
    ]
}

/// Honest frames of `a`, crafted the same way: they pass in both modes, so a dropped attack
/// is the filter telling lies from truth, not crafted frames failing as such.
fn honest_from(a: &Node, o: &Node) -> Vec<Probe> {
    let am = a.mac;
    vec![
        probe(
            "own IPv4 echo",
            format!(
                "icmp4 dst-mac={} src={} dst={} tag=honest-ip4",
                o.mac, a.ip4, o.ip4
            ),
            "tag=honest-ip4".into(),
        ),
        probe(
            "own UDP over IPv6",
            format!(
                "udp dst-mac={} src={} dst={} sport=5353 dport=9 tag=honest-udp6",
                o.mac, a.ip6, o.ip6
            ),
            "tag=honest-udp6".into(),
        ),
        probe(
            "gratuitous ARP for its own IPv4",
            format!("arp op=request sender-ip={0} target-ip={0}", a.ip4),
            format!(
                "{am} > ff:ff:ff:ff:ff:ff arp request who-has {0} tell {0} at {am}",
                a.ip4
            ),
        ),
        probe(
            "own IPv6 echo",
            format!(
                "icmp6 dst-mac={} src={} dst={} tag=honest-ip6",
                o.mac, a.ip6, o.ip6
            ),
            "tag=honest-ip6".into(),
        ),
        probe(
            "unsolicited NA for its own address",
            format!("na src={0} dst=ff02::1 target={0} flags=o tll={am}", a.ip6),
            format!(
                "{am} > 33:33:00:00:00:01 ip6 {0} > ff02::1 icmp6 na target {0} flags o tll {am}",
                a.ip6
            ),
        ),
        probe(
            "NS from its link-local address",
            format!(
                "ns src={} dst={} target={} sll={am}",
                a.ll(),
                solicited_node(o.ip6),
                o.ip6
            ),
            format!(
                "ip6 {} > {} icmp6 ns target {} sll {am}",
                a.ll(),
                solicited_node(o.ip6),
                o.ip6
            ),
        ),
    ]
}

/// Frames the observer `o` sends that are not for the jail `t`: none may reach it.
fn not_addressed_to(t: &Node, o: &Node) -> Vec<Probe> {
    vec![
        probe(
            "IPv4 to its MAC but another address",
            format!(
                "icmp4 dst-mac={} src={} dst=10.23.42.77 tag=to-wrong-ip4",
                t.mac, o.ip4
            ),
            "tag=to-wrong-ip4".into(),
        ),
        probe(
            "IPv4 to its address but a foreign MAC (flooded)",
            format!(
                "icmp4 dst-mac={UNKNOWN_MAC} src={} dst={} tag=to-foreign-mac4",
                o.ip4, t.ip4
            ),
            "tag=to-foreign-mac4".into(),
        ),
        probe(
            "UDP broadcast",
            format!(
                "udp src={} dst=10.23.42.255 sport=9 dport=9 tag=to-broadcast",
                o.ip4
            ),
            "tag=to-broadcast".into(),
        ),
        probe(
            "ARP request for another address",
            format!("arp op=request sender-ip={} target-ip=10.23.42.78", o.ip4),
            "arp request who-has 10.23.42.78".into(),
        ),
        probe(
            "IPv6 to its MAC but another address",
            format!(
                "icmp6 dst-mac={} src={} dst=fd00:23::77 tag=to-wrong-ip6",
                t.mac, o.ip6
            ),
            "tag=to-wrong-ip6".into(),
        ),
        probe(
            "IPv6 to its address but a foreign MAC (flooded)",
            format!(
                "icmp6 dst-mac={UNKNOWN_MAC} src={} dst={} tag=to-foreign-mac6",
                o.ip6, t.ip6
            ),
            "tag=to-foreign-mac6".into(),
        ),
        probe(
            "802.1Q-tagged frame to its MAC and address",
            format!(
                "icmp4 vlan=42 dst-mac={} src={} dst={} tag=to-vlan",
                t.mac, o.ip4, t.ip4
            ),
            "tag=to-vlan".into(),
        ),
        probe(
            "802.1ad-tagged frame to its MAC and address",
            format!(
                "icmp4 vlan=42 vlan-tpid=88a8 dst-mac={} src={} dst={} tag=to-qinq",
                t.mac, o.ip4, t.ip4
            ),
            "tag=to-qinq".into(),
        ),
        probe(
            "router advertisement",
            format!(
                "ra src={} dst=ff02::1 prefix={ROGUE_PREFIX_IN}/64 sll={}",
                o.ll(),
                o.mac
            ),
            format!("prefix {ROGUE_PREFIX_IN}/64"),
        ),
    ]
}

/// Frames for the jail `t` that must reach it in either mode.
fn addressed_to(t: &Node, o: &Node) -> Vec<Probe> {
    vec![
        probe(
            "IPv4 to its MAC and address",
            format!(
                "icmp4 dst-mac={} src={} dst={} tag=to-honest-ip4",
                t.mac, o.ip4, t.ip4
            ),
            "tag=to-honest-ip4".into(),
        ),
        probe(
            "IPv6 to its MAC and address",
            format!(
                "icmp6 dst-mac={} src={} dst={} tag=to-honest-ip6",
                t.mac, o.ip6, t.ip6
            ),
            "tag=to-honest-ip6".into(),
        ),
        probe(
            "ARP request for its address",
            format!("arp op=request sender-ip={} target-ip={}", o.ip4, t.ip4),
            format!(
                "{} > ff:ff:ff:ff:ff:ff arp request who-has {} tell {}",
                o.mac, t.ip4, o.ip4
            ),
        ),
        probe(
            "NS for its address",
            format!(
                "ns src={} dst={} target={} sll={}",
                o.ip6,
                solicited_node(t.ip6),
                t.ip6,
                o.mac
            ),
            format!("icmp6 ns target {} sll {}", t.ip6, o.mac),
        ),
    ]
}

/// Which probes arrived, as `(name, arrived)`.
fn arrivals(probes: &[Probe], seen: &[String]) -> Vec<(&'static str, bool)> {
    probes
        .iter()
        .map(|p| (p.name, seen.iter().any(|l| l.contains(&p.seen_as))))
        .collect()
}

/// The secure jail's arrivals (`rows[0]`) beside the plain jail's (`rows[1]`).
fn side_by_side(rows: &[Vec<(&'static str, bool)>]) -> Vec<(&'static str, bool, bool)> {
    rows[0]
        .iter()
        .zip(&rows[1])
        .map(|(&(name, secure), &(_, plain))| (name, secure, plain))
        .collect()
}

/// The matrix as a table, for the test's output and its failure messages.
fn table(title: &str, rows: &[(&str, bool, bool)]) -> String {
    let mut s = format!("{title}\n{:<66} {:>8} {:>8}\n", "", "secure", "plain");
    let word = |arrived: bool| if arrived { "passed" } else { "dropped" };
    for (name, secure, plain) in rows {
        let _ = writeln!(s, "{name:<66} {:>8} {:>8}", word(*secure), word(*plain));
    }
    s
}

/// The end marker of a batch: an honest echo from `from` to `to`.
fn marker(from: &Node, to: &Node, tag: &str) -> Vec<String> {
    words(format!(
        "icmp4 dst-mac={} src={} dst={} tag={tag}",
        to.mac, from.ip4, to.ip4
    ))
}

#[test]
fn a_secure_jail_cannot_spoof_but_a_plain_one_can() {
    require_root!();
    let mut lan = Lan::new();
    lan.start();
    let observer = lan.observer_place();
    let (o, v) = (lan.observer.clone(), lan.victim.clone());

    let mut rows = Vec::new();
    let mut honest_rows = Vec::new();
    let mut state = Vec::new();
    for (jail, a) in [
        ("myjail", lan.secure.clone()),
        ("plainjail", lan.plain.clone()),
    ] {
        let attacks = attacks_from(&a, &v, &o);
        let honest = honest_from(&a, &o);
        let frames: Vec<Vec<String>> = honest
            .iter()
            .chain(&attacks)
            .map(|p| p.frame.clone())
            .collect();
        // The observer asks for the victim's MAC, so the attacker's ARP reply answers a real
        // request (the filter must drop it all the same).
        lan.send(
            &observer,
            &words(format!(
                "arp op=request sender-ip={} target-ip={}",
                o.ip4, v.ip4
            )),
        );
        let seen = lan.deliver(
            &Place::Jail(jail),
            &observer,
            &frames,
            &marker(&a, &o, &format!("end-from-{jail}")),
        );
        rows.push(arrivals(&attacks, &seen));
        honest_rows.push(arrivals(&honest, &seen));
        // What the attacks did to the observer's view of the LAN.
        state.push((
            lan.observer_neighbour(v.ip4),
            lan.observer_neighbour(v.ip6),
            lan.observer_took_prefix(ROGUE_PREFIX),
            lan.learned_macs().contains(FAKE_MAC),
            seen,
        ));
    }
    let (attacks, honest) = (side_by_side(&rows), side_by_side(&honest_rows));
    let report = table("from the jail to a peer on bridge0", &attacks)
        + &table("honest frames, crafted the same way", &honest);
    eprintln!("{report}");
    let received = |i: usize| state[i].4.join("\n");
    for &(name, secure, plain) in &attacks {
        assert!(
            !secure,
            "{name}: passed the Secure VNET filter\n{report}\nreceived:\n{}",
            received(0)
        );
        assert!(
            plain,
            "{name}: did not arrive from the plain jail, so the test cannot see it\n{report}\nreceived:\n{}",
            received(1)
        );
    }
    for &(name, secure, plain) in &honest {
        assert!(secure && plain, "honest {name} was dropped\n{report}");
    }

    // The secure jail's attempts changed nothing the observer believes...
    let (v4, v6, rogue, fake, _) = &state[0];
    let vm = Some(v.mac.to_string());
    assert_eq!(
        (v4, v6),
        (&vm, &vm),
        "secure attacks poisoned the observer's neighbour table"
    );
    assert_eq!(
        lan.observer_neighbour(lan.secure.ip4),
        Some(lan.secure.mac.to_string())
    );
    assert!(!rogue, "the observer took the secure jail's rogue prefix");
    assert!(!fake, "bridge0 learned the secure jail's fake MAC");
    // ... while the plain jail's took over the victim's addresses and pushed a prefix.
    let (v4, v6, rogue, fake, _) = &state[1];
    let am = Some(lan.plain.mac.to_string());
    assert_eq!(
        (v4, v6),
        (&am, &am),
        "the plain jail's spoofing did not poison the observer"
    );
    assert!(
        rogue,
        "the observer ignored the plain jail's router advertisement"
    );
    assert!(fake, "bridge0 did not learn the plain jail's fake MAC");

    lan.host.ok(["stop", "myjail,plainjail,victim"]);
    lan.host.assert_clean(IDLE);
}

#[test]
fn a_secure_jail_receives_only_what_is_addressed_to_it() {
    require_root!();
    let mut lan = Lan::new();
    lan.start();
    let observer = lan.observer_place();
    let o = lan.observer.clone();

    let mut rows: Vec<Vec<(&'static str, bool)>> = Vec::new();
    let mut wanted: Vec<Vec<(&'static str, bool)>> = Vec::new();
    let mut received = Vec::new();
    for (jail, t) in [
        ("myjail", lan.secure.clone()),
        ("plainjail", lan.plain.clone()),
    ] {
        let foreign = not_addressed_to(&t, &o);
        let own = addressed_to(&t, &o);
        let frames: Vec<Vec<String>> = foreign
            .iter()
            .chain(&own)
            .map(|p| p.frame.clone())
            .collect();
        let seen = lan.deliver(
            &observer,
            &Place::Jail(jail),
            &frames,
            &marker(&o, &t, &format!("end-to-{jail}")),
        );
        rows.push(arrivals(&foreign, &seen));
        wanted.push(arrivals(&own, &seen));
        received.push(seen.join("\n"));
    }
    let (foreign, own) = (side_by_side(&rows), side_by_side(&wanted));
    let report =
        table("from a peer on bridge0 to the jail", &foreign) + &table("frames for the jail", &own);
    eprintln!("{report}");
    for &(name, secure, plain) in &foreign {
        assert!(
            !secure,
            "{name}: reached the secure jail\n{report}\n{}",
            received[0]
        );
        assert!(
            plain,
            "{name}: did not reach the plain jail either\n{report}\n{}",
            received[1]
        );
    }
    for &(name, secure, plain) in &own {
        assert!(
            secure && plain,
            "{name} was dropped\n{report}\n{}",
            received[0]
        );
    }
    lan.host.ok(["stop", "myjail,plainjail,victim"]);
    lan.host.assert_clean(IDLE);
}

/// Runs `body` on a thread of its own inside the network namespace file `ns` (a pin under
/// ioc's runtime dir, or `/run/netns/NAME`): setns changes only the calling thread.
fn in_namespace<T: Send>(ns: &Path, body: impl FnOnce() -> T + Send) -> T {
    thread::scope(|s| {
        s.spawn(|| {
            let file = File::open(ns).unwrap_or_else(|e| panic!("{}: {e}", ns.display()));
            setns(file, CloneFlags::CLONE_NEWNET).expect("enter the network namespace");
            body()
        })
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}

/// One TCP and one UDP round trip from a client in `client_ns` to a server on `server` in
/// `server_ns`: the client sends a line, the server answers it.
fn round_trips(client_ns: &Path, server_ns: &Path, server: IpAddr) -> Result<(), String> {
    let timeout = Duration::from_secs(5);
    let (port_tx, port_rx) = mpsc::channel();
    thread::scope(|s| {
        let served = s.spawn(move || {
            in_namespace(server_ns, || -> std::io::Result<()> {
                let tcp = TcpListener::bind((server, 0))?;
                let port = tcp.local_addr()?.port();
                let udp = UdpSocket::bind((server, port))?;
                let _ = port_tx.send(port);
                tcp.set_nonblocking(true)?;
                let deadline = Instant::now() + timeout;
                let mut conn = loop {
                    match tcp.accept() {
                        Ok((conn, _)) => break conn,
                        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                            if Instant::now() > deadline {
                                return Err(e);
                            }
                            thread::sleep(Duration::from_millis(20));
                        }
                        Err(e) => return Err(e),
                    }
                };
                conn.set_nonblocking(false)?;
                conn.set_read_timeout(Some(timeout))?;
                let mut line = String::new();
                BufReader::new(&conn).read_line(&mut line)?;
                conn.write_all(format!("re: {line}").as_bytes())?;
                udp.set_read_timeout(Some(timeout))?;
                let mut buf = [0u8; 64];
                let (n, from) = udp.recv_from(&mut buf)?;
                udp.send_to(&[b"re: ", &buf[..n]].concat(), from)?;
                Ok(())
            })
        });
        let port = port_rx
            .recv_timeout(timeout)
            .map_err(|_| "the server never bound".to_string())?;
        let to = SocketAddr::new(server, port);
        let client = in_namespace(client_ns, || -> std::io::Result<(String, Vec<u8>)> {
            let mut conn = TcpStream::connect_timeout(&to, timeout)?;
            conn.set_read_timeout(Some(timeout))?;
            conn.write_all(b"tcp\n")?;
            let mut answer = String::new();
            BufReader::new(&conn).read_line(&mut answer)?;
            let any: IpAddr = if server.is_ipv4() {
                Ipv4Addr::UNSPECIFIED.into()
            } else {
                Ipv6Addr::UNSPECIFIED.into()
            };
            let udp = UdpSocket::bind((any, 0))?;
            udp.set_read_timeout(Some(timeout))?;
            udp.send_to(b"udp", to)?;
            let mut buf = [0u8; 64];
            let n = udp.recv(&mut buf)?;
            Ok((answer, buf[..n].to_vec()))
        });
        let served = served.join().expect("server thread");
        match (client, served) {
            (Ok((tcp, udp)), Ok(())) if tcp == "re: tcp\n" && udp == b"re: udp" => Ok(()),
            (client, served) => Err(format!("to {to}: client {client:?}, server {served:?}")),
        }
    })
}

/// `ip -6 addr show dev vnet0` in a jail once `done` holds for it, or after 10 seconds
/// (duplicate address detection takes a second or so per address).
fn jail_ipv6_once(host: &HostNs, jail: &str, done: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let out = host.exec_ok(jail, &["ip", "-6", "addr", "show", "dev", "vnet0"]);
        if done(&out) || Instant::now() >= deadline {
            return out;
        }
        thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn a_secure_jail_talks_normally_and_its_arp_nd_and_dad_work() {
    require_root!();
    let mut lan = Lan::new();
    let dad = lan.start();
    assert!(
        dad.iter().any(|l| l.contains("icmp6 ns target fd00:23::2")),
        "the secure jail's DAD probe never reached the peer: {dad:#?}"
    );
    let (s, o) = (lan.secure.clone(), lan.observer.clone());

    // Its addresses, link-local included, passed duplicate address detection.
    let addresses = jail_ipv6_once(&lan.host, "myjail", |a| !a.contains("tentative"));
    assert!(addresses.contains("fd00:23::2/64"), "{addresses}");
    assert!(
        !addresses.contains("tentative") && !addresses.contains("dadfailed"),
        "{addresses}"
    );

    // Ping both ways, IPv4 and IPv6, with the peer, the gateway and the other jails.
    lan.host.assert_pings(
        "myjail",
        &[
            "10.23.42.3",
            "fd00:23::3",
            "10.23.42.1",
            "fd00:23::1",
            "10.23.42.4",
            "fd00:23::5",
        ],
    );
    for address in [
        s.ip4.to_string(),
        s.ip6.to_string(),
        format!("{}%eth0", s.ll()),
    ] {
        assert!(
            lan.observer_pings(&address),
            "the peer cannot ping {address}"
        );
    }
    // ARP and ND resolved both ways, to the true MACs.
    assert_eq!(lan.observer_neighbour(s.ip4), Some(s.mac.to_string()));
    assert_eq!(lan.observer_neighbour(s.ip6), Some(s.mac.to_string()));
    let jail_neighbours = lan
        .host
        .exec_ok("myjail", &["ip", "neigh", "show", "dev", "vnet0"]);
    for address in [o.ip4.to_string(), o.ip6.to_string()] {
        assert!(
            jail_neighbours
                .lines()
                .any(|l| l.starts_with(&format!("{address} ")) && l.contains(&o.mac.to_string())),
            "{address} not resolved to {} in the jail:\n{jail_neighbours}",
            o.mac
        );
    }

    // A TCP and a UDP exchange each way, each family.
    let (jail_ns, peer_ns) = (lan.jail_netns("myjail"), lan.observer_netns());
    for (from, to, server, what) in [
        (
            &peer_ns,
            &jail_ns,
            IpAddr::from(s.ip4),
            "peer -> jail, IPv4",
        ),
        (
            &peer_ns,
            &jail_ns,
            IpAddr::from(s.ip6),
            "peer -> jail, IPv6",
        ),
        (
            &jail_ns,
            &peer_ns,
            IpAddr::from(o.ip4),
            "jail -> peer, IPv4",
        ),
        (
            &jail_ns,
            &peer_ns,
            IpAddr::from(o.ip6),
            "jail -> peer, IPv6",
        ),
    ] {
        if let Err(e) = round_trips(from, to, server) {
            panic!("{what}: {e}");
        }
    }
    lan.host.ok(["stop", "myjail,plainjail,victim"]);
    lan.host.assert_clean(IDLE);
}

/// `nft ARGS...` in the sandbox, which must succeed; returns its stdout.
fn nft(host: &HostNs, args: &[&str], stdin: Option<&str>) -> String {
    let mut command = host.command("nft");
    command
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().expect("run nft");
    if let Some(text) = stdin {
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(text.as_bytes())
            .expect("write to nft");
    }
    drop(child.stdin.take());
    let out = child.wait_with_output().expect("wait for nft");
    assert!(
        out.status.success(),
        "nft {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// ioc's own table, as `nft` lists it (empty when it does not exist).
fn ioc_table(host: &HostNs) -> String {
    let out = host
        .command("nft")
        .args(["list", "table", "bridge", "ioc"])
        .output()
        .expect("run nft");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Tables an administrator keeps in the same kernel: hooks ioc also uses, a set, and a table
/// with ioc's name in another family.
const ADMIN_RULES: &str = "
table inet admin {
    chain c { type filter hook input priority 0; policy accept; counter; }
}
table bridge admin2 {
    set macs { type ether_addr; elements = { 02:00:00:00:00:01 }; }
    chain pre { type filter hook prerouting priority -10; policy accept; ether saddr @macs counter; }
    chain transit { type filter hook forward priority 0; policy accept; ether type vlan counter drop; }
}
table ip ioc {
    chain x { counter; }
}
";

/// The administrator's tables, with rule handles and without counters (which traffic moves):
/// equal listings mean no rule was added, removed or rewritten.
fn admin_tables(host: &HostNs) -> String {
    [["inet", "admin"], ["bridge", "admin2"], ["ip", "ioc"]]
        .iter()
        .map(|[family, table]| nft(host, &["-a", "-s", "list", "table", family, table], None))
        .collect()
}

#[test]
fn admin_tables_survive_start_and_stop_and_stop_removes_exactly_the_jails_rules() {
    require_root!();
    let host = secure_host(&[("myjail", 2), ("otherjail", 6)]);
    nft(&host, &["-f", "-"], Some(ADMIN_RULES));
    let before = admin_tables(&host);
    assert!(before.contains("ether saddr @macs"), "{before}");

    host.ok(["start", "myjail,otherjail"]);
    host.assert_pings("myjail", &["10.23.42.1", "10.23.42.6"]);
    assert_eq!(
        admin_tables(&host),
        before,
        "start changed the admin's tables"
    );
    let table = ioc_table(&host);
    for port in ["vnet0.1", "vnet0.2"] {
        assert!(table.contains(&format!("chain from-{port} {{")), "{table}");
        assert!(
            table.contains(&format!("\"{port}\" : goto to-{port}")),
            "{table}"
        );
    }

    // Stopping one jail removes its chains and map elements, and nothing of the other's.
    host.ok(["stop", "myjail"]);
    let table = ioc_table(&host);
    assert!(
        !table.contains("vnet0.1"),
        "myjail's rules are left:\n{table}"
    );
    assert!(table.contains("chain from-vnet0.2 {"), "{table}");
    assert!(table.contains("\"vnet0.2\" : goto from-vnet0.2"), "{table}");
    host.assert_pings("otherjail", &["10.23.42.1"]);

    host.ok(["stop", "otherjail"]);
    let table = ioc_table(&host);
    for gone in ["vnet0.", "chain from-", "chain to-", "elements"] {
        assert!(!table.contains(gone), "{gone} is left:\n{table}");
    }
    assert_eq!(
        admin_tables(&host),
        before,
        "stop changed the admin's tables"
    );
    host.assert_clean(&["lo", "bridge0"]);
}

/// `ioc plugins list --output-format json`: the active firewall backends.
fn active_firewalls(host: &HostNs) -> Vec<String> {
    let out = host.ok(["plugins", "list", "--output-format", "json"]);
    let rows: Vec<Value> = serde_json::from_str(&out).expect("plugins list JSON");
    rows.iter()
        .filter(|r| r["active"] == Value::Bool(true))
        .map(|r| r["name"].as_str().unwrap_or_default().to_string())
        .collect()
}

/// What a refused start must leave as it was: links, the whole ruleset, runtime state.
fn host_state(host: &HostNs) -> (Vec<String>, String, Vec<String>) {
    let mut links: Vec<String> = host.links().into_iter().map(|l| l.name).collect();
    links.sort();
    let mut jails = host.runtime_jails();
    jails.sort();
    (links, nft(host, &["-a", "list", "ruleset"], None), jails)
}

#[test]
fn swapping_the_firewall_applies_to_later_starts_and_the_installer_removes_its_rules() {
    require_root!();
    let host = secure_host(&[("myjail", 2), ("secure2", 6)]);
    create_jail(&host, "plainjail", "vnet0:bridge0", 4);
    assert_eq!(active_firewalls(&host), ["nftables"]);
    host.ok(["start", "myjail"]);
    assert!(ioc_table(&host).contains("chain from-vnet0.1 {"));

    for backend in ["pf", "ipfw"] {
        host.ok(["set", &format!("firewall={backend}"), "defaults"]);
        assert_eq!(active_firewalls(&host), [backend]);
        // A new Secure VNET start fails before anything changes: these backends are FreeBSD's.
        let before = host_state(&host);
        let err = host.fails(["start", "secure2"]);
        assert!(
            err.contains(&format!("backend '{backend}' does not support linux")),
            "{err}"
        );
        assert_eq!(
            host_state(&host),
            before,
            "the refused start changed the host"
        );
    }
    // Plain VNET needs no firewall, so it does not care.
    host.ok(["start", "plainjail"]);
    host.assert_pings("plainjail", &["10.23.42.1"]);
    host.ok(["stop", "plainjail"]);

    // myjail's filter goes with it, removed by nftables, which installed it, although the
    // setting now names ipfw.
    host.ok(["stop", "myjail"]);
    assert!(
        !ioc_table(&host).contains("vnet0.1"),
        "{}",
        ioc_table(&host)
    );
    host.assert_clean(&["lo", "bridge0"]);

    host.ok(["set", "firewall=nftables", "defaults"]);
    assert_eq!(active_firewalls(&host), ["nftables"]);
    host.ok(["start", "secure2"]);
    host.assert_pings("secure2", &["10.23.42.1"]);
    assert!(ioc_table(&host).contains("chain from-vnet0.1 {"));
    host.ok(["stop", "secure2"]);
    assert!(!ioc_table(&host).contains("vnet0.1"));
    host.assert_clean(&["lo", "bridge0"]);
}

#[test]
fn secure_vnet_refuses_dhcp_and_accept_rtadv_before_any_change() {
    require_root!();
    let host = secure_host(&[]);
    for (jail, property) in [
        ("dhcpjail", "ip4_addr=vnet0|10.23.42.7/24,vnet0|dhcp"),
        ("rtadvjail", "ip6_addr=vnet0|accept_rtadv"),
    ] {
        host.ok([
            "create",
            jail,
            "vnet=on",
            "interfaces=vnet0::bridge0",
            property,
        ]);
    }
    let config = |jail| std::fs::read(host.sandbox().config_file(jail)).expect("config");
    for (jail, wanted) in [
        (
            "dhcpjail",
            "property 'ip4_addr': Secure VNET only whitelists static addresses; vnet0|dhcp is learned at run time",
        ),
        (
            "rtadvjail",
            "property 'ip6_addr': Secure VNET only whitelists static addresses; vnet0|accept_rtadv is learned at run time",
        ),
    ] {
        let (state, file) = (host_state(&host), config(jail));
        let err = host.fails(["start", jail]);
        assert!(err.contains(wanted), "{err}");
        assert!(err.contains(jail), "the error names the jail: {err}");
        assert_eq!(host_state(&host), state, "the refused start changed the host");
        assert_eq!(config(jail), file);
        assert!(!host.running(jail));
    }
    host.assert_clean(&["lo", "bridge0"]);
}

#[test]
fn a_secure_jails_duplicate_address_detection_sees_a_conflict() {
    require_root!();
    let mut host = secure_host(&[("myjail", 9)]);
    // A peer already holds fd00:23::9; it answers the jail's probe with an advertisement to
    // all nodes, which the filter must let in.
    let peer = host.add_peer("bridge0", "10.23.42.3/24");
    ip_in(
        &peer,
        ["addr", "add", "fd00:23::9/64", "dev", "eth0", "nodad"],
    );
    host.ok(["start", "myjail"]);
    let failed = jail_ipv6_once(&host, "myjail", |a| a.contains("dadfailed"));
    assert!(
        failed
            .lines()
            .any(|l| l.contains("fd00:23::9/64") && l.contains("dadfailed")),
        "the duplicate went unnoticed:\n{failed}"
    );
    host.ok(["stop", "myjail"]);
    host.assert_clean(&["lo", "bridge0", "peer0"]);
}

/// The two base chains of ioc's table, with rule handles: equal listings mean the dispatch
/// rules were neither replaced nor added to.
fn base_chains(host: &HostNs) -> String {
    ["prerouting", "postrouting"]
        .iter()
        .map(|chain| nft(host, &["-a", "list", "chain", "bridge", "ioc", chain], None))
        .collect()
}

#[test]
fn later_starts_leave_the_skeleton_alone_and_a_damaged_one_is_rebuilt() {
    require_root!();
    let host = secure_host(&[("myjail", 2), ("otherjail", 6), ("third", 7)]);
    host.ok(["start", "myjail"]);
    let skeleton = base_chains(&host);
    host.ok(["start", "otherjail"]);
    assert_eq!(
        base_chains(&host),
        skeleton,
        "a later start rewrote the dispatch rules"
    );

    // Someone deletes a base chain: the next start puts it back, with one dispatch rule, and
    // the running jails are filtered again.
    nft(
        &host,
        &["-f", "-"],
        Some("flush chain bridge ioc prerouting\ndelete chain bridge ioc prerouting\n"),
    );
    host.ok(["start", "third"]);
    let table = ioc_table(&host);
    assert_eq!(
        table.matches("iifname vmap @from_port").count(),
        1,
        "{table}"
    );
    assert_eq!(table.matches("oifname vmap @to_port").count(), 1, "{table}");
    host.assert_pings("third", &["10.23.42.1"]);
    host.exec_ok(
        "myjail",
        &["ip", "addr", "add", "10.23.42.99/24", "dev", "vnet0"],
    );
    let spoofed = host.exec(
        "myjail",
        &[
            "ping",
            "-c",
            "1",
            "-W",
            "1",
            "-I",
            "10.23.42.99",
            "10.23.42.1",
        ],
    );
    assert!(!spoofed.status.success(), "a changed source passed again");

    host.ok(["stop", "myjail,otherjail,third"]);
    host.assert_clean(&["lo", "bridge0"]);
}
