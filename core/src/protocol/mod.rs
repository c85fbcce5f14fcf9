//! The protocol's vocabulary: codes, commands, typed headers and bodies.

pub mod bodies;
pub mod codes;
mod compressed;
pub mod headers;
mod register_fast;
pub mod register_request;

pub use crate::codec::command::{flag, LanguageCode, RemotingCommand, SerializeType};
pub use codes::{request, response, version};
pub use register_request::{BodyShape, RegisterBrokerRequest};
