//! FreeBSD dry runs of a CNI jail through the real `ioc` binary: the `cni` mode's attachment
//! (container id, interface, runtimeConfig composed from nat_forwards, cni_bandwidth, the
//! generated MAC and a static address) rendered as each plugin's invocation, `CNI_NETNS` the
//! jail's name; no root and no plugin needed.

use ioc_tests::Sandbox;

const LIST: &str = r#"{"cniVersion": "1.0.0", "name": "lab", "plugins": [
  {"type": "bridge", "bridge": "cni-lab", "isGateway": true, "capabilities": {"ips": true},
   "ipam": {"type": "host-local", "ranges": [[{"subnet": "10.22.0.0/24"}]]}},
  {"type": "portmap", "capabilities": {"portMappings": true}},
  {"type": "bandwidth", "capabilities": {"bandwidth": true}},
  {"type": "tuning", "capabilities": {"mac": true}}]}"#;

const START: &str = r#"# web (JID 1, freebsd)
/usr/sbin/jail -c name=ioc-web jid=1 host.hostname=web path=/ vnet=1 allow.raw_sockets=0 persist
printf '%s\n' '{"bridge":"cni-lab","capabilities":{"ips":true},"cniVersion":"1.0.0","ipam":{"ranges":[[{"subnet":"10.22.0.0/24"}]],"type":"host-local"},"isGateway":true,"name":"lab","runtimeConfig":{"ips":["10.22.0.9/24"]},"type":"bridge"}' | env -i CNI_COMMAND=ADD CNI_PATH=/opt/ioc-plan-test/cni CNI_CONTAINERID=ioc-web CNI_NETNS=ioc-web CNI_IFNAME=eth0 CNI_ARGS=IgnoreUnknown=1 PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin /opt/ioc-plan-test/cni/bridge
printf '%s\n' '{"capabilities":{"portMappings":true},"cniVersion":"1.0.0","name":"lab","prevResult":"<ADD result of bridge>","runtimeConfig":{"portMappings":[{"containerPort":80,"hostPort":8080,"protocol":"tcp"}]},"type":"portmap"}' | env -i CNI_COMMAND=ADD CNI_PATH=/opt/ioc-plan-test/cni CNI_CONTAINERID=ioc-web CNI_NETNS=ioc-web CNI_IFNAME=eth0 CNI_ARGS=IgnoreUnknown=1 PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin /opt/ioc-plan-test/cni/portmap
printf '%s\n' '{"capabilities":{"bandwidth":true},"cniVersion":"1.0.0","name":"lab","prevResult":"<ADD result of portmap>","runtimeConfig":{"bandwidth":{"egressBurst":256000,"egressRate":1000000,"ingressBurst":1000000,"ingressRate":10000000}},"type":"bandwidth"}' | env -i CNI_COMMAND=ADD CNI_PATH=/opt/ioc-plan-test/cni CNI_CONTAINERID=ioc-web CNI_NETNS=ioc-web CNI_IFNAME=eth0 CNI_ARGS=IgnoreUnknown=1 PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin /opt/ioc-plan-test/cni/bandwidth
printf '%s\n' '{"capabilities":{"mac":true},"cniVersion":"1.0.0","name":"lab","prevResult":"<ADD result of bandwidth>","runtimeConfig":{"mac":"02:ff:60:4d:38:70"},"type":"tuning"}' | env -i CNI_COMMAND=ADD CNI_PATH=/opt/ioc-plan-test/cni CNI_CONTAINERID=ioc-web CNI_NETNS=ioc-web CNI_IFNAME=eth0 CNI_ARGS=IgnoreUnknown=1 PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin /opt/ioc-plan-test/cni/tuning
"#;

