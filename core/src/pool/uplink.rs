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

/// The TCP or UDP ports bound on the host (Linux: `/proc/net/{tcp,udp}{,6}` of ioc's network
/// namespace; TCP only in LISTEN state), for the warning about a forward that a host process
/// already serves. Empty where the tables cannot be read.
pub fn bound_ports(udp: bool) -> Vec<u16> {
    let (files, listen_only) = if udp {
        (["/proc/net/udp", "/proc/net/udp6"], false)
    } else {
        (["/proc/net/tcp", "/proc/net/tcp6"], true)
    };
    files
        .iter()
        .filter_map(|f| std::fs::read_to_string(f).ok())
        .flat_map(|table| parse_socket_table(&table, listen_only))
        .collect()
}

/// The local ports of a `/proc/net/tcp`-style table (`0A` is TCP_LISTEN).
fn parse_socket_table(table: &str, listen_only: bool) -> Vec<u16> {
    table
        .lines()
        .skip(1)
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let local = fields.get(1)?;
            let state = fields.get(3)?;
            if listen_only && *state != "0A" {
                return None;
            }
            let (_, port) = local.rsplit_once(':')?;
            u16::from_str_radix(port, 16).ok()
        })
        .collect()
}

#[cfg(test)]
mod socket_tests {
    #[test]
    fn listening_ports_are_read_from_the_socket_table() {
        let table = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n\
                     0: 00000000:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1\n\
                     1: 0100007F:0016 0100007F:D2A4 01 00000000:00000000 00:00000000 00000000     0        0 2 1\n";
        assert_eq!(super::parse_socket_table(table, true), vec![8080]);
        assert_eq!(super::parse_socket_table(table, false), vec![8080, 22]);
    }
}
