//! firewall-nftables plugin
