//! One module per subcommand.

pub(crate) mod alerts;
pub(crate) mod bench;
pub(crate) mod exceptions;
pub(crate) mod rules;
pub(crate) mod scan;
pub(crate) mod serve;
pub(crate) mod store;
pub(crate) mod token;
