//! The netfilter queue and log protocols (`nfnetlink_queue`, `nfnetlink_log`): bind a queue
//! or a log group, receive its packets, give each queued packet a verdict.
//!
//! A queue is what the contract asks for: the reply waits until the learner has updated the
//! sets. Kernels built without nftables' `queue` expression (`CONFIG_NFT_QUEUE`) can still
//! `log group N` a copy of the packet, which the learner reads the same way, only without
//! holding the packet back; so the learner listens on both, with one number.
//!
//! A queue number (or log group) belongs to one socket per network namespace: binding one that
//! another listener holds fails with `EBUSY` (`EEXIST` on older kernels), which is how the
//! learner finds a free one. The sockets copy whole packets, and no fail-open flag is set:
//! queued packets the learner cannot take are dropped, never let through unseen.

use std::io;
use std::time::Duration;

use libc::{
    NFNETLINK_V0, NFNL_SUBSYS_QUEUE, NFNL_SUBSYS_ULOG, NFQA_CFG_CMD, NFQA_CFG_PARAMS,
    NFQA_PACKET_HDR, NFQA_PAYLOAD, NFQA_VERDICT_HDR, NFQNL_CFG_CMD_BIND, NFQNL_COPY_PACKET,
    NFQNL_MSG_CONFIG, NFQNL_MSG_PACKET, NFQNL_MSG_VERDICT, NFULA_CFG_CMD, NFULA_CFG_MODE,
    NFULA_CFG_QTHRESH, NFULA_CFG_TIMEOUT, NFULA_PACKET_HDR, NFULA_PAYLOAD, NFULNL_CFG_CMD_BIND,
    NFULNL_COPY_PACKET, NFULNL_MSG_CONFIG, NFULNL_MSG_PACKET, NF_ACCEPT,
};
use netlink_packet_core::{
    DefaultNla, Emitable, NetlinkBuffer, NlasIterator, NLMSG_ERROR, NLM_F_ACK, NLM_F_REQUEST,
};
use netlink_sys::protocols::NETLINK_NETFILTER;
use netlink_sys::Socket;

const NLMSG_HEADER: usize = 16;
const NFGENMSG_LEN: usize = 4;
/// The most of a packet copied to us: DHCP replies and RAs fit with room to spare.
const COPY_RANGE: u32 = 0xffff;
const RECV_BUFFER: usize = 128 * 1024;
/// How long the kernel may take to answer a configuration message.
const CONFIG_WAIT: Duration = Duration::from_secs(5);

/// Which netfilter subsystem a socket listens to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `nfnetlink_queue`: packets wait for our verdict.
    Queue,
    /// `nfnetlink_log`: copies of packets that went on.
    Log,
}

impl Kind {
    fn subsystem(self) -> libc::c_int {
        match self {
            Kind::Queue => NFNL_SUBSYS_QUEUE,
            Kind::Log => NFNL_SUBSYS_ULOG,
        }
    }

    fn message(self, message: libc::c_int) -> u16 {
        ((self.subsystem() << 8) | message) as u16
    }

    fn packet_type(self) -> u16 {
        match self {
            Kind::Queue => self.message(NFQNL_MSG_PACKET),
            Kind::Log => self.message(NFULNL_MSG_PACKET),
        }
    }
}

/// One packet the kernel queued (or logged) to us.
#[derive(Debug, PartialEq, Eq)]
pub struct Queued<'a> {
    pub id: u32,
    /// The netfilter hook it was queued from (netdev: 0 ingress, 1 egress).
    pub hook: u8,
    pub payload: &'a [u8],
}

/// A socket bound to one netfilter queue or log group.
pub struct NfQueue {
    kind: Kind,
    socket: Socket,
    queue: u16,
    seq: u32,
    buffer: Vec<u8>,
}

