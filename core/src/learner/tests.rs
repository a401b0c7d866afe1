//! The learner end to end: crafted packets through parsing and state to set changes, and the
//! queue protocol against the real kernel in a private network namespace.

use std::net::Ipv4Addr;
use std::process::Command;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use ioc_sdk::{Mac, NftFamily};

use super::frame::build::{ethernet, icmp6, udp4};
use super::nfqueue::{Kind, NfQueue};
use super::run::changes;
use super::state::Learned;
use super::{dhcp, ra, LearnConfig, Sink};
use crate::host::linux::netlink::{ElementChange, Netlink};
use crate::host::linux::netns::tests::{can_unshare, in_new_netns};

const MAC: Mac = Mac([0x02, 0x11, 0x22, 0x33, 0x44, 0x55]);

fn config(port: &str, queue: u16) -> LearnConfig {
    LearnConfig {
        port: port.into(),
        mac: MAC,
        queue,
        sink: Sink {
            family: NftFamily::Netdev,
            table: format!("ioc-{port}"),
            set4: "lease4".into(),
            set6: "slaac6".into(),
        },
        dhcp4: true,
        slaac: true,
        record: None,
    }
}

fn server() -> Ipv4Addr {
    Ipv4Addr::new(192, 0, 2, 1)
}

fn ack_packet(address: Ipv4Addr, lease: u32) -> Vec<u8> {
    let body = dhcp::build::ack(MAC, address, lease);
    udp4(server(), Ipv4Addr::BROADCAST, (67, 68), &body)
}

#[test]
fn crafted_replies_become_set_changes_on_either_layer() {
    let config = config("vnet0.5", 0);
    let mut learned = Learned::default();
    let now = Instant::now();
    let ack = ack_packet(Ipv4Addr::new(192, 0, 2, 50), 90);
    let c = changes(&config, &mut learned, &ethernet(&ack, 0x0800, false), now);
    assert_eq!(c.len(), 2, "the kernel's provisional element goes first");
    assert_eq!(c[0].change, ElementChange::Delete);
    assert_eq!(
        (c[1].change, c[1].set.as_str(), c[1].elements[0].1),
        (ElementChange::Add, "lease4", Some(Duration::from_secs(90)))
    );
    let ra = ra::build::ra(&[ra::build::pio("2001:db8::".parse().unwrap(), 64, 0x40, 300)]);
    let ra = icmp6(
        "fe80::1".parse().unwrap(),
        "ff02::1".parse().unwrap(),
        255,
        &ra,
    );
    let c = changes(&config, &mut learned, &ra, now);
    assert_eq!(c[0].set, "slaac6");
    assert_eq!(
        c[0].elements[0].0.to_string(),
        "2001:db8::11:22ff:fe33:4455"
    );
    // Learning switched off: the same packets change nothing.
    let off = LearnConfig {
        dhcp4: false,
        slaac: false,
        ..config
    };
    assert!(changes(&off, &mut Learned::default(), &ack, now).is_empty());
    assert!(changes(&off, &mut Learned::default(), &ra, now).is_empty());
}

/// Whether this kernel has nftables' `queue` expression (`CONFIG_NFT_QUEUE`); prints why the
/// test is skipped when not. Asked in the calling thread's (private) network namespace.
fn has_nft_queue(test: &str) -> bool {
    let probe = "table netdev ioc-probe {\n chain c {\n queue num 1\n }\n}\ndelete table netdev ioc-probe\n";
    let ok = try_nft(probe).is_ok();
    if !ok {
        eprintln!(
            "skipping {test}: the kernel has no nftables queue expression (CONFIG_NFT_QUEUE)"
        );
    }
    ok
}

/// Runs `nft -f -` with `script` in the calling thread's network namespace.
fn nft(script: &str) -> String {
    try_nft(script).unwrap_or_else(|e| panic!("nft -f: {e}"))
}

