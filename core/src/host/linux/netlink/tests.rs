//! The netlink module against the real kernel, each test in a private network namespace.

use super::super::netns::tests::{can_unshare, in_new_netns, new_netns};
use super::super::netns::{current_netns, read_sysctl_in, sysctl_key, write_sysctl_in};
use super::address::address_message;
use super::parse::{parse_address, parse_link, parse_route, IFINFOMSG_LEN};
use super::route::route_message;
use super::socket::{error_code, extack_message};
use super::*;
use netlink_packet_core::{NLMSG_DONE, NLMSG_ERROR, NLM_F_ACK_TLVS};
use std::io;
use std::net::IpAddr;
use std::os::fd::AsFd;

const MAC_A: [u8; 6] = [0x02, 0x10, 0x00, 0x00, 0x00, 0x0a];
const MAC_B: [u8; 6] = [0x02, 0x10, 0x00, 0x00, 0x00, 0x0b];

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

/// Runs `f` with a netlink socket in a private network namespace; `None` when skipped.
fn with_private_netlink<T: Send>(
    test: &str,
    f: impl FnOnce(&mut Netlink) -> T + Send,
) -> Option<T> {
    if !can_unshare(test) {
        return None;
    }
    Some(in_new_netns(|| {
        f(&mut Netlink::open().expect("open netlink"))
    }))
}

/// A veth pair `name` / `name`p, both up, and the index of each end.
fn veth(nl: &mut Netlink, name: &str) -> (u32, u32) {
    let peer = format!("{name}p");
    let index = nl.create_veth(name, &peer, None, None, None, None).unwrap();
    let peer_index = nl.link(&peer).unwrap().unwrap().index;
    (index, peer_index)
}

#[test]
fn kernel_error_reads_as_one_line_with_context() {
    let e = NlError::Kernel {
        errno: libc::EEXIST,
        context: "create veth vnet0.5".to_string(),
    };
    assert_eq!(
        e.to_string(),
        "create veth vnet0.5: File exists (os error 17)"
    );
    assert!(e.is_exists() && !e.is_not_found());
    for errno in [libc::ENODEV, libc::ENOENT, libc::ESRCH, libc::EADDRNOTAVAIL] {
        assert!(NlError::Kernel {
            errno,
            context: String::new()
        }
        .is_not_found());
    }
    assert!(!NlError::Protocol("x".into()).is_not_found());
}

#[test]
fn malformed_replies_are_errors_not_panics() {
    assert!(parse_link(&[0; 3]).is_err());
    let mut short_attribute = vec![0u8; IFINFOMSG_LEN];
    short_attribute.extend([8, 0, 3, 0, b'x']);
    assert!(parse_link(&short_attribute).is_err());
    assert!(parse_address(&[2, 24]).is_err());
    assert!(parse_route(&[10]).is_err());
    assert_eq!(
        extack_message(&[0xff; 6], NLMSG_ERROR, NLM_F_ACK_TLVS),
        None
    );
    assert!(error_code(&[1], NLMSG_ERROR, &|| String::new()).is_err());
    assert_eq!(error_code(&[], NLMSG_DONE, &|| String::new()).unwrap(), 0);
}

#[test]
fn invalid_routes_are_refused_before_sending() {
    let refused = |dst, gw, oif| matches!(route_message(dst, gw, oif), Err(NlError::Io(ref e)) if e.kind() == io::ErrorKind::InvalidInput);
    assert!(refused(None, None, Some(1)));
    assert!(refused(
        Some((ip("10.0.0.0"), 8)),
        Some(ip("2001:db8::1")),
        None
    ));
    assert!(refused(None, Some(ip("fe80::1")), None));
    assert!(refused(Some((ip("10.0.0.0"), 33)), None, Some(1)));
    assert!(address_message(1, ip("2001:db8::1"), 129, true).is_err());
}

#[test]
fn veth_is_created_up_with_macs_mtu_and_alias() {
    with_private_netlink("veth_is_created_up_with_macs_mtu_and_alias", |nl| {
        let index = nl
            .create_veth(
                "vnet0.5",
                "vnet0.5j",
                Some(MAC_A),
                Some(MAC_B),
                Some(1400),
                Some("ioc jail-a"),
            )
            .unwrap();
        let host = nl.link("vnet0.5").unwrap().unwrap();
        assert_eq!(host.index, index);
        assert_eq!(host.mac, Some(MAC_A));
        assert_eq!(host.mtu, 1400);
        assert!(host.up);
        assert_eq!(host.kind.as_deref(), Some("veth"));
        assert_eq!(host.alias.as_deref(), Some("ioc jail-a"));
        assert_eq!(host.master, None);

        let peer = nl.link("vnet0.5j").unwrap().unwrap();
        assert_eq!((peer.mac, peer.mtu, peer.up), (Some(MAC_B), 1400, true));
        assert_eq!(peer.alias, None);
        assert_eq!(nl.link_by_index(index).unwrap(), Some(host));

        // A per-link sysctl of a name with a dot, in this namespace only.
        let ns = current_netns().unwrap();
        let key = sysctl_key("net.ipv6.conf.vnet0.5.accept_ra");
        write_sysctl_in(ns.as_fd(), &key, "0").unwrap();
        assert_eq!(read_sysctl_in(ns.as_fd(), &key).unwrap(), "0");
        write_sysctl_in(ns.as_fd(), &key, "2").unwrap();
        assert_eq!(read_sysctl_in(ns.as_fd(), &key).unwrap(), "2");
    });
}