impl NfQueue {
    /// Binds queue (or log group) `queue` in the current network namespace. One another
    /// socket holds is an error for which [`is_taken`] is true.
    pub fn bind(kind: Kind, queue: u16) -> io::Result<NfQueue> {
        let mut socket = Socket::new(NETLINK_NETFILTER)?;
        socket.bind_auto()?;
        let mut this = NfQueue {
            kind,
            socket,
            queue,
            seq: 0,
            buffer: vec![0; RECV_BUFFER],
        };
        match kind {
            Kind::Queue => {
                let command = [NFQNL_CFG_CMD_BIND as u8, 0, 0, 0];
                this.configure(DefaultNla::new(NFQA_CFG_CMD as u16, command.to_vec()))?;
                let mut params = COPY_RANGE.to_be_bytes().to_vec();
                params.push(NFQNL_COPY_PACKET as u8);
                this.configure(DefaultNla::new(NFQA_CFG_PARAMS as u16, params))?;
            }
            Kind::Log => {
                let command = vec![NFULNL_CFG_CMD_BIND as u8];
                this.configure(DefaultNla::new(NFULA_CFG_CMD as u16, command))?;
                let mut mode = COPY_RANGE.to_be_bytes().to_vec();
                mode.extend_from_slice(&[NFULNL_COPY_PACKET as u8, 0]);
                this.configure(DefaultNla::new(NFULA_CFG_MODE as u16, mode))?;
                // Each packet at once: by default the kernel batches up to 100 for a second.
                let one = 1u32.to_be_bytes().to_vec();
                this.configure(DefaultNla::new(NFULA_CFG_QTHRESH as u16, one))?;
                let now = 0u32.to_be_bytes().to_vec();
                this.configure(DefaultNla::new(NFULA_CFG_TIMEOUT as u16, now))?;
            }
        }
        Ok(this)
    }

    /// The raw descriptor, to wait on several sockets at once.
    pub fn fd(&self) -> std::os::fd::RawFd {
        use std::os::fd::AsRawFd;
        self.socket.as_raw_fd()
    }

    /// The queue number this socket holds.
    pub fn queue(&self) -> u16 {
        self.queue
    }

