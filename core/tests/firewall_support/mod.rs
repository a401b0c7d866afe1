//! What the firewall backend tests share: finding the built plugin libraries, describing the
//! seed's `myjail`, and calling a backend with a host closure.
//!
//! `cargo test` does not build cdylibs, so these tests use the libraries `cargo build
//! --workspace` left next to the test binary (`<target>/<profile>/`), as the README's test
//! command does.

#![allow(dead_code)]

use std::net::IpAddr;
use std::path::PathBuf;

use ioc_core::plugins::LoadedPlugin;
use ioc_sdk::{
    Address, AddressKind, Cidr, Gateway, Hook, HostError, HostOp, HostReply, Jail, Mac,
    NetworkSpec, Nic, Platform, PortPolicy,
};

/// `<target>/<profile>/lib<name>.so`, the test executable being `<target>/<profile>/deps/<test>`.
pub fn plugin_path(lib: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary's path");
    let dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("test binaries live in <target>/<profile>/deps");
    let path = dir.join(format!("lib{lib}.so"));
    assert!(
        path.is_file(),
        "{} is not built: run `cargo build --workspace` before `cargo test --workspace`",
        path.display()
    );
    path
}

pub fn load(lib: &str) -> LoadedPlugin {
    let path = plugin_path(lib);
    LoadedPlugin::load(&path).unwrap_or_else(|e| panic!("load {}: {e}", path.display()))
}

/// The seed's Secure VNET jail: `ioc create myjail vnet=on interfaces="vnet0::bridge0"
/// ip4_addr="vnet0|10.23.42.2/24" defaultrouter="10.23.42.1"`, running with JID 5.
pub fn myjail(platform: Platform, firewall: &str) -> Jail {
    let host_mac: Mac = "02:ff:60:cb:49:48".parse().unwrap();
    let jail_mac: Mac = "02:ff:60:cb:49:49".parse().unwrap();
    let address: IpAddr = "10.23.42.2".parse().unwrap();
    let spec = NetworkSpec {
        vnet: true,
        interfaces: vec![Nic::new("vnet0", Some("bridge0"), true, host_mac, jail_mac)],
        ip4: vec![Address::new(
            "vnet0",
            AddressKind::Static(Cidr::new(address, 24)),
        )],
        defaultrouter: Some(Gateway::new("10.23.42.1".parse().unwrap(), None)),
        ..NetworkSpec::default()
    };
    Jail::new("myjail", 5, platform, spec.into(), firewall, [])
}

/// The policy the secure-vnet mode hands the backend for `myjail`'s `vnet0` on `port`.
pub fn myjail_policy(port: &str, addresses: &[&str]) -> PortPolicy {
    PortPolicy::new(
        "myjail",
        5,
        "vnet0",
        port,
        "bridge0",
        "02:ff:60:cb:49:49".parse().unwrap(),
        addresses.iter().map(|a| a.parse::<IpAddr>().unwrap()),
        Some(1500),
    )
}

/// Calls one backend hook, answering each request with `perform`.
pub fn call<F>(plugin: &LoadedPlugin, hook: Hook, jail: &Jail, mut perform: F) -> Result<(), String>
where
    F: FnMut(&HostOp) -> Result<HostReply, HostError>,
{
    plugin.call(hook, jail, &mut perform).map_err(|e| e.message)
}

/// The kernel params of `myjail` as started with JID 5 (a VNET jail).
pub fn myjail_params() -> ioc_core::step::JailParams {
    ioc_core::step::JailParams {
        jid: 5,
        ..ioc_core::step::JailParams::unknown("myjail")
    }
}
