//! `ioc-frame`: puts one crafted Ethernet frame on a link, or reports the frames that arrive on
//! one. A test helper for the Secure VNET spoofing tests, run inside a jail with
//! `ioc exec JAIL -- ioc-frame ...` or in a peer namespace with `nsenter`: an AF_PACKET socket
//! works on the links of the network namespace it is opened in.
//!
//! ```text
//! ioc-frame send DEV KIND [KEY=VALUE...]
//!     any KIND:  src-mac=M (default: DEV's own)  dst-mac=M (default: implied)
//!                vlan=ID [vlan-tpid=88a8] (an 802.1Q tag, or another TPID such as 802.1ad's)
//!     icmp4      src=IP4 dst=IP4 [tag=TEXT]                 ICMP echo request
//!     udp        src=IP dst=IP sport=N dport=N [tag=TEXT]   over IPv4 or IPv6
//!     arp        op=request|reply sender-ip=IP4 target-ip=IP4 [sender-mac=M] [target-mac=M]
//!     icmp6      src=IP6 dst=IP6 [tag=TEXT]                 ICMPv6 echo request
//!     ns         src=IP6 dst=IP6 target=IP6 [sll=M]         neighbour solicitation
//!     na         src=IP6 dst=IP6 target=IP6 [flags=rso] [tll=M]
//!     ra         src=IP6 dst=IP6 [prefix=IP6/LEN] [sll=M]   router advertisement
//! ioc-frame listen DEV ms=N [until=TEXT]
//!     prints one line per frame DEV receives (frames it sends are left out) for N ms; with
//!     `until`, exits 0 as soon as a line contains TEXT and 1 if none did in time.
//! ```
//!
//! `listen` says `listening on DEV` on stderr once its socket is bound, so a caller can send
//! after that line and know nothing is missed. Exit code 2 means bad arguments or a failed
//! socket call. The frame layouts and line formats are in `ioc_tests::frame`.

#[cfg(target_os = "linux")]
mod linux {
    use std::collections::BTreeMap;
    use std::ffi::CString;
    use std::io::{self, Write as _};
    use std::mem::{size_of, zeroed};
    use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
    use std::str::FromStr;
    use std::time::{Duration, Instant};

    use ioc_tests::frame::{
        describe, frame, ArpOp, Ether, Mac, NaFlags, Packet, Vlan, ETHERTYPE_VLAN,
    };

    /// A failure with the message to print; the process exits with 2.
    type Result<T> = std::result::Result<T, String>;

    /// The `KEY=VALUE` words of a command line; every key must be used, so a typo is an error
    /// rather than a silently different frame.
    struct Args(BTreeMap<String, String>);

    impl Args {
        fn parse(words: &[String]) -> Result<Args> {
            let mut map = BTreeMap::new();
            for w in words {
                let (k, v) = w
                    .split_once('=')
                    .ok_or_else(|| format!("expected KEY=VALUE, got {w:?}"))?;
                map.insert(k.to_string(), v.to_string());
            }
            Ok(Args(map))
        }

        fn take<T: FromStr>(&mut self, key: &str) -> Result<Option<T>>
        where
            T::Err: std::fmt::Display,
        {
            self.0
                .remove(key)
                .map(|v| v.parse().map_err(|e| format!("{key}={v}: {e}")))
                .transpose()
        }

        fn need<T: FromStr>(&mut self, key: &str) -> Result<T>
        where
            T::Err: std::fmt::Display,
        {
            self.take(key)?
                .ok_or_else(|| format!("{key}=... is required"))
        }

        fn done(self) -> Result<()> {
            match self.0.keys().next() {
                Some(k) => Err(format!("unknown key {k:?}")),
                None => Ok(()),
            }
        }
    }

    fn check(rc: libc::c_int, what: &str) -> Result<libc::c_int> {
        if rc < 0 {
            Err(format!("{what}: {}", io::Error::last_os_error()))
        } else {
            Ok(rc)
        }
    }

