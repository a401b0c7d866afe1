//! The FreeBSD firewall backends, loaded as ioc loads them, driven for the seed's `myjail`
//! (JID 5) through a host that only records, and rendered as the FreeBSD commands a start and
//! a stop run. ipfw must match libioc's lines (shared/reference/freebsd-behaviour.md, "Secure
//! VNET"), with the ARP rules ioc adds after libioc's. The same jail with
//! `ip4_addr="vnet0|dhcp"` or `ip6_addr="vnet0|accept_rtadv"` adds the learned-address tables,
//! the rules that use them and the learner's command line (pf refuses DHCP).

mod firewall_support;

use firewall_support::{load, myjail, myjail_params, myjail_policy};
use ioc_core::plugins::LoadedPlugin;
use ioc_core::render::RenderContext;
use ioc_core::step::Step;
use ioc_sdk::{CommandOutput, Hook, HostError, HostOp, HostReply, Platform};

/// What a dry run's host answers: commands succeed, tunables are set.
fn plan_reply(op: &HostOp, sysctl: &dyn Fn(&str) -> String) -> Result<HostReply, HostError> {
    Ok(match op {
        HostOp::ReadSysctl { name } => HostReply::Text(sysctl(name).into()),
        HostOp::RunCommand { .. } => HostReply::Output(CommandOutput {
            status: 0,
            stdout: "".into(),
            stderr: "".into(),
        }),
        HostOp::LinkExists { .. } => HostReply::Flag(true),
        _ => HostReply::Done,
    })
}

/// Runs one hook and returns the command lines of the changes it asked for.
fn render(plugin: &LoadedPlugin, hook: Hook, ctx: &mut RenderContext) -> Vec<String> {
    let jail = myjail(Platform::FreeBsd, &plugin.name);
    let mut ops = Vec::new();
    firewall_support::call(plugin, hook, &jail, |op: &HostOp| {
        ops.push(op.clone());
        plan_reply(op, &|_| "1".to_string())
    })
    .unwrap_or_else(|e| panic!("{}: {e}", plugin.name));
    let params = myjail_params();
    ops.iter()
        .flat_map(|op| ctx.render(&params, &Step::Op(op.clone())))
        .map(|c| c.shell_line())
        .collect()
}

/// A context in which the network mode has already created the jail's own epair (`epair0a`).
fn after_first_epair() -> RenderContext {
    let mut ctx = RenderContext::new(Platform::FreeBsd, "/var/run/ioc");
    assert_eq!(ctx.next_epair(), "epair0a");
    ctx
}

fn lines(text: &str) -> Vec<String> {
    text.lines().map(str::to_string).collect()
}

#[test]
/// libioc's rules, preceded by one of ioc's own: no Secure VNET jail but the network's DHCP
/// server (`dhcp_server=on`) may send DHCP server replies, which libioc let through from the
/// jail's own address.
fn ipfw_start_and_stop_match_libioc_for_myjail() {
    let ipfw = load("ioc_plugin_ipfw");
    let policy = myjail_policy("vnet0:5", &["10.23.42.2"]);
    let mut ctx = after_first_epair();
    let start = render(&ipfw, Hook::FirewallInstall(policy.clone()), &mut ctx);
    assert_eq!(
        start,
        lines(
            "\
/sbin/ifconfig epair create up
/sbin/ifconfig epair1a mtu 1500 name vnet0:5:a up
/sbin/ifconfig epair1b mtu 1500 name vnet0:5:b up
/sbin/ipfw -q add 10005 deny log udp from any 67 to any layer2 via vnet0:5:b out
/sbin/ipfw -q add 10005 allow ipv4 from 10.23.42.2 to any layer2 MAC any 02:ff:60:cb:49:49 via vnet0:5:b out
/sbin/ipfw -q add 10005 allow ipv4 from any to 10.23.42.2 layer2 MAC 02:ff:60:cb:49:49 any via vnet0:5 out
/sbin/ipfw -q add 10005 allow ipv4 from any to 10.23.42.2 via vnet0:5 out
/sbin/ipfw -q add 10005 deny log ipv4 from any to any layer2 via vnet0:5:b out
/sbin/ipfw -q add 10005 deny log ipv4 from any to any via vnet0:5 out
/sbin/ipfw -q add 10005 deny log ipv6 from any to any layer2 via vnet0:5:b out
/sbin/ipfw -q add 10005 deny log ipv6 from any to any via vnet0:5 out
/sbin/ipfw -q add 10005 allow ip from any to any layer2 mac-type arp MAC any 02:ff:60:cb:49:49 via vnet0:5:b out
/sbin/ipfw -q add 10005 deny log ip from any to any layer2 mac-type arp via vnet0:5:b out
/sbin/ipfw -q add 10005 allow ip from any to any layer2 mac-type arp MAC 02:ff:60:cb:49:49 any via vnet0:5 out
/sbin/ipfw -q add 10005 allow ip from any to any layer2 mac-type arp MAC ff:ff:ff:ff:ff:ff any via vnet0:5 out
/sbin/ipfw -q add 10005 deny log ip from any to any layer2 mac-type arp via vnet0:5 out
/sbin/ifconfig bridge create name vnet0:5:net up
/sbin/ifconfig vnet0:5:net addm vnet0:5 addm vnet0:5:b up
/sbin/ifconfig bridge0 addm vnet0:5:a up"
        )
    );
    let stop = render(&ipfw, Hook::FirewallRemove(policy), &mut ctx);
    assert_eq!(
        stop,
        lines(
            "\
/sbin/ifconfig vnet0:5 destroy
/sbin/ifconfig vnet0:5:a destroy
/sbin/ifconfig vnet0:5:net destroy
/sbin/ipfw -q delete 10005"
        )
    );
}

