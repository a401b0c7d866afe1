//! The backend's batches against the real kernel, in a private network namespace: every
//! variant (static, DHCP and SLAAC learning, the network's DHCP server) is accepted by the
//! kernel as one commit, and the plan's `nft -f` text of it, replayed with `nft`, makes the same
//! table (up to nft's own merging of adjacent loads): what a dry run shows is what a start does.
//!
//! Needs root and nftables; skips with the reason otherwise, and fails under `CI=true`.

#![cfg(target_os = "linux")]

// The workspace's one rule for tests that cannot run here, shared as source.
#[path = "../../../tests/src/skip.rs"]
mod skip;

use std::io::Write;
use std::net::IpAddr;
use std::process::{Command, Stdio};

use ioc_core::host::linux::LinuxHost;
use ioc_core::host::Backend;
use ioc_core::render::nft_text;
use ioc_core::runtime::RunDir;
use ioc_core::step::JailParams;
use ioc_plugin_nftables::layout;
use ioc_plugin_nftables::whitelist::Whitelist;
use ioc_sdk::nft::{NftBatch, NftCommand, NftExpr, NftVerdict};
use ioc_sdk::{HostOp, HostReply, PortLearning, PortPolicy};

fn skip_reason() -> Option<String> {
    if let Some(why) = skip::missing_root("nftables tables in a private network namespace") {
        return Some(why);
    }
    if Command::new("nft").arg("-V").output().is_err() {
        return Some("`nft` is not installed (nftables)".into());
    }
    None
}

fn nft(args: &[&str], stdin: Option<&str>) -> String {
    let mut child = Command::new("nft")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run nft");
    if let Some(text) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
    }
    drop(child.stdin.take());
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "nft {args:?} failed: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        stdin.unwrap_or_default()
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Runs `body` on a thread with a network namespace of its own, gone when the thread ends.
fn in_private_netns<T: Send>(body: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|s| {
        s.spawn(|| {
            nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNET).expect("unshare");
            body()
        })
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}

fn policy(addresses: &[&str], learning: PortLearning) -> PortPolicy {
    PortPolicy::new(
        "myjail",
        5,
        "vnet0",
        "vnet0.5",
        "bridge0",
        "02:ff:60:cb:49:49".parse().unwrap(),
        addresses.iter().map(|a| a.parse::<IpAddr>().unwrap()),
        Some(1500),
    )
    .with_learning(learning)
}

/// Whether the kernel has the nftables `queue` expression (module `nft_queue`), which rules
/// handing packets to a learner need; minimal kernels leave it out.
fn kernel_has_queues() -> bool {
    Command::new("nft")
        .args(["-f", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .and_then(|mut child| {
            child
                .stdin
                .take()
                .unwrap()
                .write_all(b"table netdev probe { chain c { queue num 0; } }\n")?;
            child.wait()
        })
        .map(|status| status.success())
        .unwrap_or(false)
}

/// The batch with every `queue` statement replaced by `accept`, for a kernel without queues:
/// everything else in the rules is still checked.
fn without_queues(mut batch: NftBatch) -> NftBatch {
    for command in batch.commands.iter_mut() {
        if let NftCommand::AddRule { exprs, .. } = command {
            for e in exprs.iter_mut() {
                if matches!(e, NftExpr::Queue { .. }) {
                    *e = NftExpr::Verdict {
                        verdict: NftVerdict::Accept,
                    };
                }
            }
        }
    }
    batch
}

#[test]
fn every_variant_commits_and_its_plan_text_replays_to_the_same_table() {
    if skip::skip_unless_ci(skip_reason()) {
        return;
    }
    let run = tempfile::tempdir().unwrap();
    let all = PortLearning {
        dhcp4: true,
        slaac: true,
        dhcp_server: false,
    };
    let server = PortLearning {
        dhcp_server: true,
        ..PortLearning::default()
    };
    let variants = [
        (
            policy(&["10.23.42.2", "2001:db8::2"], PortLearning::default()),
            None,
        ),
        (policy(&[], all), Some(7)),
        (policy(&["10.23.42.2"], all), Some(65535)),
        (policy(&["10.23.42.2", "2001:db8::2"], server), None),
        (policy(&[], PortLearning::default()), None),
    ];
    let queues = in_private_netns(kernel_has_queues);
    for (p, queue) in variants {
        let w = Whitelist::new(&p, queue);
        let mut batch = layout::install(p.port(), &w, false).unwrap();
        let mut replace = layout::install(p.port(), &w, true).unwrap();
        if queue.is_some() && !queues {
            eprintln!("note: this kernel has no nftables queue (CONFIG_NFT_QUEUE): the rules of {p:?} are committed with `accept` for `queue`");
            batch = without_queues(batch);
            replace = without_queues(replace);
        }
        let committed = in_private_netns(|| {
            let mut host = LinuxHost::new(&RunDir::new(run.path()));
            let params = JailParams::unknown("myjail");
            let reply = host.perform(
                &params,
                &HostOp::NftCommit {
                    batch: batch.clone(),
                },
            );
            assert!(matches!(reply, Ok(HostReply::Done)), "{p:?}: {reply:?}");
            let listed = nft(&["list", "table", "netdev", "ioc-vnet0.5"], None);
            // A start after a crash replaces the table, a removal deletes it, twice is fine.
            host.perform(
                &params,
                &HostOp::NftCommit {
                    batch: replace.clone(),
                },
            )
            .expect("commit again");
            assert_eq!(
                nft(&["list", "table", "netdev", "ioc-vnet0.5"], None),
                listed
            );
            let remove = layout::remove(p.port()).unwrap();
            for _ in 0..2 {
                host.perform(
                    &params,
                    &HostOp::NftCommit {
                        batch: remove.clone(),
                    },
                )
                .expect("remove");
            }
            assert_eq!(nft(&["list", "tables"], None), "");
            listed
        });
        // nft merges adjacent loads of one header when it parses (`@th,192,16 X @th,208,48 Y`
        // becomes one `@th,192,64` load), so both sides go through its parser once.
        let through_nft = |text: &str| {
            in_private_netns(|| {
                nft(&["-f", "-"], Some(text));
                nft(&["list", "table", "netdev", "ioc-vnet0.5"], None)
            })
        };
        assert_eq!(
            through_nft(&nft_text::batch(&batch)),
            through_nft(&committed),
            "{p:?}"
        );
        if queue.is_some() && queues {
            assert!(committed.contains("queue"), "{committed}");
        }
    }
}
