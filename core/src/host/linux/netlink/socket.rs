//! The netlink transport: one socket of any netlink protocol, requests out, replies in.
//!
//! An [`NlSocket`] is bound to the network namespace it was opened in, keeps its own sequence
//! numbers and one receive buffer reused by every request. Requests are any typed message that
//! `netlink-packet-core` can serialize (rtnetlink's from `netlink-packet-route`, ioc's own
//! nf_tables gets); replies are read until the answer to our own sequence number (the ACK, the
//! end of a dump, or the one reply of a get), so a stale message from an earlier, failed
//! request is skipped instead of being taken as this one's. Errors carry the kernel's errno and,
//! with extended ACKs, its explanation.

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd};

use netlink_packet_core::{
    parse_string, NetlinkBuffer, NetlinkHeader, NetlinkMessage, NetlinkPayload,
    NetlinkSerializable, NlasIterator, NLMSG_DONE, NLMSG_ERROR, NLMSG_NOOP, NLMSG_OVERRUN,
    NLM_F_ACK, NLM_F_ACK_TLVS, NLM_F_CAPPED, NLM_F_DUMP, NLM_F_DUMP_INTR, NLM_F_REQUEST,
};
use netlink_sys::Socket;

use super::super::netns;
use super::NlError;

/// `NLMSGERR_ATTR_MSG`, the kernel's message in an extended ACK (`linux/netlink.h`; neither
/// `libc` nor the netlink crates export it).
const NLMSGERR_ATTR_MSG: u16 = 1;

/// A kernel dump packs its messages into datagrams of at most 32 KiB (less if our buffer is
/// smaller), so this never truncates a dump; single replies are far smaller.
const RECV_BUFFER: usize = 32 * 1024;
/// A send buffer every kernel default exceeds (`wmem_default` is 208 KiB): datagrams up to
/// this size minus the margin go without raising it.
const DEFAULT_SNDBUF: usize = 128 * 1024;
/// A dump the kernel flags as inconsistent (the table changed meanwhile) is read again.
const DUMP_ATTEMPTS: usize = 4;

/// Takes each reply (message type, payload) to the last message of a request.
pub(super) type OnReply<'a> = dyn FnMut(u16, &[u8]) -> Result<(), NlError> + 'a;

/// What ends the replies to a request.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Until {
    /// The ACK: changes, sent with `NLM_F_ACK`.
    Ack,
    /// `NLMSG_DONE`: dumps.
    Done,
    /// The first reply: a get of one object, sent without `NLM_F_ACK` to save a `recv`.
    Reply,
}

/// One netlink socket of one protocol (`NETLINK_ROUTE`, `NETLINK_NETFILTER`...) in one network
/// namespace.
pub struct NlSocket {
    pub(super) socket: Socket,
    seq: u32,
    /// Encoded request, reused.
    send_buf: Vec<u8>,
    /// Received datagram, reused.
    recv_buf: Vec<u8>,
    /// The send buffer this socket was given (0: the kernel's default, not raised).
    sndbuf: usize,
}

impl NlSocket {
    /// Opens a socket of `protocol` (`netlink_sys::protocols::*`) in the calling thread's
    /// current network namespace.
    pub fn open(protocol: isize) -> Result<NlSocket, NlError> {
        let mut socket = Socket::new(protocol)?;
        socket.bind_auto()?;
        // Conveniences, not requirements: an older kernel without them still works (errors
        // lose the kernel's explanation, ACKs carry a copy of the request, dumps are filtered
        // here rather than in the kernel).
        let _ = socket.set_ext_ack(true);
        let _ = socket.set_cap_ack(true);
        let _ = socket.set_netlink_get_strict_chk(true);
        Ok(NlSocket {
            socket,
            seq: 0,
            send_buf: Vec::with_capacity(256),
            recv_buf: vec![0; RECV_BUFFER],
            sndbuf: DEFAULT_SNDBUF,
        })
    }

    /// Opens a socket of `protocol` in the network namespace `ns` (a jail's, say). A netlink
    /// socket stays in the namespace it was created in, so the calling thread enters `ns` only
    /// to create it and always returns to its own namespace, also when opening fails.
    pub fn open_in(ns: BorrowedFd<'_>, protocol: isize) -> Result<NlSocket, NlError> {
        netns::with_netns(ns, || NlSocket::open(protocol))?
    }