    /// An AF_PACKET socket that receives nothing until bound (protocol 0).
    fn packet_socket() -> Result<OwnedFd> {
        // SAFETY: plain socket call; the fd is owned from here on.
        let fd = check(
            unsafe { libc::socket(libc::AF_PACKET, libc::SOCK_RAW | libc::SOCK_CLOEXEC, 0) },
            "socket(AF_PACKET)",
        )?;
        // SAFETY: `fd` is a fresh descriptor nobody else owns.
        Ok(unsafe { OwnedFd::from_raw_fd(fd) })
    }

    fn ifindex(dev: &str) -> Result<libc::c_int> {
        let name = CString::new(dev).map_err(|_| format!("bad link name {dev:?}"))?;
        // SAFETY: `name` is NUL-terminated and lives across the call.
        match unsafe { libc::if_nametoindex(name.as_ptr()) } {
            0 => Err(format!("no link {dev}: {}", io::Error::last_os_error())),
            i => Ok(i as libc::c_int),
        }
    }

    /// The link's own MAC (`SIOCGIFHWADDR`): the honest source, unless the caller lies.
    fn link_mac(fd: &OwnedFd, dev: &str) -> Result<Mac> {
        // SAFETY: an all-zero ifreq is valid; the name fits (checked) and stays NUL-terminated.
        let mut req: libc::ifreq = unsafe { zeroed() };
        if dev.len() >= req.ifr_name.len() {
            return Err(format!("link name {dev:?} is too long"));
        }
        for (dst, src) in req.ifr_name.iter_mut().zip(dev.bytes()) {
            *dst = src as libc::c_char;
        }
        // SAFETY: SIOCGIFHWADDR reads ifr_name and writes the ifreq we own.
        let status = unsafe { libc::ioctl(fd.as_raw_fd(), libc::SIOCGIFHWADDR, &mut req) };
        check(status, "SIOCGIFHWADDR")?;
        // SAFETY: the kernel filled in the hwaddr member of the union.
        let data = unsafe { req.ifr_ifru.ifru_hwaddr.sa_data };
        Ok(Mac(std::array::from_fn(|i| data[i] as u8)))
    }

    fn link_address(ifindex: libc::c_int, protocol: u16, dst: Option<Mac>) -> libc::sockaddr_ll {
        // SAFETY: an all-zero sockaddr_ll is valid.
        let mut sa: libc::sockaddr_ll = unsafe { zeroed() };
        sa.sll_family = libc::AF_PACKET as u16;
        sa.sll_protocol = protocol.to_be();
        sa.sll_ifindex = ifindex;
        if let Some(mac) = dst {
            sa.sll_halen = 6;
            sa.sll_addr[..6].copy_from_slice(&mac.0);
        }
        sa
    }

    /// The packet a `send` command line describes.
    fn packet(kind: &str, a: &mut Args, own: Mac) -> Result<Packet> {
        let tag = |a: &mut Args| -> Result<String> { Ok(a.take("tag")?.unwrap_or_default()) };
        Ok(match kind {
            "icmp4" => Packet::Icmp4Echo {
                src: a.need("src")?,
                dst: a.need("dst")?,
                tag: tag(a)?,
            },
            "udp" => Packet::Udp {
                src: a.need::<IpAddr>("src")?,
                dst: a.need::<IpAddr>("dst")?,
                sport: a.need("sport")?,
                dport: a.need("dport")?,
                tag: tag(a)?,
            },
            "arp" => Packet::Arp {
                op: match a.need::<String>("op")?.as_str() {
                    "request" => ArpOp::Request,
                    "reply" => ArpOp::Reply,
                    other => return Err(format!("op={other}: expected request or reply")),
                },
                sender_mac: a.take("sender-mac")?.unwrap_or(own),
                sender_ip: a.need::<Ipv4Addr>("sender-ip")?,
                target_mac: a.take("target-mac")?.unwrap_or(Mac([0; 6])),
                target_ip: a.need("target-ip")?,
            },
            "icmp6" => Packet::Icmp6Echo {
                src: a.need("src")?,
                dst: a.need("dst")?,
                tag: tag(a)?,
            },
            "ns" => Packet::NeighborSolicit {
                src: a.need("src")?,
                dst: a.need("dst")?,
                target: a.need("target")?,
                sll: a.take("sll")?,
            },
            "na" => {
                let flags: String = a.take("flags")?.unwrap_or_default();
                if let Some(c) = flags.chars().find(|c| !"rso".contains(*c)) {
                    return Err(format!("flags={flags}: {c:?} is not one of r, s, o"));
                }
                Packet::NeighborAdvert {
                    src: a.need("src")?,
                    dst: a.need("dst")?,
                    target: a.need("target")?,
                    flags: NaFlags {
                        router: flags.contains('r'),
                        solicited: flags.contains('s'),
                        override_: flags.contains('o'),
                    },
                    tll: a.take("tll")?,
                }
            }
            "ra" => Packet::RouterAdvert {
                src: a.need("src")?,
                dst: a.need("dst")?,
                prefix: a
                    .take::<String>("prefix")?
                    .map(|p| -> Result<(Ipv6Addr, u8)> {
                        let (ip, len) = p.split_once('/').ok_or("prefix=IP6/LEN")?;
                        Ok((
                            ip.parse().map_err(|e| format!("prefix {ip}: {e}"))?,
                            len.parse()
                                .map_err(|e| format!("prefix length {len}: {e}"))?,
                        ))
                    })
                    .transpose()?,
                sll: a.take("sll")?,
            },
            other => return Err(format!("unknown frame kind {other:?}")),
        })
    }