const STOP: &str = r#"# web (JID 1, freebsd)
printf '%s\n' '{"capabilities":{"mac":true},"cniVersion":"1.0.0","name":"lab","prevResult":{"cniVersion":"1.0.0","interfaces":[],"ips":[]},"runtimeConfig":{"mac":"02:ff:60:4d:38:70"},"type":"tuning"}' | env -i CNI_COMMAND=DEL CNI_PATH=/opt/ioc-plan-test/cni CNI_CONTAINERID=ioc-web CNI_NETNS=ioc-web CNI_IFNAME=eth0 CNI_ARGS=IgnoreUnknown=1 PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin /opt/ioc-plan-test/cni/tuning
printf '%s\n' '{"capabilities":{"bandwidth":true},"cniVersion":"1.0.0","name":"lab","prevResult":{"cniVersion":"1.0.0","interfaces":[],"ips":[]},"runtimeConfig":{"bandwidth":{"egressBurst":256000,"egressRate":1000000,"ingressBurst":1000000,"ingressRate":10000000}},"type":"bandwidth"}' | env -i CNI_COMMAND=DEL CNI_PATH=/opt/ioc-plan-test/cni CNI_CONTAINERID=ioc-web CNI_NETNS=ioc-web CNI_IFNAME=eth0 CNI_ARGS=IgnoreUnknown=1 PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin /opt/ioc-plan-test/cni/bandwidth
printf '%s\n' '{"capabilities":{"portMappings":true},"cniVersion":"1.0.0","name":"lab","prevResult":{"cniVersion":"1.0.0","interfaces":[],"ips":[]},"runtimeConfig":{"portMappings":[{"containerPort":80,"hostPort":8080,"protocol":"tcp"}]},"type":"portmap"}' | env -i CNI_COMMAND=DEL CNI_PATH=/opt/ioc-plan-test/cni CNI_CONTAINERID=ioc-web CNI_NETNS=ioc-web CNI_IFNAME=eth0 CNI_ARGS=IgnoreUnknown=1 PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin /opt/ioc-plan-test/cni/portmap
printf '%s\n' '{"bridge":"cni-lab","capabilities":{"ips":true},"cniVersion":"1.0.0","ipam":{"ranges":[[{"subnet":"10.22.0.0/24"}]],"type":"host-local"},"isGateway":true,"name":"lab","prevResult":{"cniVersion":"1.0.0","interfaces":[],"ips":[]},"runtimeConfig":{"ips":["10.22.0.9/24"]},"type":"bridge"}' | env -i CNI_COMMAND=DEL CNI_PATH=/opt/ioc-plan-test/cni CNI_CONTAINERID=ioc-web CNI_NETNS=ioc-web CNI_IFNAME=eth0 CNI_ARGS=IgnoreUnknown=1 PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin /opt/ioc-plan-test/cni/bridge
/usr/sbin/jail -r ioc-web
"#;

#[test]
fn a_cni_jail_renders_each_plugin_with_its_runtime_config() {
    let s = Sandbox::new();
    let conf = tempfile::tempdir().unwrap();
    std::fs::write(conf.path().join("lab.conflist"), LIST).unwrap();
    let conf_dir = format!("cni_conf_dir={}", conf.path().display());
    s.ok([
        "create",
        "web",
        "vnet=on",
        "network_plugin=cni",
        "cni_network=lab",
        &conf_dir,
        // A directory no machine has: the plan names the same programs everywhere.
        "cni_path=/opt/ioc-plan-test/cni",
        "nat_forwards=tcp(80:8080)",
        "cni_bandwidth=in=10M,out=1M/256k",
        "ip4_addr=eth0|10.22.0.9/24",
    ]);
    assert_eq!(
        s.ok(["start", "--dry-run", "--platform", "freebsd", "web"]),
        START
    );
    assert_eq!(
        s.ok(["stop", "--dry-run", "--platform", "freebsd", "web"]),
        STOP
    );
}

#[test]
fn a_missing_network_list_fails_the_dry_run_naming_it() {
    let s = Sandbox::new();
    let conf = tempfile::tempdir().unwrap();
    let conf_dir = format!("cni_conf_dir={}", conf.path().display());
    s.ok([
        "create",
        "web",
        "vnet=on",
        "network_plugin=cni",
        "cni_network=nosuchnet",
        &conf_dir,
    ]);
    let out = s.ioc(["start", "--dry-run", "--platform", "freebsd", "web"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("jail 'web'"), "{err}");
    assert!(err.contains("nosuchnet"), "{err}");
}