    /// Sends a change and waits for its ACK.
    pub(super) fn ack<M: NetlinkSerializable>(
        &mut self,
        msg: M,
        flags: u16,
        context: &dyn Fn() -> String,
    ) -> Result<(), NlError> {
        self.exchange(
            [(msg, NLM_F_ACK | flags)],
            Until::Ack,
            context,
            &mut |_, _| Ok(()),
        )
        .map(drop)
    }

    /// Dumps a table: `parse` turns each reply (message type, payload) into an item or skips
    /// it. A dump the kernel marks as interrupted by a concurrent change is read again.
    pub(super) fn dump<M: NetlinkSerializable + Clone, T>(
        &mut self,
        msg: M,
        context: &dyn Fn() -> String,
        mut parse: impl FnMut(u16, &[u8]) -> Result<Option<T>, NlError>,
    ) -> Result<Vec<T>, NlError> {
        for _ in 0..DUMP_ATTEMPTS {
            let mut items = Vec::new();
            let request = (msg.clone(), NLM_F_DUMP);
            let interrupted =
                self.exchange([request], Until::Done, context, &mut |kind, payload| {
                    items.extend(parse(kind, payload)?);
                    Ok(())
                })?;
            if !interrupted {
                return Ok(items);
            }
        }
        Err(NlError::protocol(
            context,
            "dump kept changing while it was read",
        ))
    }

    /// Sends requests in one datagram and reads until the end of the last one (see [`Until`]),
    /// handing the other replies to the last request to `on_reply`. Returns whether a dump was
    /// interrupted. The requests before the last are sent without `NLM_F_ACK`: the kernel
    /// answers them only when they fail, and the first such failure is the result.
    ///
    /// A reply `on_reply` rejects does not stop the reading: the rest of the answer is drained,
    /// so that the socket is clean for the next request (the kernel refuses a new dump while
    /// one is unread), and the first rejection is returned. Replies with other sequence
    /// numbers, left over from an earlier request that failed half-way, are skipped.
    pub(super) fn exchange<M: NetlinkSerializable>(
        &mut self,
        requests: impl IntoIterator<Item = (M, u16)>,
        until: Until,
        context: &dyn Fn() -> String,
        on_reply: &mut OnReply<'_>,
    ) -> Result<bool, NlError> {
        let (first, last) = self.send(requests)?;
        self.replies(first, last, until, false, context, on_reply)
    }

    /// Sends `messages` as one nfnetlink batch, framed by `begin` and `end`, each message with
    /// `NLM_F_ACK`, and waits for the answer to the last message: the kernel applies all of them
    /// or none. The frame itself is not answered (kernels before 6.10 ignore its ACK flag),
    /// except with the error that refuses the whole batch (no permission, say).
    pub(super) fn batch<M: NetlinkSerializable>(
        &mut self,
        begin: M,
        messages: impl IntoIterator<Item = M>,
        end: M,
        context: &dyn Fn() -> String,
    ) -> Result<(), NlError> {
        let requests = std::iter::once((begin, 0))
            .chain(messages.into_iter().map(|m| (m, NLM_F_ACK)))
            .chain(std::iter::once((end, 0)));
        let (first, last) = self.send(requests)?;
        let last_message = last.wrapping_sub(1);
        if last_message == first {
            return Ok(());
        }
        self.replies(
            first,
            last_message,
            Until::Ack,
            true,
            context,
            &mut |_, _| Ok(()),
        )
        .map(drop)
    }

    /// Reads the replies to requests `first..=last` until the end of `last` (see
    /// [`NlSocket::exchange`]). With `batch`, an error for `first` (the batch's opening frame)
    /// ends them too: the kernel then answers nothing else.
    fn replies(
        &mut self,
        first: u32,
        last: u32,
        until: Until,
        batch: bool,
        context: &dyn Fn() -> String,
        on_reply: &mut OnReply<'_>,
    ) -> Result<bool, NlError> {
        let mut first_error = None;
        let mut interrupted = false;
        loop {
            let len = self.recv(context)?;
            let mut rest = &self.recv_buf[..len];
            while !rest.is_empty() {
                let packet =
                    NetlinkBuffer::new_checked(rest).map_err(|e| NlError::protocol(context, e))?;
                let (kind, flags, seq) = (
                    packet.message_type(),
                    packet.flags(),
                    packet.sequence_number(),
                );
                let payload = packet.payload();
                rest = &rest[align(packet.length() as usize).min(rest.len())..];
                if seq.wrapping_sub(first) > last.wrapping_sub(first) || kind == NLMSG_NOOP {
                    continue;
                }
                interrupted |= flags & NLM_F_DUMP_INTR != 0;
                let finished = match kind {
                    NLMSG_ERROR | NLMSG_DONE => {
                        let code = error_code(payload, kind, context)?;
                        if code != 0 {
                            first_error
                                .get_or_insert(kernel_error(code, payload, kind, flags, context));
                        }
                        seq == last || (batch && code != 0 && seq == first)
                    }
                    NLMSG_OVERRUN => {
                        return Err(NlError::protocol(context, "kernel reports overrun"))
                    }
                    _ if seq != last => false,
                    _ => {
                        if let Err(e) = on_reply(kind, payload) {
                            first_error.get_or_insert(e);
                        }
                        until == Until::Reply
                    }
                };
                if finished {
                    return first_error.map_or(Ok(interrupted), Err);
                }
            }
        }
    }