    fn configure(&mut self, attribute: DefaultNla) -> io::Result<()> {
        let config = match self.kind {
            Kind::Queue => NFQNL_MSG_CONFIG,
            Kind::Log => NFULNL_MSG_CONFIG,
        };
        let message = self.message(config, NLM_F_ACK, &[attribute]);
        self.socket.send(&message, 0)?;
        let seq = self.seq;
        loop {
            if !self.readable(CONFIG_WAIT)? {
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "no answer to a queue configuration",
                ));
            }
            let len = self.recv()?;
            for (kind, msg_seq, payload) in messages(&self.buffer[..len]) {
                if kind == NLMSG_ERROR && msg_seq == seq {
                    let code = payload
                        .first_chunk::<4>()
                        .map(|b| i32::from_ne_bytes(*b))
                        .ok_or_else(|| io::Error::other("short netlink error message"))?;
                    return match code {
                        0 => Ok(()),
                        code => Err(io::Error::from_raw_os_error(code.saturating_neg())),
                    };
                }
            }
        }
    }

    /// Waits up to `timeout` for packets and hands each to `on_packet`, whose answer is not a
    /// verdict: every queued packet is accepted after it (the caller has updated the sets by
    /// then).
    #[cfg(test)]
    pub fn receive(
        &mut self,
        timeout: Duration,
        on_packet: impl FnMut(&Queued<'_>),
    ) -> io::Result<()> {
        if !self.readable(timeout)? {
            return Ok(());
        }
        self.receive_ready(on_packet)
    }

    /// Reads one datagram that is ready (see [`NfQueue::fd`]) and hands its packets to
    /// `on_packet`, as [`NfQueue::receive`].
    pub fn receive_ready(&mut self, mut on_packet: impl FnMut(&Queued<'_>)) -> io::Result<()> {
        let len = match self.recv() {
            // The kernel dropped messages for a full socket buffer: those packets are lost
            // (dropped, the queue fails closed), the rest go on.
            Err(e) if e.raw_os_error() == Some(libc::ENOBUFS) => return Ok(()),
            other => other?,
        };
        let mut ids = Vec::new();
        let wanted = self.kind.packet_type();
        for (kind, _, payload) in messages(&self.buffer[..len]) {
            if kind != wanted {
                continue;
            }
            if let Some(packet) = parse_packet(self.kind, payload) {
                on_packet(&packet);
                ids.push(packet.id);
            }
        }
        if self.kind == Kind::Log {
            return Ok(());
        }
        for id in ids {
            self.accept(id)?;
        }
        Ok(())
    }

    fn accept(&mut self, id: u32) -> io::Result<()> {
        let mut verdict = (NF_ACCEPT as u32).to_be_bytes().to_vec();
        verdict.extend_from_slice(&id.to_be_bytes());
        let attribute = DefaultNla::new(NFQA_VERDICT_HDR as u16, verdict);
        let message = self.message(NFQNL_MSG_VERDICT, 0, &[attribute]);
        self.socket.send(&message, 0).map(drop)
    }

    fn readable(&self, timeout: Duration) -> io::Result<bool> {
        use std::os::fd::AsRawFd;
        let mut poll = libc::pollfd {
            fd: self.socket.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        let ms = libc::c_int::try_from(timeout.as_millis()).unwrap_or(libc::c_int::MAX);
        // SAFETY: `poll` points to one valid pollfd for the duration of the call.
        match unsafe { libc::poll(&mut poll, 1, ms) } {
            -1 => match io::Error::last_os_error() {
                e if e.kind() == io::ErrorKind::Interrupted => Ok(false),
                e => Err(e),
            },
            n => Ok(n > 0),
        }
    }

    fn recv(&mut self) -> io::Result<usize> {
        loop {
            let mut window: &mut [u8] = &mut self.buffer[..];
            match self.socket.recv(&mut window, 0) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                other => return other,
            }
        }
    }

    /// One message of our subsystem for our queue, encoded.
    fn message(&mut self, message: libc::c_int, flags: u16, attributes: &[DefaultNla]) -> Vec<u8> {
        self.seq = self.seq.wrapping_add(1);
        let kind = self.kind.message(message);
        encode_message(kind, flags, self.seq, self.queue, attributes)
    }
}

/// Whether a bind failed because another listener holds the number: the kernel refuses to
/// configure another socket's queue or log group with `EPERM` (the learner runs with the
/// privilege to bind a free one), and answers `EBUSY` (`EEXIST` before Linux 3.8) to a second
/// bind of a queue.
pub fn is_taken(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::EPERM) | Some(libc::EBUSY) | Some(libc::EEXIST)
    )
}

fn encode_message(
    kind: u16,
    flags: u16,
    seq: u32,
    queue: u16,
    attributes: &[DefaultNla],
) -> Vec<u8> {
    let len = NLMSG_HEADER + NFGENMSG_LEN + attributes.buffer_len();
    let mut m = Vec::with_capacity(len);
    m.extend_from_slice(&(len as u32).to_ne_bytes());
    m.extend_from_slice(&kind.to_ne_bytes());
    m.extend_from_slice(&(NLM_F_REQUEST | flags).to_ne_bytes());
    m.extend_from_slice(&seq.to_ne_bytes());
    m.extend_from_slice(&0u32.to_ne_bytes());
    let [high, low] = queue.to_be_bytes();
    m.extend_from_slice(&[libc::AF_UNSPEC as u8, NFNETLINK_V0 as u8, high, low]);
    let start = m.len();
    m.resize(len, 0);
    attributes.emit(&mut m[start..]);
    m
}

/// The netlink messages of a datagram: type, sequence number, payload. Stops at the first
/// malformed one.
fn messages(mut data: &[u8]) -> Vec<(u16, u32, &[u8])> {
    let mut out = Vec::new();
    while let Ok(packet) = NetlinkBuffer::new_checked(data) {
        let total = packet.length() as usize;
        let (kind, seq) = (packet.message_type(), packet.sequence_number());
        out.push((kind, seq, &data[NLMSG_HEADER..total]));
        data = data.get((total + 3) & !3..).unwrap_or_default();
    }
    out
}