#[test]
fn bridge_takes_a_port() {
    with_private_netlink("bridge_takes_a_port", |nl| {
        let bridge = nl.create_bridge("bridge0", Some(1450)).unwrap();
        let link = nl.link_by_index(bridge).unwrap().unwrap();
        assert_eq!(
            (link.name.as_str(), link.mtu, link.up),
            ("bridge0", 1450, true)
        );
        assert_eq!(link.kind.as_deref(), Some("bridge"));

        let (port, _) = veth(nl, "vnet1");
        nl.set_master("vnet1", bridge).unwrap();
        assert_eq!(
            nl.link_by_index(port).unwrap().unwrap().master,
            Some(bridge)
        );
        nl.set_master("vnet1", 0).unwrap();
        assert_eq!(nl.link_by_index(port).unwrap().unwrap().master, None);
        nl.set_master("vnet1", bridge).unwrap();
        assert_eq!(
            nl.link_by_index(port).unwrap().unwrap().master,
            Some(bridge)
        );
        let missing = nl.set_master("vnet9", bridge).unwrap_err();
        assert!(missing.is_not_found(), "{missing}");
    });
}

#[test]
fn rename_and_up_in_one_request_also_when_up() {
    with_private_netlink("rename_and_up_in_one_request_also_when_up", |nl| {
        let (_, peer) = veth(nl, "tmp0");
        // Created up: rename has to take it down first.
        nl.rename(peer, "vnet0", true).unwrap();
        let link = nl.link_by_index(peer).unwrap().unwrap();
        assert_eq!((link.name.as_str(), link.up), ("vnet0", true));
        assert_eq!(nl.link("tmp0p").unwrap(), None);

        nl.set_up(peer, false).unwrap();
        assert!(!nl.link_by_index(peer).unwrap().unwrap().up);
        nl.rename(peer, "eth0", false).unwrap();
        let link = nl.link_by_index(peer).unwrap().unwrap();
        assert_eq!((link.name.as_str(), link.up), ("eth0", false));
        nl.rename(peer, "eth1", true).unwrap();
        let link = nl.link_by_index(peer).unwrap().unwrap();
        assert_eq!((link.name.as_str(), link.up), ("eth1", true));
    });
}

#[test]
fn peer_moves_into_another_namespace() {
    if !can_unshare("peer_moves_into_another_namespace") {
        return;
    }
    let jail = new_netns();
    in_new_netns(|| {
        let own = current_netns().unwrap();
        let mut nl = Netlink::open().unwrap();
        let (host, peer) = veth(&mut nl, "vnet2");
        nl.move_to_netns(peer, jail.as_fd()).unwrap();
        assert_eq!(nl.link("vnet2p").unwrap(), None);

        let mut in_jail = Netlink::open_in(jail.as_fd()).unwrap();
        // open_in came back to this thread's own namespace.
        let same = |a: &std::os::fd::OwnedFd, b: &std::os::fd::OwnedFd| {
            let stat =
                |fd: &std::os::fd::OwnedFd| nix::sys::stat::fstat(fd.as_fd()).unwrap().st_ino;
            stat(a) == stat(b)
        };
        assert!(same(&own, &current_netns().unwrap()));
        let moved = in_jail.link("vnet2p").unwrap().expect("peer in the jail");
        assert!(!moved.up, "a moved link is down");
        in_jail.rename(moved.index, "vnet0", true).unwrap();
        let link = in_jail.link("vnet0").unwrap().unwrap();
        assert!(link.up);
        assert!(in_jail.links().unwrap().iter().all(|l| l.name != "vnet2"));
        assert!(nl.link_by_index(host).unwrap().is_some());

        // Deleting the host end takes the jail end with it.
        nl.delete_link(host).unwrap();
        assert_eq!(in_jail.link("vnet0").unwrap(), None);
    });
}

