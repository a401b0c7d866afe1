//! secure-vnet plugin
