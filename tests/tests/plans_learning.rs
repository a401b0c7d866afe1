//! Dry runs of Secure VNET jails that learn their addresses (issue 11): the FreeBSD plans of a
//! DHCP and a SLAAC jail with ipfw and pf (pf refuses DHCP), and a Linux plan that still works.
//! A sibling of `plans.rs`, which holds the seed's plans.
// The sandbox harness is Linux-only (namespaces); the FreeBSD build skips these tests.
#![cfg(target_os = "linux")]

use ioc_tests::netns::seed_host;
use ioc_tests::plans::{plan_commands, plan_headers};
use ioc_tests::{require_root, Sandbox};

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Secure VNET jails that learn their addresses (issue 11), each alone in a fresh sandbox so
/// it gets JID 1: `jail-d` takes `ip4_addr="vnet0|dhcp"`, `jail-s` `ip6_addr="vnet0|accept_rtadv"`.
fn learning_sandbox(jail: &str, address: &str, firewall: Option<&str>) -> Sandbox {
    let sandbox = Sandbox::new();
    sandbox.ok(["create", jail]);
    sandbox.ok(["set", "vnet=on", "interfaces=vnet0::bridge0", address, jail]);
    if let Some(firewall) = firewall {
        sandbox.ok(["set", &format!("firewall={firewall}"), "defaults"]);
    }
    sandbox
}

/// The FreeBSD start and stop plans of one jail, as command lines; the JID is 1.
fn freebsd_plans(sandbox: &Sandbox, jail: &str) -> (Vec<String>, Vec<String>) {
    let plan = |kind: &str| {
        let out = sandbox.ok([kind, "--dry-run", "--platform", "freebsd", jail]);
        assert_eq!(
            plan_headers(&out),
            [format!("# {jail} (JID 1, freebsd)")],
            "{out}"
        );
        plan_commands(&out)
    };
    (plan("start"), plan("stop"))
}

fn lines(text: &str) -> Vec<String> {
    text.lines().map(str::to_string).collect()
}

/// The start of a learning jail up to its firewall: the jail, its pair, the second pair.
fn secure_start_head(jail: &str, host_mac: &str, jail_mac: &str) -> String {
    format!(
        "\
/usr/sbin/jail -c name=ioc-{jail} jid=1 host.hostname={jail} path=/ vnet=1 allow.raw_sockets=0 persist
/sbin/ifconfig epair create up
/sbin/ifconfig epair0a link {host_mac} mtu 1500 description \"associated with jail: {jail}\" name vnet0:1 up
/sbin/ifconfig epair0b link {jail_mac} mtu 1500 name vnet0:1:j up
/sbin/ifconfig epair create up
/sbin/ifconfig epair1a mtu 1500 name vnet0:1:a up
/sbin/ifconfig epair1b mtu 1500 name vnet0:1:b up"
    )
}

/// From the bridges on: the per-jail bridge, the move into the jail and its loopback.
fn secure_start_tail(jail: &str) -> String {
    format!(
        "\
/sbin/ifconfig bridge create name vnet0:1:net up
/sbin/ifconfig vnet0:1:net addm vnet0:1 addm vnet0:1:b up
/sbin/ifconfig bridge0 addm vnet0:1:a up
/sbin/ifconfig vnet0:1:j vnet ioc-{jail}
/usr/sbin/jexec ioc-{jail} /sbin/ifconfig vnet0:1:j name vnet0
/usr/sbin/jexec ioc-{jail} /sbin/ifconfig lo0 localhost"
    )
}

const SECURE_STOP_LINKS: &str = "\
/sbin/ifconfig vnet0:1 destroy
/sbin/ifconfig vnet0:1:a destroy
/sbin/ifconfig vnet0:1:net destroy";

