//! The `cni` mode through its hooks, with the sdk's recording host.

use ioc_sdk::testing::{JailBuilder, RecordingHost};
use ioc_sdk::{HostOp, HostReply, NetworkMode};
use serde_json::{json, Value};

use super::*;

/// A CNI jail as ioc passes it: every CNI property printed in its canonical form.
fn jail(extra: &[(&str, &str)]) -> JailBuilder {
    let mut properties = vec![
        ("network_plugin", "cni"),
        ("cni_network", "mynet"),
        ("cni_conf_dir", "/srv/cni/net.d"),
        ("cni_path", "/srv/cni/bin:/usr/lib/cni"),
        ("cni_ifname", "eth0"),
        ("cni_secure", "off"),
        ("cni_bandwidth", "none"),
        ("nat_forwards", "none"),
        ("resolver", "/etc/resolv.conf"),
        ("eth0_mac", "02:ff:60:00:00:10,02:ff:60:00:00:11"),
    ];
    for (key, value) in extra {
        properties.retain(|(k, _)| k != key);
        properties.push((key, value));
    }
    properties
        .into_iter()
        .fold(JailBuilder::new("web").jid(4).vnet(true), |b, (k, v)| {
            b.property(k, v)
        })
}

/// The final result of a bridge + host-local chain: bridge, host-side veth, jail interface.
const BRIDGE_RESULT: &str = r#"{"cniVersion":"1.0.0",
 "interfaces":[{"name":"cni0","mac":"aa:bb:cc:00:00:01"},
               {"name":"veth1234","mac":"aa:bb:cc:00:00:02"},
               {"name":"eth0","mac":"02:ff:60:00:00:11","sandbox":"/run/netns/x"}],
 "ips":[{"address":"10.22.0.5/16","gateway":"10.22.0.1","interface":2}],
 "routes":[{"dst":"0.0.0.0/0"}],
 "dns":{"nameservers":["10.22.0.1"],"search":["example.test"]}}"#;

fn host_with(result: &str) -> RecordingHost {
    RecordingHost::new().with_reply("cni-add", HostReply::Text(result.into()))
}

fn added(host: &RecordingHost) -> ioc_sdk::CniAttachment {
    match host.ops_named("cni-add").as_slice() {
        [HostOp::CniAdd { attachment }] => attachment.clone(),
        other => panic!("{other:?}"),
    }
}