fn try_nft(script: &str) -> Result<String, String> {
    use std::io::Write;
    let mut child = Command::new("nft")
        .args(["-f", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run nft");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(script.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Sends `frame` out of interface `index` through a packet socket.
fn send_frame(index: u32, frame: &[u8]) {
    // SAFETY: plain socket creation; the descriptor is closed below.
    let fd = unsafe { libc::socket(libc::AF_PACKET, libc::SOCK_RAW, 0) };
    assert!(
        fd >= 0,
        "packet socket: {}",
        std::io::Error::last_os_error()
    );
    // SAFETY: sockaddr_ll is plain data; all-zero is a valid value.
    let mut address: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
    address.sll_family = libc::AF_PACKET as u16;
    address.sll_ifindex = index as i32;
    address.sll_halen = 6;
    // SAFETY: `frame` and `address` are valid for the call; the lengths are theirs.
    let sent = unsafe {
        libc::sendto(
            fd,
            frame.as_ptr().cast(),
            frame.len(),
            0,
            (&address as *const libc::sockaddr_ll).cast(),
            std::mem::size_of::<libc::sockaddr_ll>() as u32,
        )
    };
    // SAFETY: `fd` is ours and not used after this.
    unsafe { libc::close(fd) };
    assert_eq!(
        sent,
        frame.len() as isize,
        "{}",
        std::io::Error::last_os_error()
    );
}

/// A veth pair `port`/`port`p, both up; returns the indices.
fn veth(nl: &mut Netlink, port: &str) -> (u32, u32) {
    let peer = format!("{port}p");
    let index = nl.create_veth(port, &peer, None, None, None, None).unwrap();
    let peer_index = nl.link(&peer).unwrap().unwrap().index;
    nl.set_up(index, true).unwrap();
    nl.set_up(peer_index, true).unwrap();
    (index, peer_index)
}

/// Deletes a link when dropped.
struct DeleteOnDrop(u32);

impl Drop for DeleteOnDrop {
    fn drop(&mut self) {
        if let Ok(mut nl) = Netlink::open() {
            let _ = nl.delete_link(self.0);
        }
    }
}

fn frame_to_jail(packet: &[u8]) -> Vec<u8> {
    let mut f = vec![0xff; 6];
    f.extend_from_slice(&[0x02, 0, 0, 0, 0, 1, 0x08, 0x00]);
    f.extend_from_slice(packet);
    f
}

/// What the kernel hands the queue (or log group) on the netdev hooks: ingress starts at the
/// network header, egress at the Ethernet header (the learner reads both, see `frame.rs`).
fn netdev_hooks_hand_over(test: &str, port: &str, kind: Kind, verb: &str) {
    if !can_unshare(test) {
        return;
    }
    in_new_netns(|| {
        if kind == Kind::Queue && !has_nft_queue(test) {
            return;
        }
        let mut nl = Netlink::open().unwrap();
        let (index, peer) = veth(&mut nl, port);
        let mut queue = NfQueue::bind(kind, 4242).unwrap();
        nft(&format!(
            "table netdev t {{
               chain in {{
                 type filter hook ingress device \"{port}\" priority 0; udp dport 68 {verb} 4242
               }}
               chain out {{
                 type filter hook egress device \"{port}\" priority 0; udp dport 68 {verb} 4242
               }}
             }}"
        ));
        let ack = ack_packet(Ipv4Addr::new(192, 0, 2, 9), 60);
        send_frame(peer, &frame_to_jail(&ack));
        send_frame(index, &frame_to_jail(&ack));
        let mut seen = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(5);
        while seen.len() < 2 && Instant::now() < deadline {
            queue
                .receive(Duration::from_millis(200), |p| {
                    seen.push((p.hook, p.payload.to_vec()))
                })
                .unwrap();
        }
        seen.sort();
        assert_eq!(seen.len(), 2, "both packets handed over");
        assert_eq!((seen[0].0, &seen[0].1), (0, &ack), "ingress: the IP packet");
        let frame = frame_to_jail(&ack);
        assert_eq!(
            (seen[1].0, &seen[1].1[..]),
            (1, &frame[..]),
            "egress: the frame"
        );
        // The number is ours: a second bind of it is refused as taken.
        let e = NfQueue::bind(kind, 4242).err().expect("taken");
        assert!(super::nfqueue::is_taken(&e), "{e}");
    });
}

#[test]
fn netdev_hooks_queue_packets_from_the_network_or_link_header() {
    let test = "netdev_hooks_queue_packets_from_the_network_or_link_header";
    netdev_hooks_hand_over(test, "lq0", Kind::Queue, "queue num");
}

#[test]
fn netdev_hooks_log_packets_from_the_network_or_link_header() {
    let test = "netdev_hooks_log_packets_from_the_network_or_link_header";
    netdev_hooks_hand_over(test, "lq1", Kind::Log, "log group");
}

/// The learner binds a queue and log group, learns a lease from an ACK toward the port into
/// the set with the lease's timeout, follows a change of address, and exits when its port is
/// deleted; `verb` is how the rule hands it the packet (`queue num` or `log group`).
fn the_learner_fills_the_set(test: &str, port: &str, verb: &str) {
    if !can_unshare(test) {
        return;
    }
    in_new_netns(|| {
        if verb.starts_with("queue") && !has_nft_queue(test) {
            return;
        }
        let mut nl = Netlink::open().unwrap();
        let (index, _peer) = veth(&mut nl, port);
        let config = config(port, super::first_queue(port));
        let (tx, rx) = mpsc::channel();
        std::thread::scope(|scope| {
            let learner = scope.spawn(|| super::run(&config, |q| tx.send(q).unwrap()));
            // Whatever fails below, the port goes, so the learner ends and the scope can too.
            let port_guard = DeleteOnDrop(index);
            let queue = rx.recv_timeout(Duration::from_secs(5)).expect("ready");
            nft(&format!(
                "table netdev ioc-{port} {{
                   set lease4 {{ type ipv4_addr; flags timeout; }}
                   set slaac6 {{ type ipv6_addr; flags timeout; }}
                   chain to {{
                     type filter hook egress device \"{port}\" priority 0;
                     udp sport 67 udp dport 68 {verb} {queue}
                   }}
                 }}"
            ));
            let list = || nft(&format!("list set netdev ioc-{port} lease4"));
            let wait_for = |what: &str| {
                let deadline = Instant::now() + Duration::from_secs(5);
                let mut listed = list();
                while Instant::now() < deadline && !listed.contains(what) {
                    std::thread::sleep(Duration::from_millis(50));
                    listed = list();
                }
                listed
            };
            send_frame(
                index,
                &frame_to_jail(&ack_packet(Ipv4Addr::new(192, 0, 2, 77), 3600)),
            );
            let listed = wait_for("192.0.2.77");
            assert!(listed.contains("192.0.2.77 timeout 1h"), "{listed}");
            // A new lease for another address replaces it.
            send_frame(
                index,
                &frame_to_jail(&ack_packet(Ipv4Addr::new(192, 0, 2, 78), 60)),
            );
            let listed = wait_for("192.0.2.78");
            assert!(listed.contains("192.0.2.78 timeout 1m"), "{listed}");
            assert!(!listed.contains("192.0.2.77"), "{listed}");
            // An ACK for another MAC changes nothing.
            let mut other = ack_packet(Ipv4Addr::new(192, 0, 2, 79), 60);
            other[28 + 28 + 5] ^= 1;
            send_frame(index, &frame_to_jail(&other));
            std::thread::sleep(Duration::from_millis(300));
            assert!(!list().contains("192.0.2.79"));
            drop(port_guard);
            let started = Instant::now();
            learner.join().unwrap().expect("learner ends cleanly");
            assert!(started.elapsed() < Duration::from_secs(4));
        });
    });
}

#[test]
fn the_learner_fills_the_set_from_queued_replies() {
    the_learner_fills_the_set(
        "the_learner_fills_the_set_from_queued_replies",
        "lp0",
        "queue num",
    );
}

#[test]
fn the_learner_fills_the_set_from_logged_replies() {
    the_learner_fills_the_set(
        "the_learner_fills_the_set_from_logged_replies",
        "lp1",
        "log group",
    );
}

/// A number taken as a queue or as a log group by someone else is skipped.
#[test]
fn the_learner_skips_numbers_taken_as_queue_or_log_group() {
    if !can_unshare("the_learner_skips_numbers_taken_as_queue_or_log_group") {
        return;
    }
    in_new_netns(|| {
        let _queue = NfQueue::bind(Kind::Queue, 5000).unwrap();
        let _log = NfQueue::bind(Kind::Log, 5001).unwrap();
        let sockets = super::run::bind_free(5000).unwrap();
        assert_eq!(sockets.each_ref().map(|s| s.queue()), [5002, 5002]);
    });
}
