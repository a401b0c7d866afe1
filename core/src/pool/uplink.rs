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
