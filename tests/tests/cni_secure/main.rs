//! `ioc-secure`, ioc's Secure VNET filter as a chained CNI plugin, driven the way container
//! runtimes drive it: through libcni (`tests/cni-driver`, built at test time from Debian's
//! golang-github-appc-cni-dev), with Debian's `bridge` and `host-local` plugins, in sandbox
//! namespaces. libcni 1.1.2 has no GC or STATUS API: the driver invokes the plugin for those
//! with libcni's `invoke` package, as a CNI 1.1 runtime does.
//!
//! - [`lifecycle`]: ADD, CHECK (after a rule, an element or the table is removed by hand),
//!   DEL (twice, without prevResult, after the namespace is gone), GC, 50 parallel ADDs;
//! - [`refusals`]: bad configurations and environments are CNI errors that install nothing,
//!   VERSION and STATUS, prevResult passed through in the request's version;
//! - [`spoofing`]: the spoofing matrix (IP, MAC, ARP, IPv6, ND) from one container toward a
//!   peer, dropped with `ioc-secure` and arriving through the same list without it.
#![cfg(target_os = "linux")]

mod harness;
mod lifecycle;
mod refusals;
mod spoofing;