#[test]
fn ipfw_readiness_uses_libiocs_message() {
    let ipfw = load("ioc_plugin_ipfw");
    let jail = myjail(Platform::FreeBsd, "ipfw");
    let check = |off: &str| {
        let off = off.to_string();
        firewall_support::call(&ipfw, Hook::FirewallReady, &jail, move |op: &HostOp| {
            plan_reply(op, &|name| {
                if name == off {
                    "0".into()
                } else {
                    "1".into()
                }
            })
        })
    };
    assert_eq!(check("none"), Ok(()));
    assert_eq!(
        check("net.link.ether.ipfw"),
        Err("IPFW is disabled: sysctl net.link.ether.ipfw is expected to be 1, but was 0".into())
    );
    let arp = check("net.link.bridge.ipfw_arp").unwrap_err();
    assert!(
        arp.starts_with("ARP filtering is disabled: sysctl net.link.bridge.ipfw_arp is expected to be 1, but was 0"),
        "{arp}"
    );
    let linux = myjail(Platform::Linux, "ipfw");
    let err = firewall_support::call(&ipfw, Hook::FirewallReady, &linux, |op: &HostOp| {
        plan_reply(op, &|_| "1".into())
    })
    .unwrap_err();
    assert!(err.contains("only on FreeBSD"), "{err}");
}

#[test]
fn pf_start_and_stop_for_myjail() {
    let pf = load("ioc_plugin_pf");
    let policy = myjail_policy("vnet0:5", &["10.23.42.2"]);
    let mut ctx = after_first_epair();
    let start = render(&pf, Hook::FirewallInstall(policy.clone()), &mut ctx);
    let rules = [
        r#"'ether pass out quick on "vnet0:5:b" proto 0x0800 from 02:ff:60:cb:49:49 l3 from 10.23.42.2'"#,
        r#"'ether pass out quick on "vnet0:5:b" proto 0x0806 from 02:ff:60:cb:49:49'"#,
        r#"'ether block out quick on "vnet0:5:b"'"#,
        r#"'ether pass out quick on "vnet0:5" proto 0x0800 to 02:ff:60:cb:49:49 l3 to 10.23.42.2'"#,
        r#"'ether pass out quick on "vnet0:5" proto 0x0806 to 02:ff:60:cb:49:49'"#,
        r#"'ether pass out quick on "vnet0:5" proto 0x0806 to ff:ff:ff:ff:ff:ff'"#,
        r#"'ether block out quick on "vnet0:5"'"#,
    ];
    assert_eq!(
        start,
        [
            "/sbin/ifconfig epair create up".to_string(),
            "/sbin/ifconfig epair1a mtu 1500 name vnet0:5:a up".into(),
            "/sbin/ifconfig epair1b mtu 1500 name vnet0:5:b up".into(),
            format!(
                "printf '%s\\n' {} | /sbin/pfctl -a ioc/myjail:vnet0 -f -",
                rules.join(" ")
            ),
            "/sbin/ifconfig bridge create name vnet0:5:net up".into(),
            "/sbin/ifconfig vnet0:5:net addm vnet0:5 addm vnet0:5:b up".into(),
            "/sbin/ifconfig bridge0 addm vnet0:5:a up".into(),
        ]
    );
    let stop = render(&pf, Hook::FirewallRemove(policy), &mut ctx);
    assert_eq!(
        stop,
        lines(
            "\
/sbin/ifconfig vnet0:5 destroy
/sbin/ifconfig vnet0:5:a destroy
/sbin/ifconfig vnet0:5:net destroy
/sbin/pfctl -a ioc/myjail:vnet0 -F all"
        )
    );
}