    fn send(dev: &str, kind: &str, words: &[String]) -> Result<()> {
        let fd = packet_socket()?;
        let index = ifindex(dev)?;
        let own = link_mac(&fd, dev)?;
        let mut a = Args::parse(words)?;
        let src = a.take("src-mac")?.unwrap_or(own);
        let dst_mac: Option<Mac> = a.take("dst-mac")?;
        let tpid = match a.take::<String>("vlan-tpid")? {
            Some(hex) => {
                u16::from_str_radix(&hex, 16).map_err(|e| format!("vlan-tpid={hex}: {e}"))?
            }
            None => ETHERTYPE_VLAN,
        };
        let vlan = a.take("vlan")?.map(|id| Vlan { tpid, id });
        let packet = packet(kind, &mut a, own)?;
        a.done()?;
        let ether = Ether {
            src,
            dst: dst_mac.unwrap_or_else(|| packet.default_dst_mac()),
            vlan,
        };
        let bytes = frame(&ether, &packet);
        let to = link_address(index, 0, Some(ether.dst));
        // SAFETY: `bytes` and `to` are live locals of the sizes given.
        let sent = unsafe {
            libc::sendto(
                fd.as_raw_fd(),
                bytes.as_ptr().cast(),
                bytes.len(),
                0,
                (&to as *const libc::sockaddr_ll).cast(),
                size_of::<libc::sockaddr_ll>() as libc::socklen_t,
            )
        };
        check(sent as libc::c_int, "sendto")?;
        println!("sent {}", describe(&bytes, None));
        Ok(())
    }

    /// One received frame: its bytes, the packet type the kernel gave it, and the VLAN tag it
    /// took off (Linux strips tags on receipt and reports them as auxiliary data).
    struct Received {
        len: usize,
        pkttype: u8,
        vlan: Option<Vlan>,
    }

    fn receive(fd: &OwnedFd, buf: &mut [u8]) -> Result<Received> {
        // SAFETY: zeroed sockaddr/msghdr are valid; every pointer set below refers to a live
        // local that outlives recvmsg, with its true size.
        unsafe {
            let mut from: libc::sockaddr_ll = zeroed();
            let mut control = [0u64; 16];
            let mut iov = libc::iovec {
                iov_base: buf.as_mut_ptr().cast(),
                iov_len: buf.len(),
            };
            let mut msg: libc::msghdr = zeroed();
            msg.msg_name = (&mut from as *mut libc::sockaddr_ll).cast();
            msg.msg_namelen = size_of::<libc::sockaddr_ll>() as libc::socklen_t;
            msg.msg_iov = &mut iov;
            msg.msg_iovlen = 1;
            msg.msg_control = control.as_mut_ptr().cast();
            msg.msg_controllen = size_of::<[u64; 16]>() as _;
            let len = libc::recvmsg(fd.as_raw_fd(), &mut msg, 0);
            check(len as libc::c_int, "recvmsg")?;
            let mut vlan = None;
            let mut cmsg = libc::CMSG_FIRSTHDR(&msg);
            while !cmsg.is_null() {
                if (*cmsg).cmsg_level == libc::SOL_PACKET
                    && (*cmsg).cmsg_type == libc::PACKET_AUXDATA
                {
                    let aux: libc::tpacket_auxdata =
                        std::ptr::read_unaligned(libc::CMSG_DATA(cmsg).cast());
                    if aux.tp_status & libc::TP_STATUS_VLAN_VALID != 0 {
                        let tpid = if aux.tp_status & libc::TP_STATUS_VLAN_TPID_VALID != 0 {
                            aux.tp_vlan_tpid
                        } else {
                            ETHERTYPE_VLAN
                        };
                        vlan = Some(Vlan {
                            tpid,
                            id: aux.tp_vlan_tci & 0x0fff,
                        });
                    }
                }
                cmsg = libc::CMSG_NXTHDR(&msg, cmsg);
            }
            Ok(Received {
                len: len as usize,
                pkttype: from.sll_pkttype,
                vlan,
            })
        }
    }