/// A packet message's id (0 for logged ones), hook and payload; `None` when the header or
/// payload is missing.
pub fn parse_packet(kind: Kind, message: &[u8]) -> Option<Queued<'_>> {
    let (header, payload_attribute) = match kind {
        Kind::Queue => (NFQA_PACKET_HDR, NFQA_PAYLOAD),
        Kind::Log => (NFULA_PACKET_HDR, NFULA_PAYLOAD),
    };
    let kind_is_queue = kind == Kind::Queue;
    let (mut id, mut hook, mut payload) = (None, 0, None);
    for nla in NlasIterator::new(message.get(NFGENMSG_LEN..)?) {
        let nla = nla.ok()?;
        let (kind, len) = (nla.kind(), usize::from(nla.length()));
        let value = nla.into_inner().get(4..len)?;
        match i32::from(kind & 0x3fff) {
            // nfqnl_msg_packet_hdr: id, hw_protocol, hook; nfulnl_msg_packet_hdr: hw_protocol,
            // hook.
            k if k == header && kind_is_queue => {
                id = Some(u32::from_be_bytes(value.get(..4)?.try_into().ok()?));
                hook = *value.get(6)?;
            }
            k if k == header => {
                id = Some(0);
                hook = *value.get(2)?;
            }
            k if k == payload_attribute => payload = Some(value),
            _ => {}
        }
    }
    Some(Queued {
        id: id?,
        hook,
        payload: payload?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_verdict_message_is_laid_out_as_the_kernel_reads_it() {
        let mut verdict = 1u32.to_be_bytes().to_vec();
        verdict.extend_from_slice(&7u32.to_be_bytes());
        let attribute = DefaultNla::new(NFQA_VERDICT_HDR as u16, verdict);
        let m = encode_message(
            Kind::Queue.message(NFQNL_MSG_VERDICT),
            0,
            3,
            0x1234,
            &[attribute],
        );
        assert_eq!(m.len(), 16 + 4 + 12);
        assert_eq!(u16::from_ne_bytes([m[4], m[5]]), (3 << 8) | 1);
        assert_eq!(&m[16..20], &[0, 0, 0x12, 0x34]);
        assert_eq!(&m[20..24], &[12, 0, 2, 0]);
        assert_eq!(&m[24..32], &[0, 0, 0, 1, 0, 0, 0, 7]);
    }

    #[test]
    fn a_packet_message_gives_id_hook_and_payload() {
        let header = DefaultNla::new(NFQA_PACKET_HDR as u16, vec![0, 0, 1, 2, 0x08, 0, 1]);
        let payload = DefaultNla::new(NFQA_PAYLOAD as u16, vec![0x45, 1, 2]);
        let m = encode_message(Kind::Queue.packet_type(), 0, 0, 9, &[header, payload]);
        let (kind, _, body) = messages(&m)[0];
        assert_eq!(kind, Kind::Queue.packet_type());
        assert_eq!(
            parse_packet(Kind::Queue, body),
            Some(Queued {
                id: 258,
                hook: 1,
                payload: &[0x45, 1, 2]
            })
        );
        for len in 0..body.len() {
            let _ = parse_packet(Kind::Queue, &body[..len]);
            let _ = parse_packet(Kind::Log, &body[..len]);
        }
        let header = DefaultNla::new(NFULA_PACKET_HDR as u16, vec![0x08, 0, 1, 0]);
        let payload = DefaultNla::new(NFULA_PAYLOAD as u16, vec![0x45]);
        let m = encode_message(Kind::Log.packet_type(), 0, 0, 9, &[header, payload]);
        assert_eq!(Kind::Log.packet_type(), (4 << 8) as u16);
        assert_eq!(
            parse_packet(Kind::Log, &m[16..]),
            Some(Queued {
                id: 0,
                hook: 1,
                payload: &[0x45]
            })
        );
        assert!(messages(&m[..10]).is_empty());
    }
}