#[test]
fn ipfw_removal_goes_on_and_accepts_a_missing_rule_number() {
    let ipfw = load("ioc_plugin_ipfw");
    let jail = myjail(Platform::FreeBsd, "ipfw");
    let policy = myjail_policy("vnet0:5", &["10.23.42.2"]);
    let mut seen = Vec::new();
    // The links are gone already (a destroy answers Done for absent links) and no rule is
    // left: `ipfw -q delete` exits 69 without a word.
    let result = firewall_support::call(
        &ipfw,
        Hook::FirewallRemove(policy.clone()),
        &jail,
        |op: &HostOp| {
            seen.push(op.name());
            match op {
                HostOp::RunCommand { .. } => Ok(HostReply::Output(CommandOutput {
                    status: 69,
                    stdout: "".into(),
                    stderr: "".into(),
                })),
                _ => Ok(HostReply::Done),
            }
        },
    );
    assert_eq!(result, Ok(()));
    assert_eq!(
        seen,
        [
            "destroy-link",
            "destroy-link",
            "destroy-link",
            "run-command"
        ]
    );
    // A failing destroy does not stop the rest, and the error names it.
    let mut seen = Vec::new();
    let result =
        firewall_support::call(&ipfw, Hook::FirewallRemove(policy), &jail, |op: &HostOp| {
            seen.push(op.name());
            match op {
                HostOp::DestroyLink { name, .. } if name.as_str() == "vnet0:5:a" => {
                    Err(HostError::new(ioc_sdk::HostErrorKind::Other, "device busy"))
                }
                other => plan_reply(other, &|_| "1".into()),
            }
        });
    let err = result.unwrap_err();
    assert!(err.contains("destroy vnet0:5:a: device busy"), "{err}");
    assert_eq!(seen.len(), 4);
}

/// `myjail` with `ip4_addr="vnet0|dhcp"` (`dhcp4`) or `ip6_addr="vnet0|accept_rtadv"`
/// (`!dhcp4`) instead of its static address, and the policy secure-vnet hands the backend.
fn learning_jail(firewall: &str, dhcp4: bool) -> (ioc_sdk::Jail, ioc_sdk::PortPolicy) {
    use ioc_sdk::{Address, AddressKind, NetworkSpec, Nic, PortLearning};
    let nic = Nic::new(
        "vnet0",
        Some("bridge0"),
        true,
        "02:ff:60:cb:49:48".parse().unwrap(),
        "02:ff:60:cb:49:49".parse().unwrap(),
    );
    let (ip4, ip6) = if dhcp4 {
        (vec![Address::new("vnet0", AddressKind::Dhcp)], vec![])
    } else {
        (
            vec![],
            vec![Address::new("vnet0", AddressKind::AcceptRtadv)],
        )
    };
    let spec = NetworkSpec {
        vnet: true,
        interfaces: vec![nic],
        ip4,
        ip6,
        ..NetworkSpec::default()
    };
    let jail = ioc_sdk::Jail::new("myjail", 5, Platform::FreeBsd, spec.into(), firewall, []);
    let policy = myjail_policy("vnet0:5", &[]).with_learning(PortLearning {
        dhcp4,
        slaac: !dhcp4,
        dhcp_server: false,
    });
    (jail, policy)
}

/// Like [`render`], for a jail of [`learning_jail`].
fn render_learning(
    plugin: &LoadedPlugin,
    hook: Hook,
    jail: &ioc_sdk::Jail,
    ctx: &mut RenderContext,
) -> Vec<String> {
    let mut ops = Vec::new();
    firewall_support::call(plugin, hook, jail, |op: &HostOp| {
        ops.push(op.clone());
        plan_reply(op, &|_| "1".to_string())
    })
    .unwrap_or_else(|e| panic!("{}: {e}", plugin.name));
    let params = myjail_params();
    ops.iter()
        .flat_map(|op| ctx.render(&params, &Step::Op(op.clone())))
        .map(|c| c.shell_line())
        .collect()
}

