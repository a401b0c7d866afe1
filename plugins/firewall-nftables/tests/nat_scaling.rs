//! How NAT's own nftables work grows with the number of NAT jails (issue 12's benchmark
//! bullet), measured without the rest of a start: in a private network namespace, 200 jails'
//! NAT is installed one after another, as the per-jail tables of before (`ip ioc-nat-<jail>`,
//! three base chains each) and as the elements of the shared table, then removed in the same
//! order. Each install and removal is timed in wall time and in the thread's CPU time (the
//! nfnetlink transaction runs in the sending thread, so the kernel's work is counted;
//! ``CLOCK_THREAD_CPUTIME_ID`), and the medians of the first and last tenth are printed.
//!
//! A measurement, not a check (the machine's load decides the numbers): run it by hand,
//! as root, with
//! `cargo test --release -p ioc-plugin-firewall-nftables --test nat_scaling -- --ignored --nocapture`.

#![cfg(target_os = "linux")]

#[path = "../../../tests/src/live_netns.rs"]
#[allow(dead_code)]
mod live_netns;
#[path = "../../../tests/src/skip.rs"]
#[allow(dead_code)]
mod skip;

use std::time::{Duration, Instant};

use live_netns::in_private_netns;

use ioc_core::host::linux::LinuxHost;
use ioc_core::host::Backend;
use ioc_core::runtime::RunDir;
use ioc_core::step::JailParams;
use ioc_plugin_nftables::nat;
use ioc_sdk::nft::{
    ifname_bytes, NftBatch, NftField, NftHook, NftHookKind, NftMetaKey, NftPortRange, NftRule,
};
use ioc_sdk::{HostOp, Nat, NatRequest, NftFamily, PortForward, Protocol};