/// ipfw (the FreeBSD default) with DHCP: the lease table before the rules, the rules that use
/// it, the learner before the bridges, dhclient in the jail; on stop the table goes last.
#[test]
fn freebsd_ipfw_dhcp_jail_plans() {
    let sandbox = learning_sandbox("jail-d", "ip4_addr=vnet0|dhcp", None);
    let (start, stop) = freebsd_plans(&sandbox, "jail-d");
    let mac = "02:ff:60:ef:5f:9b";
    let add = "/sbin/ipfw -q add 10001";
    let firewall = format!(
        "\
/sbin/ipfw -q table ioc-1-vnet0-lease4 create type addr or-flush
{add} deny log udp from any 67 to any layer2 via vnet0:1:b out
{add} allow udp from 0.0.0.0 68 to any 67 layer2 MAC any {mac} via vnet0:1:b out
{add} allow ipv4 from \"table(ioc-1-vnet0-lease4)\" to any layer2 MAC any {mac} via vnet0:1:b out
{add} allow udp from any 67 to any 68 layer2 MAC {mac} any via vnet0:1 out
{add} allow udp from any 67 to any 68 layer2 MAC ff:ff:ff:ff:ff:ff any via vnet0:1 out
{add} allow udp from any 67 to any 68 via vnet0:1 out
{add} allow ipv4 from any to \"table(ioc-1-vnet0-lease4)\" layer2 MAC {mac} any via vnet0:1 out
{add} allow ipv4 from any to \"table(ioc-1-vnet0-lease4)\" via vnet0:1 out
{add} deny log ipv4 from any to any layer2 via vnet0:1:b out
{add} deny log ipv4 from any to any via vnet0:1 out
{add} deny log ipv6 from any to any layer2 via vnet0:1:b out
{add} deny log ipv6 from any to any via vnet0:1 out
{add} allow ip from any to any layer2 mac-type arp MAC any {mac} via vnet0:1:b out
{add} deny log ip from any to any layer2 mac-type arp via vnet0:1:b out
{add} allow ip from any to any layer2 mac-type arp MAC {mac} any via vnet0:1 out
{add} allow ip from any to any layer2 mac-type arp MAC ff:ff:ff:ff:ff:ff any via vnet0:1 out
{add} deny log ip from any to any layer2 mac-type arp via vnet0:1 out
ioc __learn --port vnet0:1 --mac {mac} --dhcp4 --sink ipfw:ioc-1-vnet0-lease4,ioc-1-vnet0-slaac6"
    );
    let expected = format!(
        "{}\n{firewall}\n{}\n/usr/sbin/jexec ioc-jail-d /sbin/dhclient vnet0",
        secure_start_head("jail-d", "02:ff:60:ef:5f:9a", mac),
        secure_start_tail("jail-d"),
    );
    assert_eq!(start, lines(&expected));
    assert_eq!(
        stop,
        lines(&format!(
            "/usr/sbin/jail -r ioc-jail-d\n{SECURE_STOP_LINKS}\n/sbin/ipfw -q delete 10001\n/sbin/ipfw -q table ioc-1-vnet0-lease4 destroy"
        ))
    );
}

/// ipfw with SLAAC: the SLAAC table, IPv6 for the link-local, the table and router
/// advertisements toward the jail, rtsold in the jail.
#[test]
fn freebsd_ipfw_slaac_jail_plans() {
    let sandbox = learning_sandbox("jail-s", "ip6_addr=vnet0|accept_rtadv", Some("ipfw"));
    let (start, stop) = freebsd_plans(&sandbox, "jail-s");
    let (mac, ll) = ("02:ff:60:82:6e:15", "fe80::ff:60ff:fe82:6e15");
    let add = "/sbin/ipfw -q add 10001";
    let t6 = "\"table(ioc-1-vnet0-slaac6)\"";
    let firewall = format!(
        "\
/sbin/ipfw -q table ioc-1-vnet0-slaac6 create type addr or-flush
{add} deny log ipv4 from any to any layer2 via vnet0:1:b out
{add} deny log ipv4 from any to any via vnet0:1 out
{add} deny log ipv6-icmp from any to any icmp6types 134,137 layer2 via vnet0:1:b out
{add} deny log udp from any 547 to any layer2 via vnet0:1:b out
{add} allow ipv6 from {ll} to any layer2 MAC any {mac} via vnet0:1:b out
{add} allow ipv6 from any to {ll} layer2 MAC {mac} any via vnet0:1 out
{add} allow ipv6 from any to {ll} via vnet0:1 out
{add} allow ipv6 from {t6} to any layer2 MAC any {mac} via vnet0:1:b out
{add} allow ipv6 from any to {t6} layer2 MAC {mac} any via vnet0:1 out
{add} allow ipv6 from any to {t6} via vnet0:1 out
{add} allow ipv6-icmp from fe80::/10 to ff02::1 icmp6types 134 layer2 MAC 33:33:00:00:00:01 any via vnet0:1 out
{add} allow ipv6-icmp from fe80::/10 to ff02::1 icmp6types 134 via vnet0:1 out
{add} allow ipv6-icmp from :: to ff02::/16 icmp6types 131,132,135,143 layer2 MAC any {mac} via vnet0:1:b out
{add} allow ipv6-icmp from any to ff02::1,ff02::1:ff82:6e15 icmp6types 130,135,136 layer2 MAC 33:33:00:00:00:00/16 any via vnet0:1 out
{add} allow ipv6-icmp from any to ff02::1,ff02::1:ff82:6e15 icmp6types 130,135,136 via vnet0:1 out
{add} deny log ipv6 from any to any layer2 via vnet0:1:b out
{add} deny log ipv6 from any to any via vnet0:1 out
{add} deny log ip from any to any layer2 mac-type arp via vnet0:1:b out
{add} deny log ip from any to any layer2 mac-type arp via vnet0:1 out
ioc __learn --port vnet0:1 --mac {mac} --slaac --sink ipfw:ioc-1-vnet0-lease4,ioc-1-vnet0-slaac6"
    );
    let expected = format!(
        "{}\n{firewall}\n{}\n\
/usr/sbin/jexec ioc-jail-s /sbin/ifconfig vnet0 inet6 -ifdisabled accept_rtadv\n\
/usr/sbin/jexec ioc-jail-s /usr/sbin/rtsold vnet0",
        secure_start_head("jail-s", "02:ff:60:82:6e:14", mac),
        secure_start_tail("jail-s"),
    );
    assert_eq!(start, lines(&expected));
    assert_eq!(
        stop,
        lines(&format!(
            "/usr/sbin/jail -r ioc-jail-s\n{SECURE_STOP_LINKS}\n/sbin/ipfw -q delete 10001\n/sbin/ipfw -q table ioc-1-vnet0-slaac6 destroy"
        ))
    );
}