/// The bridge steps every backend's start ends with, after its rules and learner.
const CONNECT: &str = "\
/sbin/ifconfig bridge create name vnet0:5:net up
/sbin/ifconfig vnet0:5:net addm vnet0:5 addm vnet0:5:b up
/sbin/ifconfig bridge0 addm vnet0:5:a up";

/// The second pair every backend's start begins with.
const SECOND_PAIR: &str = "\
/sbin/ifconfig epair create up
/sbin/ifconfig epair1a mtu 1500 name vnet0:5:a up
/sbin/ifconfig epair1b mtu 1500 name vnet0:5:b up";

const DESTROY_LINKS: &str = "\
/sbin/ifconfig vnet0:5 destroy
/sbin/ifconfig vnet0:5:a destroy
/sbin/ifconfig vnet0:5:net destroy";

/// Renders a start and a stop of a [`learning_jail`].
fn start_and_stop(lib: &str, firewall: &str, dhcp4: bool) -> (Vec<String>, Vec<String>) {
    let plugin = load(lib);
    let (jail, policy) = learning_jail(firewall, dhcp4);
    let mut ctx = after_first_epair();
    let start = render_learning(
        &plugin,
        Hook::FirewallInstall(policy.clone()),
        &jail,
        &mut ctx,
    );
    let stop = render_learning(&plugin, Hook::FirewallRemove(policy), &jail, &mut ctx);
    (start, stop)
}

#[test]
fn ipfw_dhcp_jail_start_and_stop() {
    let (start, stop) = start_and_stop("ioc_plugin_ipfw", "ipfw", true);
    let rules = "\
/sbin/ipfw -q table ioc-5-vnet0-lease4 create type addr or-flush
/sbin/ipfw -q add 10005 deny log udp from any 67 to any layer2 via vnet0:5:b out
/sbin/ipfw -q add 10005 allow udp from 0.0.0.0 68 to any 67 layer2 MAC any 02:ff:60:cb:49:49 via vnet0:5:b out
/sbin/ipfw -q add 10005 allow ipv4 from \"table(ioc-5-vnet0-lease4)\" to any layer2 MAC any 02:ff:60:cb:49:49 via vnet0:5:b out
/sbin/ipfw -q add 10005 allow udp from any 67 to any 68 layer2 MAC 02:ff:60:cb:49:49 any via vnet0:5 out
/sbin/ipfw -q add 10005 allow udp from any 67 to any 68 layer2 MAC ff:ff:ff:ff:ff:ff any via vnet0:5 out
/sbin/ipfw -q add 10005 allow udp from any 67 to any 68 via vnet0:5 out
/sbin/ipfw -q add 10005 allow ipv4 from any to \"table(ioc-5-vnet0-lease4)\" layer2 MAC 02:ff:60:cb:49:49 any via vnet0:5 out
/sbin/ipfw -q add 10005 allow ipv4 from any to \"table(ioc-5-vnet0-lease4)\" via vnet0:5 out
/sbin/ipfw -q add 10005 deny log ipv4 from any to any layer2 via vnet0:5:b out
/sbin/ipfw -q add 10005 deny log ipv4 from any to any via vnet0:5 out
/sbin/ipfw -q add 10005 deny log ipv6 from any to any layer2 via vnet0:5:b out
/sbin/ipfw -q add 10005 deny log ipv6 from any to any via vnet0:5 out
/sbin/ipfw -q add 10005 allow ip from any to any layer2 mac-type arp MAC any 02:ff:60:cb:49:49 via vnet0:5:b out
/sbin/ipfw -q add 10005 deny log ip from any to any layer2 mac-type arp via vnet0:5:b out
/sbin/ipfw -q add 10005 allow ip from any to any layer2 mac-type arp MAC 02:ff:60:cb:49:49 any via vnet0:5 out
/sbin/ipfw -q add 10005 allow ip from any to any layer2 mac-type arp MAC ff:ff:ff:ff:ff:ff any via vnet0:5 out
/sbin/ipfw -q add 10005 deny log ip from any to any layer2 mac-type arp via vnet0:5 out
ioc __learn --port vnet0:5 --mac 02:ff:60:cb:49:49 --dhcp4 --sink ipfw:ioc-5-vnet0-lease4,ioc-5-vnet0-slaac6";
    assert_eq!(start, lines(&format!("{SECOND_PAIR}\n{rules}\n{CONNECT}")));
    assert_eq!(
        stop,
        lines(&format!(
            "{DESTROY_LINKS}\n/sbin/ipfw -q delete 10005\n/sbin/ipfw -q table ioc-5-vnet0-lease4 destroy"
        ))
    );
}

