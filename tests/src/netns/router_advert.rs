//! A router advertisement from the sandbox host, without radvd: the IPv6 tests' router.

use std::path::PathBuf;
use std::thread;
use std::time::{Duration, Instant};

use super::HostNs;

impl HostNs {
    /// Sends one IPv6 router advertisement out of `link` (a bridge of this namespace) to all
    /// nodes, offering the /64 `prefix` for SLAAC with this namespace as default router. No
    /// radvd needed: a raw ICMPv6 socket opened in this namespace from a thread of our own
    /// (setns of a network namespace changes only the calling thread).
    pub fn advertise_prefix(&self, link: &str, prefix: std::net::Ipv6Addr) {
        // An RA must come from a link-local address, which exists only once DAD is done.
        let deadline = Instant::now() + Duration::from_secs(10);
        while !self
            .ip(["-6", "addr", "show", "dev", link, "scope", "link"])
            .lines()
            .any(|l| l.contains("inet6") && !l.contains("tentative"))
        {
            assert!(
                Instant::now() < deadline,
                "{link} has no link-local address"
            );
            thread::sleep(Duration::from_millis(100));
        }
        let ns = PathBuf::from("/run/netns").join(&self.name);
        let link = std::ffi::CString::new(link).expect("link name");
        let sent = thread::spawn(move || -> std::io::Result<()> {
            let file = std::fs::File::open(&ns)?;
            nix::sched::setns(file, nix::sched::CloneFlags::CLONE_NEWNET)?;
            send_router_advertisement(&link, prefix)
        })
        .join()
        .expect("the advertising thread panicked");
        sent.unwrap_or_else(|e| panic!("send a router advertisement: {e}"));
    }
}

/// A router advertisement (RFC 4861 4.2) with one prefix information option, sent to
/// ff02::1 on `link` of the calling thread's network namespace. The kernel fills in the
/// ICMPv6 checksum and the link-local source.
fn send_router_advertisement(
    link: &std::ffi::CStr,
    prefix: std::net::Ipv6Addr,
) -> std::io::Result<()> {
    use nix::libc;
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
    let check = |rc: libc::c_int| {
        if rc < 0 {
            Err(std::io::Error::last_os_error())
        } else {
            Ok(rc)
        }
    };
    // SAFETY: plain libc calls on an fd we own, with pointers to live locals.
    unsafe {
        let index = libc::if_nametoindex(link.as_ptr());
        if index == 0 {
            return Err(std::io::Error::last_os_error());
        }
        let fd = check(libc::socket(
            libc::AF_INET6,
            libc::SOCK_RAW,
            libc::IPPROTO_ICMPV6,
        ))?;
        let fd = OwnedFd::from_raw_fd(fd);
        let set = |option: libc::c_int, value: libc::c_int| {
            check(libc::setsockopt(
                fd.as_raw_fd(),
                libc::IPPROTO_IPV6,
                option,
                (&value as *const libc::c_int).cast(),
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            ))
        };
        set(libc::IPV6_MULTICAST_HOPS, 255)?;
        set(libc::IPV6_MULTICAST_IF, index as libc::c_int)?;
        let mut ra = vec![
            134, 0, 0, 0, // type, code, checksum
            64, 0, 0x07, 0x08, // hop limit, flags, router lifetime 1800 s
            0, 0, 0, 0, 0, 0, 0, 0, // reachable time, retrans timer
            3, 4, 64, 0xc0, // prefix information: length 32 bytes, /64, on-link + autonomous
            0, 0, 0x0e, 0x10, 0, 0, 0x0e, 0x10, // valid and preferred lifetimes: 3600 s
            0, 0, 0, 0, // reserved
        ];
        ra.extend_from_slice(&prefix.octets());
        let mut to: libc::sockaddr_in6 = std::mem::zeroed();
        to.sin6_family = libc::AF_INET6 as libc::sa_family_t;
        to.sin6_addr.s6_addr = [0xff, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
        to.sin6_scope_id = index;
        check(libc::sendto(
            fd.as_raw_fd(),
            ra.as_ptr().cast(),
            ra.len(),
            0,
            (&to as *const libc::sockaddr_in6).cast(),
            std::mem::size_of::<libc::sockaddr_in6>() as libc::socklen_t,
        ) as libc::c_int)?;
    }
    Ok(())
}