    /// Sends a transaction (nfnetlink batch) in one datagram and reads until the answer to
    /// request `answered` (the one sent with `NLM_F_ACK`). The kernel answers any other request
    /// only when it fails; the first failure is the result, its context `context(index)` for
    /// the failed request. A failure of a request before `answered` that ends the transaction
    /// early (a refused batch begin) ends the reading too.
    pub(super) fn transaction<M: NetlinkSerializable>(
        &mut self,
        requests: impl IntoIterator<Item = (M, u16)>,
        answered: usize,
        context: &dyn Fn(usize) -> String,
    ) -> Result<(), NlError> {
        let (first, last) = self.send(requests)?;
        let target = first.wrapping_add(answered as u32);
        let whole = || context(usize::MAX);
        let mut first_error = None;
        loop {
            let len = self.recv(&whole)?;
            let mut rest = &self.recv_buf[..len];
            while !rest.is_empty() {
                let packet =
                    NetlinkBuffer::new_checked(rest).map_err(|e| NlError::protocol(&whole, e))?;
                let (kind, flags, seq) = (
                    packet.message_type(),
                    packet.flags(),
                    packet.sequence_number(),
                );
                let payload = packet.payload();
                rest = &rest[align(packet.length() as usize).min(rest.len())..];
                let index = seq.wrapping_sub(first) as usize;
                if seq.wrapping_sub(first) > last.wrapping_sub(first) || kind != NLMSG_ERROR {
                    continue;
                }
                let code = error_code(payload, kind, &whole)?;
                let failed = code != 0;
                if failed {
                    let here = || context(index);
                    first_error.get_or_insert(kernel_error(code, payload, kind, flags, &here));
                }
                if seq == target || (failed && index == 0) {
                    return first_error.map_or(Ok(()), Err);
                }
            }
        }
    }

    /// Encodes requests with consecutive sequence numbers into one datagram, sends it, and
    /// returns the sequence numbers of the first and the last.
    fn send<M: NetlinkSerializable>(
        &mut self,
        requests: impl IntoIterator<Item = (M, u16)>,
    ) -> Result<(u32, u32), NlError> {
        self.send_buf.clear();
        let first = self.seq.wrapping_add(1);
        for (msg, flags) in requests {
            self.seq = self.seq.wrapping_add(1);
            let mut header = NetlinkHeader::default();
            header.flags = NLM_F_REQUEST | flags;
            header.sequence_number = self.seq;
            let mut packet = NetlinkMessage::new(header, NetlinkPayload::InnerMessage(msg));
            packet.finalize();
            let start = self.send_buf.len();
            self.send_buf.resize(start + align(packet.buffer_len()), 0);
            packet.serialize(&mut self.send_buf[start..]);
        }
        self.make_room(self.send_buf.len())?;
        let sent = retry_interrupted(|| self.socket.send(&self.send_buf, 0))?;
        if sent != self.send_buf.len() {
            return Err(NlError::Protocol(format!(
                "short send: {sent} of {} bytes",
                self.send_buf.len()
            )));
        }
        Ok((first, self.seq))
    }