#[test]
fn ipfw_slaac_jail_start_and_stop() {
    let (start, stop) = start_and_stop("ioc_plugin_ipfw", "ipfw", false);
    let rules = "\
/sbin/ipfw -q table ioc-5-vnet0-slaac6 create type addr or-flush
/sbin/ipfw -q add 10005 deny log ipv4 from any to any layer2 via vnet0:5:b out
/sbin/ipfw -q add 10005 deny log ipv4 from any to any via vnet0:5 out
/sbin/ipfw -q add 10005 deny log ipv6-icmp from any to any icmp6types 134,137 layer2 via vnet0:5:b out
/sbin/ipfw -q add 10005 deny log udp from any 547 to any layer2 via vnet0:5:b out
/sbin/ipfw -q add 10005 allow ipv6 from fe80::ff:60ff:fecb:4949 to any layer2 MAC any 02:ff:60:cb:49:49 via vnet0:5:b out
/sbin/ipfw -q add 10005 allow ipv6 from any to fe80::ff:60ff:fecb:4949 layer2 MAC 02:ff:60:cb:49:49 any via vnet0:5 out
/sbin/ipfw -q add 10005 allow ipv6 from any to fe80::ff:60ff:fecb:4949 via vnet0:5 out
/sbin/ipfw -q add 10005 allow ipv6 from \"table(ioc-5-vnet0-slaac6)\" to any layer2 MAC any 02:ff:60:cb:49:49 via vnet0:5:b out
/sbin/ipfw -q add 10005 allow ipv6 from any to \"table(ioc-5-vnet0-slaac6)\" layer2 MAC 02:ff:60:cb:49:49 any via vnet0:5 out
/sbin/ipfw -q add 10005 allow ipv6 from any to \"table(ioc-5-vnet0-slaac6)\" via vnet0:5 out
/sbin/ipfw -q add 10005 allow ipv6-icmp from fe80::/10 to ff02::1 icmp6types 134 layer2 MAC 33:33:00:00:00:01 any via vnet0:5 out
/sbin/ipfw -q add 10005 allow ipv6-icmp from fe80::/10 to ff02::1 icmp6types 134 via vnet0:5 out
/sbin/ipfw -q add 10005 allow ipv6-icmp from :: to ff02::/16 icmp6types 131,132,135,143 layer2 MAC any 02:ff:60:cb:49:49 via vnet0:5:b out
/sbin/ipfw -q add 10005 allow ipv6-icmp from any to ff02::1,ff02::1:ffcb:4949 icmp6types 130,135,136 layer2 MAC 33:33:00:00:00:00/16 any via vnet0:5 out
/sbin/ipfw -q add 10005 allow ipv6-icmp from any to ff02::1,ff02::1:ffcb:4949 icmp6types 130,135,136 via vnet0:5 out
/sbin/ipfw -q add 10005 deny log ipv6 from any to any layer2 via vnet0:5:b out
/sbin/ipfw -q add 10005 deny log ipv6 from any to any via vnet0:5 out
/sbin/ipfw -q add 10005 deny log ip from any to any layer2 mac-type arp via vnet0:5:b out
/sbin/ipfw -q add 10005 deny log ip from any to any layer2 mac-type arp via vnet0:5 out
ioc __learn --port vnet0:5 --mac 02:ff:60:cb:49:49 --slaac --sink ipfw:ioc-5-vnet0-lease4,ioc-5-vnet0-slaac6";
    assert_eq!(start, lines(&format!("{SECOND_PAIR}\n{rules}\n{CONNECT}")));
    assert_eq!(
        stop,
        lines(&format!(
            "{DESTROY_LINKS}\n/sbin/ipfw -q delete 10005\n/sbin/ipfw -q table ioc-5-vnet0-slaac6 destroy"
        ))
    );
}