/// pf with SLAAC: the anchor declares the table its rules use, then the learner fills it.
#[test]
fn freebsd_pf_slaac_jail_plans() {
    let sandbox = learning_sandbox("jail-s", "ip6_addr=vnet0|accept_rtadv", Some("pf"));
    let (start, stop) = freebsd_plans(&sandbox, "jail-s");
    let (mac, ll) = ("02:ff:60:82:6e:15", "fe80::ff:60ff:fe82:6e15");
    let (b, p) = (
        "ether pass out quick on \"vnet0:1:b\" proto 0x86dd",
        "ether pass out quick on \"vnet0:1\" proto 0x86dd",
    );
    let anchor = [
        "\"table <slaac6> persist\"".to_string(),
        format!("'{b} from {mac} l3 from {ll}'"),
        format!("'{b} from {mac} l3 from <slaac6>'"),
        format!("'{b} from {mac} l3 from ::'"),
        "'ether block out quick on \"vnet0:1:b\"'".to_string(),
        format!("'{p} to {mac} l3 to {ll}'"),
        format!("'{p} to {mac} l3 to <slaac6>'"),
        format!("'{p} to 33:33:00:00:00:01 l3 to ff02::1'"),
        format!("'{p} to 33:33:ff:82:6e:15 l3 to ff02::1:ff82:6e15'"),
        "'ether block out quick on \"vnet0:1\"'".to_string(),
    ];
    let expected = format!(
        "{}\nprintf '%s\\n' {} | /sbin/pfctl -a ioc/jail-s:vnet0 -f -\n\
ioc __learn --port vnet0:1 --mac {mac} --slaac --sink pf:ioc/jail-s:vnet0:lease4,slaac6\n{}\n\
/usr/sbin/jexec ioc-jail-s /sbin/ifconfig vnet0 inet6 -ifdisabled accept_rtadv\n\
/usr/sbin/jexec ioc-jail-s /usr/sbin/rtsold vnet0",
        secure_start_head("jail-s", "02:ff:60:82:6e:14", mac),
        anchor.join(" "),
        secure_start_tail("jail-s"),
    );
    assert_eq!(start, lines(&expected));
    assert_eq!(
        stop,
        lines(&format!(
            "/usr/sbin/jail -r ioc-jail-s\n{SECURE_STOP_LINKS}\n/sbin/pfctl -a ioc/jail-s:vnet0 -F all"
        ))
    );
}

/// pf cannot filter DHCP: the dry run stops at validation, naming the backend that can, and
/// plans nothing.
#[test]
fn freebsd_pf_dhcp_jail_is_refused_naming_ipfw() {
    let sandbox = learning_sandbox("jail-d", "ip4_addr=vnet0|dhcp", Some("pf"));
    let out = sandbox.ioc(["start", "--dry-run", "--platform", "freebsd", "jail-d"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr
            .contains("firewall=pf cannot filter DHCP on FreeBSD (property 'ip4_addr': vnet0|dhcp")
            && stderr.contains("use firewall=ipfw"),
        "{stderr}"
    );
    assert!(
        plan_commands(&text(&out.stdout)).is_empty(),
        "{}",
        text(&out.stdout)
    );
}

/// The Linux dry run of a DHCP Secure VNET jail still works (its learner's line is the Linux
/// side's to render).
#[test]
fn a_linux_dry_run_of_a_dhcp_secure_jail_works() {
    require_root!();
    let host = seed_host();
    host.ok(["create", "jail-d"]);
    host.ok([
        "set",
        "vnet=on",
        "interfaces=vnet0::bridge0",
        "ip4_addr=vnet0|dhcp",
        "jail-d",
    ]);
    let start = host.ok(["start", "--dry-run", "jail-d"]);
    assert_eq!(plan_headers(&start), ["# jail-d (JID 1, linux)"], "{start}");
    host.ok(["stop", "--dry-run", "jail-d"]);
    host.assert_clean(&["lo", "bridge0"]);
}
