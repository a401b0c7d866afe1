//! vnet plugin
