//! Honest traffic through the filter: ping, TCP and UDP both ways, ARP and neighbour
//! discovery to the true MACs, and duplicate address detection, which must see a conflict.

use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::path::Path;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use ioc_tests::netns::{ip_in, HostNs};
use ioc_tests::require_root;
use nix::sched::{setns, CloneFlags};

use crate::lan::Lan;
use crate::{secure_host, IDLE};

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