    /// Makes the socket's send buffer hold a datagram of `len` bytes. A netlink datagram must
    /// fit the send buffer whole (`EMSGSIZE` otherwise), and the default (`wmem_default`,
    /// about 208 KiB) is too small for a transaction with tens of thousands of elements (a
    /// forwarded range of many ports); `SO_SNDBUFFORCE` passes `wmem_max`, which ioc, as root,
    /// may. Only ever raised, and only for such a datagram: most never reach it.
    fn make_room(&mut self, len: usize) -> Result<(), NlError> {
        const OVERHEAD: usize = 64 * 1024;
        if len + OVERHEAD <= self.sndbuf {
            return Ok(());
        }
        let wanted = len + OVERHEAD;
        let value = libc::c_int::try_from(wanted).map_err(|_| {
            NlError::Protocol(format!("a netlink datagram of {len} bytes is too large"))
        })?;
        // SAFETY: setsockopt on a descriptor this socket owns, with a pointer to a c_int that
        // lives across the call and its exact size.
        let rc = unsafe {
            libc::setsockopt(
                self.socket.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_SNDBUFFORCE,
                (&value as *const libc::c_int).cast(),
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            )
        };
        if rc != 0 {
            return Err(NlError::from(io::Error::last_os_error()));
        }
        self.sndbuf = wanted;
        Ok(())
    }

    /// Receives one datagram into the reusable buffer and returns its length. A datagram larger
    /// than the buffer is lost; the buffer grows so that the caller can retry.
    fn recv(&mut self, context: &dyn Fn() -> String) -> Result<usize, NlError> {
        let capacity = self.recv_buf.len();
        let len = retry_interrupted(|| {
            let mut window: &mut [u8] = &mut self.recv_buf[..];
            self.socket.recv(&mut window, libc::MSG_TRUNC)
        })?;
        if len > capacity {
            self.recv_buf.resize(len, 0);
            return Err(NlError::protocol(
                context,
                format!("reply of {len} bytes truncated"),
            ));
        }
        Ok(len)
    }
}

/// One request (`NLM_F_REQUEST | flags`, sequence number 1) encoded as a datagram, for a
/// caller that sends it itself: a detached process that must not allocate after `fork`.
pub(super) fn encode<M: NetlinkSerializable>(msg: M, flags: u16) -> Vec<u8> {
    let mut header = NetlinkHeader::default();
    header.flags = NLM_F_REQUEST | flags;
    header.sequence_number = 1;
    let mut packet = NetlinkMessage::new(header, NetlinkPayload::InnerMessage(msg));
    packet.finalize();
    let mut buf = vec![0; align(packet.buffer_len())];
    packet.serialize(&mut buf);
    buf
}

/// Retries a socket call interrupted by a signal.
fn retry_interrupted<T>(mut call: impl FnMut() -> io::Result<T>) -> io::Result<T> {
    loop {
        match call() {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            result => return result,
        }
    }
}

/// Netlink messages are padded to four bytes.
pub(super) fn align(len: usize) -> usize {
    (len + 3) & !3
}

/// The error code at the start of an `NLMSG_ERROR` (0 is the ACK) or `NLMSG_DONE` payload (the
/// kernel may send a `NLMSG_DONE` without one).
pub(super) fn error_code(
    payload: &[u8],
    kind: u16,
    context: &dyn Fn() -> String,
) -> Result<i32, NlError> {
    match payload.first_chunk::<4>() {
        Some(bytes) => Ok(i32::from_ne_bytes(*bytes)),
        None if kind == NLMSG_DONE => Ok(0),
        None => Err(NlError::protocol(context, "short error message")),
    }
}

/// Turns a negative errno from the kernel into [`NlError::Kernel`], with the kernel's message
/// from the extended ACK appended to the context when there is one.
fn kernel_error(
    code: i32,
    payload: &[u8],
    kind: u16,
    flags: u16,
    context: &dyn Fn() -> String,
) -> NlError {
    let mut context = context();
    if let Some(message) = extack_message(payload, kind, flags) {
        context = format!("{context} ({message})");
    }
    NlError::Kernel {
        errno: code.saturating_neg(),
        context,
    }
}

/// The `NLMSGERR_ATTR_MSG` of an extended ACK: after the error code come the header of our
/// request (only the header, with `NETLINK_CAP_ACK`; in `NLMSG_DONE`, nothing), then attributes.
pub(super) fn extack_message(payload: &[u8], kind: u16, flags: u16) -> Option<String> {
    if flags & NLM_F_ACK_TLVS == 0 {
        return None;
    }
    let request_len = match kind {
        NLMSG_ERROR if flags & NLM_F_CAPPED != 0 => 16,
        NLMSG_ERROR => u32::from_ne_bytes(payload.get(4..8)?.try_into().ok()?) as usize,
        _ => 0,
    };
    let attributes = payload.get(4 + align(request_len)..)?;
    NlasIterator::new(attributes)
        .map_while(Result::ok)
        .find(|nla| nla.kind() == NLMSGERR_ATTR_MSG)
        .and_then(|nla| parse_string(nla.value()).ok())
        .filter(|message| !message.is_empty())
}
