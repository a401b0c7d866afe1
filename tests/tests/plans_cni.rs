//! Dry runs of the CNI ops (issue 13) on both platforms: every plugin invocation shown as the
//! command that runs it, with its whole environment and its configuration on stdin, in the
//! order the host runs them (`ADD` in list order with `prevResult`, `DEL` in reverse with the
//! recorded result); `CNI_NETNS` is the jail's pinned namespace on Linux and the jail's name
//! on FreeBSD. The jail's DNS is written into its resolv.conf.

use std::net::Ipv4Addr;

use ioc_cni::NetworkList;
use ioc_core::cni::CniRun;
use ioc_core::render::RenderContext;
use ioc_core::step::{JailParams, Step};
use ioc_sdk::{CniAttachment, CniValid, EnvVar, HostOp, Ip, Platform};

const LIST: &str = r#"{"cniVersion": "1.0.0", "name": "jails", "plugins": [
    {"type": "bridge", "bridge": "cni0", "ipam": {"type": "host-local", "subnet": "10.22.0.0/16"}},
    {"type": "portmap", "capabilities": {"portMappings": true}}]}"#;

/// A plugin directory no machine has, so the plan names the same programs everywhere.
const CNI_BIN: &str = "/opt/ioc-plan-test/cni";

fn attachment(conf_dir: &str) -> CniAttachment {
    CniAttachment {
        network: "jails".into(),
        conf_dir: conf_dir.into(),
        path: vec![CNI_BIN.into()].into(),
        container_id: "ioc-web".into(),
        ifname: "eth0".into(),
        args: vec![EnvVar {
            key: "IOC_JAIL".into(),
            value: "web".into(),
        }]
        .into(),
        runtime_config: r#"{"portMappings":[{"hostPort":8080,"containerPort":80,"protocol":"tcp"}],"mac":"02:ff:60:00:00:01"}"#.into(),
    }
}

fn params() -> JailParams {
    let mut p = JailParams::unknown("web");
    p.jid = 7;
    p
}

/// The plan of an `ADD`, a `DEL` of the recorded run, the DNS and a `GC`, as shell lines.
fn plan(platform: Platform) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("10-jails.conflist"), LIST).unwrap();
    let att = attachment(&dir.path().display().to_string());
    let list = NetworkList::parse(LIST, "test").unwrap();
    let mut run = CniRun::new(&att, &list, "recorded");
    run.result =
        Some(serde_json::json!({"cniVersion": "1.0.0", "ips": [{"address": "10.22.0.5/16"}]}));
    let mut ctx = RenderContext::new(platform, "/run/ioc");
    let steps = [
        Step::Op(HostOp::CniAdd {
            attachment: att.clone(),
        }),
        Step::Op(HostOp::ReportAddresses {
            link: "eth0".into(),
            addresses: Default::default(),
        }),
        Step::Op(HostOp::SetJailDns {
            nameservers: vec![Ip::from(Ipv4Addr::new(10, 22, 0, 1))].into(),
            domain: "".into(),
            search: vec!["jails.example".into()].into(),
            options: Default::default(),
        }),
        Step::CniDel(Box::new(run)),
        Step::Op(HostOp::CniGc {
            attachment: att,
            valid: vec![CniValid {
                container_id: "ioc-web".into(),
                ifname: "eth0".into(),
            }]
            .into(),
        }),
    ];
    steps
        .iter()
        .flat_map(|step| ctx.render(&params(), step))
        .map(|c| c.shell_line())
        .collect()
}

const BRIDGE_STDIN: &str = r#"{"bridge":"cni0","cniVersion":"1.0.0","ipam":{"subnet":"10.22.0.0/16","type":"host-local"},"name":"jails","type":"bridge"}"#;