/// How many NAT jails: `IOC_NAT_JAILS`, 200 by default.
fn jails() -> usize {
    std::env::var("IOC_NAT_JAILS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(200)
}

fn request(n: usize) -> NatRequest {
    let block = u32::from(std::net::Ipv4Addr::new(172, 16, 0, 0)) + 4 * n as u32;
    NatRequest {
        jail: format!("j{n}").into(),
        jid: n as u32 + 1,
        link: format!("vnet0.{n}").into(),
        nat: Nat::new(
            block.into(),
            Some("up0"),
            vec![PortForward {
                proto: Protocol::Tcp,
                jail_port: 80,
                host_port: 10000 + n as u16,
                count: 1,
            }],
            "nftables",
        ),
    }
}

/// The per-jail table of before, as the backend built it.
fn legacy_install(r: &NatRequest) -> NftBatch {
    let ip = NftFamily::Ip;
    let name = nat::legacy_table(&r.jail);
    let mut b = NftBatch::new();
    b.create_table(ip, &name);
    for (chain, kind) in [
        ("prerouting", NftHookKind::Prerouting),
        ("output", NftHookKind::Output),
    ] {
        b.add_chain(ip, &name, chain, Some(NftHook::nat(kind, -100)));
    }
    b.add_chain(
        ip,
        &name,
        "postrouting",
        Some(NftHook::nat(NftHookKind::Postrouting, 100)),
    );
    let f = r.nat.forwards()[0];
    for chain in ["prerouting", "output"] {
        b.add_rule(
            ip,
            &name,
            chain,
            NftRule::new()
                .l4proto(6)
                .eq(NftField::TH_DPORT, &f.host_port.to_be_bytes())
                .to_local_address()
                .dnat(
                    r.nat.jail_address().into(),
                    Some(NftPortRange::one(f.jail_port)),
                ),
        );
    }
    let network = u32::from(r.nat.jail_address()) & !3;
    b.add_rule(
        ip,
        &name,
        "postrouting",
        NftRule::new()
            .masked_eq(
                NftField::IP_SADDR,
                &(!3u32).to_be_bytes(),
                &network.to_be_bytes(),
            )
            .meta_eq(NftMetaKey::Oifname, &ifname_bytes("up0"))
            .masquerade(),
    );
    b
}

fn legacy_remove(r: &NatRequest) -> NftBatch {
    let mut b = NftBatch::new();
    b.delete_table(NftFamily::Ip, &nat::legacy_table(&r.jail));
    b
}

/// The thread's time on CPU so far (`CLOCK_THREAD_CPUTIME_ID`: user and kernel, to the
/// nanosecond, where `/proc`'s counters move only at scheduler ticks).
fn cpu() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec for the duration of the call, and the clock
    // id is a constant the kernel knows.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime");
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// Medians of the first and last tenth, in ms, and their ratio.
fn tenths(v: &[Duration]) -> String {
    let tenth = (v.len() / 10).max(1);
    let first = median(v[..tenth].to_vec());
    let last = median(v[v.len() - tenth..].to_vec());
    format!(
        "1st {:6.3} ms  last {:6.3} ms  last/1st {:4.2}",
        first.as_secs_f64() * 1e3,
        last.as_secs_f64() * 1e3,
        last.as_secs_f64() / first.as_secs_f64()
    )
}

/// Runs `batches` in order on `host` (each after the query `ask`, if any), timing each.
fn timed(
    host: &mut LinuxHost,
    ask: Option<&HostOp>,
    batches: &[NftBatch],
) -> (Vec<Duration>, Vec<Duration>) {
    let params = JailParams::unknown("bench");
    let mut wall = Vec::new();
    let mut on_cpu = Vec::new();
    for batch in batches {
        let (w, c) = (Instant::now(), cpu());
        if let Some(q) = ask {
            host.perform(&params, q).expect("query");
        }
        host.perform(
            &params,
            &HostOp::NftCommit {
                batch: batch.clone(),
            },
        )
        .expect("commit");
        on_cpu.push(cpu() - c);
        wall.push(w.elapsed());
    }
    (wall, on_cpu)
}

#[test]
#[ignore = "a measurement: run by hand with --ignored --nocapture"]
fn nat_install_and_remove_as_the_jails_grow() {
    let requests: Vec<NatRequest> = (0..jails()).map(request).collect();
    let run = tempfile::tempdir().unwrap();
    let ask = HostOp::NftTableExists {
        family: NftFamily::Ip,
        table: nat::TABLE.into(),
    };
    let report = |what: &str, (wall, on_cpu): (Vec<Duration>, Vec<Duration>)| {
        println!("{what:<24} wall {}", tenths(&wall));
        println!("{:<24} cpu  {}", "", tenths(&on_cpu));
    };
    in_private_netns(|| {
        let mut host = LinuxHost::new(&RunDir::new(run.path()));
        let install: Vec<NftBatch> = requests.iter().map(legacy_install).collect();
        let remove: Vec<NftBatch> = requests.iter().map(legacy_remove).collect();
        report("per-jail tables install", timed(&mut host, None, &install));
        report("per-jail tables remove", timed(&mut host, None, &remove));
    });
    in_private_netns(|| {
        let mut host = LinuxHost::new(&RunDir::new(run.path()));
        let first = nat::install_batch(&requests[0], "up0", true);
        let install: Vec<NftBatch> = std::iter::once(first)
            .chain(
                requests[1..]
                    .iter()
                    .map(|r| nat::install_batch(r, "up0", false)),
            )
            .collect();
        let remove: Vec<NftBatch> = requests
            .iter()
            .map(|r| nat::remove_batch(r, "up0"))
            .collect();
        report(
            "shared table install",
            timed(&mut host, Some(&ask), &install),
        );
        // A stop also asks whether the jail has a per-jail table of before.
        let legacy = HostOp::NftTableExists {
            family: NftFamily::Ip,
            table: nat::legacy_table("j0").into(),
        };
        report(
            "shared table remove",
            timed(&mut host, Some(&legacy), &remove),
        );
    });
}
