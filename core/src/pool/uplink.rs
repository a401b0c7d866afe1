//! The uplink of NAT jails when `nat_interface=none`: the interface of the host's IPv4
//! default route, read from the kernel's routing table of the network namespace ioc runs in.

/// The interface of the IPv4 default route, if any (Linux: `/proc/net/route`, which shows the
/// reading process's own network namespace; elsewhere none, so `nat_interface` must be set).
pub fn default_route_interface() -> Option<String> {
    let table = std::fs::read_to_string("/proc/net/route").ok()?;
    parse_route_table(&table)
}

/// The first row of `/proc/net/route` with destination and mask 0 (the default route).
fn parse_route_table(table: &str) -> Option<String> {
    table.lines().skip(1).find_map(|line| {
        let fields: Vec<&str> = line.split_whitespace().collect();
        match fields.as_slice() {
            [iface, "00000000", _gateway, _flags, _refcnt, _use, _metric, "00000000", ..] => {
                Some(iface.to_string())
            }
            _ => None,
        }
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_default_route_row_names_the_uplink() {
        let table =
            "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n\
                     br0\t002A170A\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n\
                     up0\t00000000\t0102000A\t0003\t0\t0\t0\t00000000\t0\t0\t0\n";
        assert_eq!(super::parse_route_table(table).as_deref(), Some("up0"));
        assert_eq!(super::parse_route_table("Iface\n"), None);
    }
}

/// Whether a host process has `port` bound (TCP: listening; UDP: bound), for the warning
/// about a forward that a host process already serves.
///
/// A probe, not a table read: it binds a socket of that protocol to the wildcard address
/// and port, IPv4 then IPv6, and closes it at once (no `listen`, so it never takes a
/// connection). `/proc/net/{tcp,udp}{,6}` would list every socket of every network
/// namespace's hash buckets (about 5 ms a file on a busy host, per start); a bind costs
/// microseconds. The TCP probe sets `SO_REUSEADDR`, so only a listener or a socket without it
/// conflicts (not the connections in TIME_WAIT). False where sockets cannot be made.
pub fn port_bound(udp: bool, port: u16) -> bool {
    use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
    [
        SocketAddr::from((Ipv4Addr::UNSPECIFIED, port)),
        SocketAddr::from((Ipv6Addr::UNSPECIFIED, port)),
    ]
    .into_iter()
    .any(|addr| probe(udp, addr))
}

/// True when binding `addr` fails with `EADDRINUSE`.
fn probe(udp: bool, addr: std::net::SocketAddr) -> bool {
    use nix::sys::socket::{
        bind, setsockopt, socket, sockopt, AddressFamily, SockFlag, SockType, SockaddrStorage,
    };
    let (family, v6) = match addr {
        std::net::SocketAddr::V4(_) => (AddressFamily::Inet, false),
        std::net::SocketAddr::V6(_) => (AddressFamily::Inet6, true),
    };
    let kind = if udp {
        SockType::Datagram
    } else {
        SockType::Stream
    };
    let Ok(fd) = socket(family, kind, SockFlag::SOCK_CLOEXEC, None) else {
        return false;
    };
    if !udp && setsockopt(&fd, sockopt::ReuseAddr, &true).is_err() {
        return false;
    }
    // The IPv6 probe sees IPv6 sockets only: a dual-stack one already failed the IPv4 probe.
    if v6 && setsockopt(&fd, sockopt::Ipv6V6Only, &true).is_err() {
        return false;
    }
    matches!(
        bind(
            std::os::fd::AsRawFd::as_raw_fd(&fd),
            &SockaddrStorage::from(addr)
        ),
        Err(nix::errno::Errno::EADDRINUSE)
    )
}

#[cfg(test)]
mod socket_tests {
    #[test]
    fn a_bound_port_is_seen_and_a_free_one_is_not() {
        let tcp = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = tcp.local_addr().unwrap().port();
        assert!(super::port_bound(false, port));
        let udp = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let uport = udp.local_addr().unwrap().port();
        assert!(super::port_bound(true, uport));
        drop((tcp, udp));
        assert!(!super::port_bound(false, port));
    }
}