fn env(command: &str, netns: &str) -> String {
    format!(
        "env -i CNI_COMMAND={command} CNI_PATH={CNI_BIN} CNI_CONTAINERID=ioc-web CNI_NETNS={netns} \
         CNI_IFNAME=eth0 \"CNI_ARGS=IgnoreUnknown=1;IOC_JAIL=web\" \
         PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    )
}

fn expected(netns: &str, dns: &str) -> Vec<String> {
    let portmap_add = r#"{"capabilities":{"portMappings":true},"cniVersion":"1.0.0","name":"jails","prevResult":"<ADD result of bridge>","runtimeConfig":{"portMappings":[{"containerPort":80,"hostPort":8080,"protocol":"tcp"}]},"type":"portmap"}"#;
    let portmap_del = r#"{"capabilities":{"portMappings":true},"cniVersion":"1.0.0","name":"jails","prevResult":{"cniVersion":"1.0.0","ips":[{"address":"10.22.0.5/16"}]},"runtimeConfig":{"portMappings":[{"containerPort":80,"hostPort":8080,"protocol":"tcp"}]},"type":"portmap"}"#;
    let bridge_del = r#"{"bridge":"cni0","cniVersion":"1.0.0","ipam":{"subnet":"10.22.0.0/16","type":"host-local"},"name":"jails","prevResult":{"cniVersion":"1.0.0","ips":[{"address":"10.22.0.5/16"}]},"type":"bridge"}"#;
    let quote = |json: &str| format!("'{json}'");
    vec![
        format!(
            "printf '%s\\n' {} | {} {CNI_BIN}/bridge",
            quote(BRIDGE_STDIN),
            env("ADD", netns)
        ),
        format!(
            "printf '%s\\n' {} | {} {CNI_BIN}/portmap",
            quote(portmap_add),
            env("ADD", netns)
        ),
        dns.to_string(),
        format!(
            "printf '%s\\n' {} | {} {CNI_BIN}/portmap",
            quote(portmap_del),
            env("DEL", netns)
        ),
        format!(
            "printf '%s\\n' {} | {} {CNI_BIN}/bridge",
            quote(bridge_del),
            env("DEL", netns)
        ),
        // GC: a 1.0.0 list has none.
    ]
}

#[test]
fn linux_plan_shows_each_plugin_run_in_the_pinned_namespace() {
    let dns = "printf '%s\\n' \"search jails.example\" \"nameserver 10.22.0.1\" | /bin/sh -c \"cat > /run/ioc/jails/web/resolv.conf\"";
    assert_eq!(
        plan(Platform::Linux),
        expected("/run/ioc/jails/web/ns/net", dns)
    );
}

#[test]
fn freebsd_plan_names_the_jail_as_cni_netns() {
    let dns = "printf '%s\\n' \"search jails.example\" \"nameserver 10.22.0.1\" | /usr/sbin/jexec ioc-web /bin/sh -c \"cat > /etc/resolv.conf\"";
    assert_eq!(plan(Platform::FreeBsd), expected("ioc-web", dns));
}

#[test]
fn gc_of_a_1_1_0_list_names_the_valid_attachments() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("jails.conflist"),
        r#"{"cniVersion": "1.1.0", "name": "jails", "plugins": [{"type": "bridge"}]}"#,
    )
    .unwrap();
    let att = attachment(&dir.path().display().to_string());
    let step = Step::Op(HostOp::CniGc {
        attachment: att,
        valid: vec![CniValid {
            container_id: "ioc-web".into(),
            ifname: "eth0".into(),
        }]
        .into(),
    });
    let lines: Vec<String> = RenderContext::new(Platform::FreeBsd, "/run/ioc")
        .render(&params(), &step)
        .iter()
        .map(|c| c.shell_line())
        .collect();
    assert_eq!(
        lines,
        [format!(
            "printf '%s\\n' '{}' | env -i CNI_COMMAND=GC CNI_PATH={CNI_BIN} \
             PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin {CNI_BIN}/bridge",
            r#"{"cni.dev/valid-attachments":[{"containerID":"ioc-web","ifname":"eth0"}],"cniVersion":"1.1.0","name":"jails","type":"bridge"}"#
        )]
    );
}