#[test]
fn peer_is_born_in_another_namespace() {
    if !can_unshare("peer_is_born_in_another_namespace") {
        return;
    }
    let jail = new_netns();
    in_new_netns(|| {
        let mut nl = Netlink::open().unwrap();
        let (host, peer) = nl
            .create_veth_in(
                "vnet6",
                "vnet0",
                jail.as_fd(),
                &VethEnds {
                    mac: Some(MAC_A),
                    peer_mac: Some(MAC_B),
                    mtu: Some(1280),
                    alias: Some("ioc jail-b"),
                },
            )
            .unwrap();
        let link = nl.link_by_index(host).unwrap().unwrap();
        assert_eq!(
            (link.name.as_str(), link.up, link.mtu),
            ("vnet6", true, 1280)
        );
        assert_eq!(link.alias.as_deref(), Some("ioc jail-b"));
        assert_eq!(nl.link("vnet0").unwrap(), None);

        let mut in_jail = Netlink::open_in(jail.as_fd()).unwrap();
        let born = in_jail.link("vnet0").unwrap().expect("peer in the jail");
        assert_eq!(born.index, peer);
        assert_eq!((born.mac, born.mtu, born.up), (Some(MAC_B), 1280, false));
        in_jail.set_up(peer, true).unwrap();
        assert!(in_jail.link_by_index(peer).unwrap().unwrap().up);
        // Both ends get their carrier together; once the jail's end has its link-local
        // address, the host end would have one too, but it is a port without IPv6.
        let has_v6 = |nl: &mut Netlink, index: u32| {
            nl.addresses(Some(index))
                .unwrap()
                .iter()
                .any(|a| a.addr.is_ipv6())
        };
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while !has_v6(&mut in_jail, peer) {
            assert!(
                std::time::Instant::now() < deadline,
                "no link-local in the jail"
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
        assert!(!has_v6(&mut nl, host), "the host end has an IPv6 address");
        // IPv6 is off on the port, so it has no route either (not even the multicast route
        // every IPv6 link gets with its carrier), in any table.
        let here = current_netns().unwrap();
        let key = sysctl_key("net.ipv6.conf.vnet6.disable_ipv6");
        assert_eq!(read_sysctl_in(here.as_fd(), &key).unwrap(), "1");
        let routes = std::process::Command::new("ip")
            .args(["-6", "route", "show", "table", "all", "dev", "vnet6"])
            .output()
            .unwrap();
        assert!(routes.status.success());
        assert_eq!(String::from_utf8_lossy(&routes.stdout), "");

        // The same name again, in either namespace, is taken.
        let again = nl.create_veth_in("vnet7", "vnet0", jail.as_fd(), &VethEnds::default());
        assert!(again.unwrap_err().is_exists());
        assert_eq!(nl.link("vnet7").unwrap(), None);

        nl.delete_link(host).unwrap();
        assert_eq!(in_jail.link("vnet0").unwrap(), None);
    });
}

#[test]
fn addresses_are_added_listed_and_deleted() {
    with_private_netlink("addresses_are_added_listed_and_deleted", |nl| {
        let (index, other) = veth(nl, "vnet3");
        let v4 = ip("10.23.42.2");
        let v6 = ip("2001:db8:42::2");
        nl.add_address(index, v4, 24).unwrap();
        nl.add_address(index, v6, 64).unwrap();
        nl.add_address(other, ip("10.23.43.2"), 32).unwrap();
        assert!(nl.add_address(index, v4, 24).unwrap_err().is_exists());

        let listed = nl.addresses(Some(index)).unwrap();
        assert!(listed.iter().all(|a| a.index == index));
        let find = |addr| listed.iter().find(|a| a.addr == addr).cloned();
        let a4 = find(v4).expect("IPv4 address listed");
        assert_eq!(
            (a4.prefix, a4.broadcast),
            (24, Some("10.23.42.255".parse().unwrap()))
        );
        assert_eq!(a4.dad, Dad::Done);
        let a6 = find(v6).expect("IPv6 address listed");
        assert_eq!((a6.prefix, a6.broadcast), (64, None));
        // The link is down, so detection has not even begun.
        assert_eq!(a6.dad, Dad::Tentative);
        // Optimistic only where the link allows it (see LINUX_JAIL_NET_SYSCTLS).
        let v6b = ip("2001:db8:43::2");
        std::fs::write("/proc/sys/net/ipv6/conf/vnet3/optimistic_dad", "1").unwrap();
        nl.add_optimistic_address(index, v6b, 64).unwrap();
        let v6c = ip("2001:db8:44::2");
        nl.add_optimistic_address(other, v6c, 64).unwrap();
        let dad_of = |nl: &mut Netlink, addr| {
            let all = nl.addresses(None).unwrap();
            all.iter().find(|a| a.addr == addr).unwrap().dad
        };
        assert_eq!(dad_of(nl, v6b), Dad::Optimistic);
        assert!(Dad::Optimistic.usable());
        assert_eq!(dad_of(nl, v6c), Dad::Tentative);
        assert!(!Dad::Tentative.usable());

        let all = nl.addresses(None).unwrap();
        let host_route = all
            .iter()
            .find(|a| a.index == other)
            .expect("other link's address");
        assert_eq!((host_route.prefix, host_route.broadcast), (32, None));

        nl.delete_address(index, v4, 24).unwrap();
        nl.delete_address(index, v6, 64).unwrap();
        assert!(nl
            .addresses(Some(index))
            .unwrap()
            .iter()
            .all(|a| a.addr != v4 && a.addr != v6));
        assert!(nl.delete_address(index, v4, 24).unwrap_err().is_not_found());
        assert!(nl.delete_address(index, v6, 64).unwrap_err().is_not_found());
    });
}

#[test]
fn default_and_interface_routes_both_families() {
    with_private_netlink("default_and_interface_routes_both_families", |nl| {
        let (index, _) = veth(nl, "vnet4");
        nl.add_address(index, ip("10.23.42.2"), 24).unwrap();

        nl.add_route(None, Some(ip("10.23.42.1")), None).unwrap();
        nl.add_route(Some((ip("192.168.7.0"), 24)), None, Some(index))
            .unwrap();
        let routes = nl.routes(false).unwrap();
        let default = RouteInfo {
            destination: None,
            gateway: Some(ip("10.23.42.1")),
            oif: Some(index),
        };
        assert!(routes.contains(&default), "{routes:?}");
        let on_link = RouteInfo {
            destination: Some((ip("192.168.7.0"), 24)),
            gateway: None,
            oif: Some(index),
        };
        assert!(routes.contains(&on_link), "{routes:?}");
        assert!(nl
            .add_route(None, Some(ip("10.23.42.1")), None)
            .unwrap_err()
            .is_exists());

        nl.add_route(Some((ip("2001:db8:7::"), 64)), None, Some(index))
            .unwrap();
        nl.add_route(None, Some(ip("fe80::1")), Some(index))
            .unwrap();
        let routes = nl.routes(true).unwrap();
        let default6 = RouteInfo {
            destination: None,
            gateway: Some(ip("fe80::1")),
            oif: Some(index),
        };
        assert!(routes.contains(&default6), "{routes:?}");
        let on_link6 = RouteInfo {
            destination: Some((ip("2001:db8:7::"), 64)),
            gateway: None,
            oif: Some(index),
        };
        assert!(routes.contains(&on_link6), "{routes:?}");
        assert!(routes.iter().all(|r| r.destination.is_none_or_v6()));
    });
}

trait V6 {
    fn is_none_or_v6(&self) -> bool;
}
impl V6 for Option<(IpAddr, u8)> {
    fn is_none_or_v6(&self) -> bool {
        self.is_none_or(|(addr, _)| addr.is_ipv6())
    }
}

#[test]
fn missing_and_existing_objects_are_recognised() {
    with_private_netlink("missing_and_existing_objects_are_recognised", |nl| {
        assert_eq!(nl.link("nosuch0").unwrap(), None);
        assert_eq!(nl.link_by_index(9999).unwrap(), None);
        let missing = nl.delete_link(9999).unwrap_err();
        assert!(missing.is_not_found(), "{missing}");
        assert_eq!(
            missing.to_string(),
            "delete link #9999: No such device (os error 19)"
        );

        veth(nl, "vnet5");
        let taken = nl
            .create_veth("vnet5", "other0", None, None, None, None)
            .unwrap_err();
        assert!(taken.is_exists(), "{taken}");
        assert!(
            taken
                .to_string()
                .starts_with("create veth vnet5 (peer other0)"),
            "{taken}"
        );
        let taken = nl.create_bridge("vnet5p", None).unwrap_err();
        assert!(taken.is_exists(), "{taken}");

        // The kernel's own explanation comes along, and the socket stays usable after errors.
        let refused = nl.create_bridge("name-much-too-long", None).unwrap_err();
        assert!(matches!(refused, NlError::Kernel { .. }), "{refused}");
        eprintln!("kernel says: {refused}");
        assert!(nl.link("vnet5").unwrap().is_some());
    });
}

#[test]
fn dump_spanning_many_datagrams() {
    with_private_netlink("dump_spanning_many_datagrams", |nl| {
        for i in 0..60 {
            nl.create_bridge(&format!("br{i}"), None).unwrap();
        }
        let links = nl.links().unwrap();
        assert_eq!(links.len(), 61, "lo and 60 bridges");
        assert!(links.iter().any(|l| l.name == "lo" && l.kind.is_none()));
    });
}
