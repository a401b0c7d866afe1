//! The learner process alone against real servers, with rules of the test's own that hand it
//! the replies through an nflog group (`log group N`), which every kernel with nftables has:
//! a real udhcpd lease to a real DHCP client, and a router advertisement, end in the port's
//! sets with their lifetimes; the learner exits when its port goes.

use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use ioc_tests::netns::{in_netns, HostNs};
use ioc_tests::{ioc_bin, require_root};

use crate::{dhcp_server, nft, sandbox};

/// Kills the learner when the test ends, whatever happened.
struct Learner(Child);

impl Drop for Learner {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `ioc __learn` for `port` in the sandbox and returns it with its number.
fn start_learner(host: &HostNs, port: &str, mac: &str) -> (Learner, u16) {
    let mut command = host.command(ioc_bin());
    let log = std::fs::File::create(host.dir().join("learner.log")).expect("learner log");
    command
        .args(["-vv", "__learn", "--port", port, "--mac", mac, "--table"])
        .arg(format!("ioc-{port}"))
        .args(["--set4", "lease4", "--set6", "slaac6", "--dhcp4", "--slaac"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(log);
    let mut child = Learner(command.spawn().expect("start the learner"));
    let stdout = child.0.stdout.take().expect("piped");
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("ready line");
    let queue = line
        .trim()
        .strip_prefix("ready ")
        .and_then(|q| q.parse().ok())
        .unwrap_or_else(|| panic!("not a ready line: {line:?}"));
    (child, queue)
}

/// The MAC of `link` in namespace `ns` (from `ip`: `/sys/class/net` shows the namespace
/// sysfs was mounted in, not the caller's).
fn mac_of(ns: &str, link: &str) -> String {
    let out = in_netns(ns, "ip")
        .args(["-o", "link", "show", "dev", link])
        .output()
        .expect("read the MAC");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let mut words = text.split_whitespace();
    words
        .find(|w| *w == "link/ether")
        .and_then(|_| words.next())
        .unwrap_or_else(|| panic!("no MAC in {text}"))
        .to_string()
}

/// Waits up to 10 s for `set` of the port's table to mention `what`; returns its listing.
fn wait_in_set(host: &HostNs, port: &str, set: &str, what: &str) -> String {
    let table = format!("ioc-{port}");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let listed = nft(host, &["list", "set", "netdev", &table, set], None).unwrap();
        if listed.contains(what) || Instant::now() > deadline {
            return listed;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn the_learner_learns_a_real_lease_and_a_slaac_address_from_logged_replies() {
    require_root!();
    let mut host = sandbox();
    let Some(_server) = dhcp_server(&mut host, 120) else {
        return;
    };
    // The "jail": a peer on bridge0 whose host end `peer1` is the learning port.
    let client = host.add_peer("bridge0", "192.0.2.99/32");
    let port = "peer1";
    let mac = mac_of(&client, "eth0");
    let (mut learner, group) = start_learner(&host, port, &mac);
    nft(
        &host,
        &["-f", "-"],
        Some(&format!(
            "table netdev ioc-{port} {{\n\
               set lease4 {{ type ipv4_addr; flags timeout; }}\n\
               set slaac6 {{ type ipv6_addr; flags timeout; }}\n\
               chain to {{\n\
                 type filter hook egress device \"{port}\" priority 0;\n\
                 udp sport 67 udp dport 68 log group {group}\n\
                 icmpv6 type nd-router-advert log group {group}\n\
               }}\n\
             }}\n"
        )),
    )
    .unwrap();
    // A real client: udhcpc asks, quits with its lease, configures nothing (script /bin/true).
    let out = in_netns(&client, "busybox")
        .args([
            "udhcpc",
            "-i",
            "eth0",
            "-n",
            "-q",
            "-t",
            "5",
            "-s",
            "/bin/true",
        ])
        .output()
        .expect("run udhcpc");
    let said =
        String::from_utf8_lossy(&out.stderr).into_owned() + &String::from_utf8_lossy(&out.stdout);
    let lease = said
        .split_whitespace()
        .map(|w| w.trim_end_matches(','))
        .find(|w| w.starts_with("10.23.42.1"))
        .unwrap_or_else(|| panic!("no lease: {said}"))
        .to_string();
    let listed = wait_in_set(&host, port, "lease4", &lease);
    let log = || std::fs::read_to_string(host.dir().join("learner.log")).unwrap_or_default();
    assert!(
        listed.contains(&format!("{lease} timeout 2m")),
        "{listed}\nlearner: {}",
        log()
    );
    // SLAAC: the EUI-64 address of the client's MAC in the advertised prefix.
    host.advertise_prefix("bridge0", "fd00:23::".parse().unwrap());
    let m: Vec<u8> = mac
        .split(':')
        .map(|h| u8::from_str_radix(h, 16).unwrap())
        .collect();
    let eui64 = std::net::Ipv6Addr::new(
        0xfd00,
        0x23,
        0,
        0,
        u16::from_be_bytes([m[0] ^ 2, m[1]]),
        u16::from_be_bytes([m[2], 0xff]),
        u16::from_be_bytes([0xfe, m[3]]),
        u16::from_be_bytes([m[4], m[5]]),
    );
    let listed = wait_in_set(&host, port, "slaac6", &eui64.to_string());
    assert!(
        listed.contains(&eui64.to_string()),
        "{eui64} not in {listed}"
    );
    // The port goes: the learner exits by itself.
    host.ip(["link", "del", port]);
    let deadline = Instant::now() + Duration::from_secs(5);
    while learner.0.try_wait().expect("wait").is_none() {
        assert!(Instant::now() < deadline, "the learner outlived its port");
        std::thread::sleep(Duration::from_millis(100));
    }
    nft(
        &host,
        &["delete", "table", "netdev", &format!("ioc-{port}")],
        None,
    )
    .unwrap();
}