    fn listen(dev: &str, words: &[String]) -> Result<bool> {
        let mut a = Args::parse(words)?;
        let window = Duration::from_millis(a.need("ms")?);
        let until: Option<String> = a.take("until")?;
        a.done()?;
        let fd = packet_socket()?;
        let on: libc::c_int = 1;
        // SAFETY: setsockopt with a pointer to a live c_int of the size given.
        let status = unsafe {
            libc::setsockopt(
                fd.as_raw_fd(),
                libc::SOL_PACKET,
                libc::PACKET_AUXDATA,
                (&on as *const libc::c_int).cast(),
                size_of::<libc::c_int>() as libc::socklen_t,
            )
        };
        check(status, "PACKET_AUXDATA")?;
        // Binding with ETH_P_ALL and the link starts the capture: from here on no frame of
        // this link is missed, and no frame of another link is seen.
        let at = link_address(ifindex(dev)?, libc::ETH_P_ALL as u16, None);
        // SAFETY: `at` is a live sockaddr_ll of the size given.
        let status = unsafe {
            libc::bind(
                fd.as_raw_fd(),
                (&at as *const libc::sockaddr_ll).cast(),
                size_of::<libc::sockaddr_ll>() as libc::socklen_t,
            )
        };
        check(status, "bind")?;
        eprintln!("listening on {dev}");
        let deadline = Instant::now() + window;
        let mut buf = vec![0u8; 65536];
        let mut out = io::stdout().lock();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(until.is_none());
            }
            let mut pfd = libc::pollfd {
                fd: fd.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            };
            let ms = left.as_millis().clamp(1, i32::MAX as u128) as libc::c_int;
            // SAFETY: one live pollfd.
            if check(unsafe { libc::poll(&mut pfd, 1, ms) }, "poll")? == 0 {
                continue;
            }
            let got = receive(&fd, &mut buf)?;
            if got.pkttype == libc::PACKET_OUTGOING {
                continue;
            }
            let line = describe(&buf[..got.len], got.vlan);
            let _ = writeln!(out, "{line}");
            let _ = out.flush();
            if until.as_deref().is_some_and(|t| line.contains(t)) {
                return Ok(true);
            }
        }
    }

    pub fn main() {
        let args: Vec<String> = std::env::args().skip(1).collect();
        let result = match args.as_slice() {
            [cmd, dev, kind, rest @ ..] if cmd == "send" => send(dev, kind, rest).map(|()| true),
            [cmd, dev, rest @ ..] if cmd == "listen" => listen(dev, rest),
            _ => Err("usage: ioc-frame send DEV KIND [KEY=VALUE...] | ioc-frame listen DEV ms=N [until=TEXT] (see the source's doc comment)".into()),
        };
        match result {
            Ok(true) => {}
            Ok(false) => std::process::exit(1),
            Err(e) => {
                eprintln!("ioc-frame: {e}");
                std::process::exit(2);
            }
        }
    }
}

fn main() {
    #[cfg(target_os = "linux")]
    linux::main();
    #[cfg(not(target_os = "linux"))]
    {
        eprintln!("ioc-frame uses Linux AF_PACKET sockets");
        std::process::exit(2);
    }
}
