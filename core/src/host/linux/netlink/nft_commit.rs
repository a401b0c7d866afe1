//! Committing an [`NftBatch`]: one nfnetlink transaction, one `send`, normally one `recv`.
//!
//! Unlike libnftables, nothing is read from the kernel first (libnftables 1.0.6 dumps every
//! table before each change, 120-160 ms with 400 jails), so committing a port's table costs the
//! same whatever else the ruleset holds. Only the last change asks for an ACK: the kernel
//! answers every failed change anyway, with the extended-ACK text, and a successful batch then
//! costs one reply instead of one per message (which could also overflow the socket's receive
//! buffer on a large batch). A failure names the command it belongs to.

use ioc_sdk::nft::NftBatch;
use netlink_packet_core::NLM_F_ACK;

use super::nft_batch::encode;
use super::{Nfnetlink, NlError};
use crate::render::nft_text;

impl Nfnetlink {
    /// Applies `batch` atomically: every command, or (on any error) none. The error's context
    /// is the failed command in nft syntax, with the kernel's explanation.
    pub fn commit(&mut self, batch: &NftBatch) -> Result<(), NlError> {
        if batch.commands.is_empty() {
            return Ok(());
        }
        let mut messages = encode(batch)?;
        // The last change (before BATCH_END) carries the ACK that ends the reading.
        let answered = messages.len() - 2;
        messages[answered].flags |= NLM_F_ACK;
        let commands: Vec<Option<usize>> = messages.iter().map(|m| m.command).collect();
        let context = |index: usize| match commands.get(index).copied().flatten() {
            Some(i) => format!(
                "nftables: {} (command {} of {})",
                nft_text::command(&batch.commands[i]),
                i + 1,
                batch.commands.len()
            ),
            None => format!("nftables: batch of {} commands", batch.commands.len()),
        };
        let requests = messages.into_iter().map(|m| {
            let flags = m.flags;
            (m, flags)
        });
        self.socket.transaction(requests, answered, &context)
    }
}