#[test]
fn setup_runs_the_list_and_feeds_the_result_back() {
    let mut host = host_with(BRIDGE_RESULT);
    CniMode.setup(&jail(&[]).build(), &mut host.host()).unwrap();
    assert_eq!(
        host.names(),
        ["cni-add", "report-addresses", "set-jail-dns"]
    );
    let attachment = added(&host);
    assert_eq!(attachment.network.as_str(), "mynet");
    assert_eq!(attachment.conf_dir.as_str(), "/srv/cni/net.d");
    assert_eq!(attachment.container_id.as_str(), "ioc-web");
    assert_eq!(attachment.ifname.as_str(), "eth0");
    let path: Vec<&str> = attachment.path.iter().map(|d| d.as_str()).collect();
    assert_eq!(path, ["/srv/cni/bin", "/usr/lib/cni"]);
    let config: Value = serde_json::from_str(&attachment.runtime_config).unwrap();
    assert_eq!(config, json!({"mac": "02:ff:60:00:00:11"}));
    match host.ops_named("report-addresses").as_slice() {
        [HostOp::ReportAddresses { link, addresses }] => {
            assert_eq!(link.as_str(), "eth0");
            assert_eq!(addresses.len(), 1);
            assert_eq!(addresses[0].to_string(), "10.22.0.5/16");
        }
        other => panic!("{other:?}"),
    }
    match host.ops_named("set-jail-dns").as_slice() {
        [HostOp::SetJailDns {
            nameservers,
            search,
            ..
        }] => {
            assert_eq!(nameservers.len(), 1);
            assert_eq!(search[0].as_str(), "example.test");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn runtime_config_carries_forwards_addresses_and_bandwidth() {
    let jail = jail(&[
        ("nat_forwards", "tcp(80:8080),udp(5000-5001)"),
        ("cni_bandwidth", "in=10M,out=1M/256k"),
    ])
    .ip4_addr("eth0|10.22.0.9/16")
    .ip6_addr("eth0|fd00::9/64")
    .build();
    let settings = Settings::of(&jail).unwrap();
    assert_eq!(
        runtime_config(&settings),
        json!({
            "portMappings": [
                {"hostPort": 8080, "containerPort": 80, "protocol": "tcp"},
                {"hostPort": 5000, "containerPort": 5000, "protocol": "udp"},
                {"hostPort": 5001, "containerPort": 5001, "protocol": "udp"},
            ],
            "mac": "02:ff:60:00:00:11",
            "ips": ["10.22.0.9/16", "fd00::9/64"],
            "bandwidth": {
                "ingressRate": 10_000_000, "ingressBurst": 1_000_000,
                "egressRate": 1_000_000, "egressBurst": 256_000,
            },
        })
    );
}

#[test]
fn a_custom_resolver_keeps_its_file() {
    let mut host = host_with(BRIDGE_RESULT);
    let jail = jail(&[("resolver", "nameserver 192.0.2.53")]).build();
    CniMode.setup(&jail, &mut host.host()).unwrap();
    assert_eq!(host.names(), ["cni-add", "report-addresses"]);
}

#[test]
fn secure_filters_the_host_side_port_with_the_result() {
    let mut host = host_with(BRIDGE_RESULT);
    CniMode
        .setup(&jail(&[("cni_secure", "on")]).build(), &mut host.host())
        .unwrap();
    match host.ops_named("protect-port").as_slice() {
        [HostOp::ProtectPort { policy }] => {
            assert_eq!(policy.port(), "veth1234");
            assert_eq!(policy.bridge(), "cni0");
            assert_eq!(policy.nic(), "eth0");
            assert_eq!(policy.mac().to_string(), "02:ff:60:00:00:11");
            assert_eq!(policy.ipv4().count(), 1);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn secure_refuses_a_result_without_a_host_side_interface() {
    let macvlan = r#"{"cniVersion":"1.0.0",
     "interfaces":[{"name":"eth0","mac":"02:00:00:00:00:01","sandbox":"/run/netns/x"}],
     "ips":[{"address":"192.168.5.9/24","interface":0}]}"#;
    let mut host = host_with(macvlan);
    let err = CniMode
        .setup(&jail(&[("cni_secure", "on")]).build(), &mut host.host())
        .unwrap_err();
    assert!(err.message().contains("property 'cni_secure'"), "{err}");
    assert!(err.message().contains("no host-side interface"), "{err}");
    assert!(host.ops_named("protect-port").is_empty());
}

#[test]
fn validate_refuses_a_jail_without_a_network_list() {
    let mut host = RecordingHost::validating();
    let err = CniMode
        .validate(&jail(&[("cni_network", "none")]).build(), &mut host.host())
        .unwrap_err();
    assert!(err.message().contains("property 'cni_network'"), "{err}");
    CniMode
        .validate(&jail(&[]).build(), &mut host.host())
        .unwrap();
}

#[test]
fn a_bad_result_is_an_error_naming_the_network() {
    let mut host = host_with(r#"{"cniVersion":"1.0.0","ips":[{"address":"nonsense"}]}"#);
    let err = CniMode
        .setup(&jail(&[]).build(), &mut host.host())
        .unwrap_err();
    assert!(
        err.message().contains("CNI result of network mynet"),
        "{err}"
    );
}

#[test]
fn check_and_gc_name_the_attachments() {
    let mut host = RecordingHost::new();
    CniMode.check(&jail(&[]).build(), &mut host.host()).unwrap();
    assert_eq!(host.names(), ["cni-check"]);
    let mut host = RecordingHost::new();
    let jails = [jail(&[]).build(), jail(&[]).jid(0).build()];
    CniMode.gc(&jails, &mut host.host()).unwrap();
    match host.ops_named("cni-gc").as_slice() {
        [HostOp::CniGc { attachment, valid }] => {
            assert_eq!(attachment.network.as_str(), "mynet");
            assert_eq!(valid.len(), 1);
            assert_eq!(valid[0].container_id.as_str(), "ioc-web");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn property_texts() {
    assert!(forwards("tcp(80:8080)").is_ok());
    assert!(forwards("tcp(1-2:3)").is_err());
    assert!(bandwidth("in=5X").is_err());
    assert_eq!(
        bandwidth("out=64k").unwrap().1,
        Some(Rate {
            rate: 64_000,
            burst: 128_000
        })
    );
}

#[test]
fn secure_refuses_a_port_on_no_bridge() {
    let ptp = r#"{"cniVersion":"1.0.0",
     "interfaces":[{"name":"veth77","mac":"aa:00:00:00:00:01"},
                   {"name":"eth0","mac":"02:00:00:00:00:01","sandbox":"/run/netns/x"}],
     "ips":[{"address":"10.33.0.2/24","interface":1}]}"#;
    assert_eq!(
        host_side("pnet", "eth0", ptp).unwrap(),
        HostSide {
            port: "veth77".into(),
            bridge: None
        }
    );
    let mut host = host_with(ptp);
    let err = CniMode
        .setup(&jail(&[("cni_secure", "on")]).build(), &mut host.host())
        .unwrap_err();
    assert!(
        err.message().contains("names no bridge for port veth77"),
        "{err}"
    );
}
