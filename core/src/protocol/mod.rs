//! The protocol's vocabulary: codes, commands, typed headers and bodies.

pub mod bodies;
pub mod codes;
pub mod command;
pub mod headers;
mod register_fast;
pub mod register_request;

pub use codes::{flag, request, response, version, LanguageCode, SerializeType};
pub use command::RemotingCommand;
pub use register_request::{BodyShape, RegisterBrokerRequest};