#[test]
fn pf_slaac_jail_start_and_stop() {
    let (start, stop) = start_and_stop("ioc_plugin_pf", "pf", false);
    let anchor = [
        r#""table <slaac6> persist""#,
        r#"'ether pass out quick on "vnet0:5:b" proto 0x86dd from 02:ff:60:cb:49:49 l3 from fe80::ff:60ff:fecb:4949'"#,
        r#"'ether pass out quick on "vnet0:5:b" proto 0x86dd from 02:ff:60:cb:49:49 l3 from <slaac6>'"#,
        r#"'ether pass out quick on "vnet0:5:b" proto 0x86dd from 02:ff:60:cb:49:49 l3 from ::'"#,
        r#"'ether block out quick on "vnet0:5:b"'"#,
        r#"'ether pass out quick on "vnet0:5" proto 0x86dd to 02:ff:60:cb:49:49 l3 to fe80::ff:60ff:fecb:4949'"#,
        r#"'ether pass out quick on "vnet0:5" proto 0x86dd to 02:ff:60:cb:49:49 l3 to <slaac6>'"#,
        r#"'ether pass out quick on "vnet0:5" proto 0x86dd to 33:33:00:00:00:01 l3 to ff02::1'"#,
        r#"'ether pass out quick on "vnet0:5" proto 0x86dd to 33:33:ff:cb:49:49 l3 to ff02::1:ffcb:4949'"#,
        r#"'ether block out quick on "vnet0:5"'"#,
    ];
    let load = format!(
        "printf '%s\\n' {} | /sbin/pfctl -a ioc/myjail:vnet0 -f -",
        anchor.join(" ")
    );
    let learner = "ioc __learn --port vnet0:5 --mac 02:ff:60:cb:49:49 --slaac --sink pf:ioc/myjail:vnet0:lease4,slaac6";
    assert_eq!(
        start,
        lines(&format!("{SECOND_PAIR}\n{load}\n{learner}\n{CONNECT}"))
    );
    assert_eq!(
        stop,
        lines(&format!(
            "{DESTROY_LINKS}\n/sbin/pfctl -a ioc/myjail:vnet0 -F all"
        ))
    );
}

/// pf cannot filter DHCP: its readiness check says so before anything changes, naming ipfw,
/// and an install that skipped the check changes nothing either.
#[test]
fn pf_refuses_a_dhcp_jail_before_anything_changes() {
    let pf = load("ioc_plugin_pf");
    let (jail, policy) = learning_jail("pf", true);
    let mut asked = Vec::new();
    let err = firewall_support::call(&pf, Hook::FirewallReady, &jail, |op: &HostOp| {
        asked.push(op.name());
        plan_reply(op, &|_| "1".into())
    })
    .unwrap_err();
    assert!(
        err.starts_with("firewall=pf cannot filter DHCP on FreeBSD (property 'ip4_addr': vnet0|dhcp on a Secure VNET NIC)"),
        "{err}"
    );
    assert!(err.ends_with("use firewall=ipfw"), "{err}");
    assert!(asked.is_empty(), "{asked:?}");
    let mut changes = Vec::new();
    let err = firewall_support::call(&pf, Hook::FirewallInstall(policy), &jail, |op: &HostOp| {
        changes.push(op.name());
        plan_reply(op, &|_| "1".into())
    })
    .unwrap_err();
    assert!(err.contains("use firewall=ipfw"), "{err}");
    assert!(changes.is_empty(), "{changes:?}");
    // SLAAC is fine with pf.
    let (slaac, _) = learning_jail("pf", false);
    assert_eq!(
        firewall_support::call(&pf, Hook::FirewallReady, &slaac, |op: &HostOp| plan_reply(
            op,
            &|_| "1".into()
        )),
        Ok(())
    );
}

/// ipfw's removal goes on past learned-address tables that are already gone.
#[test]
fn ipfw_removal_accepts_a_missing_table() {
    let ipfw = load("ioc_plugin_ipfw");
    let (jail, policy) = learning_jail("ipfw", true);
    let result = firewall_support::call(&ipfw, Hook::FirewallRemove(policy), &jail, |op| {
        Ok(match op {
            HostOp::RunCommand { argv, .. } if argv.iter().any(|a| a.as_str() == "table") => {
                HostReply::Output(CommandOutput {
                    status: 71,
                    stdout: "".into(),
                    stderr: "ipfw: failed to destroy table ioc-5-vnet0-lease4: No such process"
                        .into(),
                })
            }
            other => plan_reply(other, &|_| "1".into())?,
        })
    });
    assert_eq!(result, Ok(()));
}
