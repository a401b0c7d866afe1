//! The FreeBSD firewall backends, loaded as ioc loads them, driven for the seed's `myjail`
//! (JID 5) through a host that only records, and rendered as the FreeBSD commands a start and
//! a stop run. ipfw must match libioc's lines (shared/reference/freebsd-behaviour.md, "Secure
//! VNET"), with the ARP rules ioc adds after libioc's.

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
