//! [`Request`]: a decoded frame on its way into the machine, a REGISTER_BROKER's body possibly
//! decoded ahead (inflation and JSON parsing are the costly part of a registration and depend
//! only on the request and one limit, so a shell can run them before it takes the machine).

use crate::protocol::bodies::{BodyError, RegisterBrokerBody};
use crate::protocol::headers::RegisterBrokerRequestHeader;
use crate::protocol::{request, RemotingCommand};

/// A request for [`crate::NameServer::step`]. Built by [`crate::ReadView::accept`] (which
/// decodes a registration's body ahead) or by [`Request::new`] (which does not; the machine
/// then decodes it). Both are answered identically.
#[derive(Clone, Debug, PartialEq)]
pub struct Request {
    pub(crate) cmd: RemotingCommand,
    pub(crate) body: Option<PreparedBody>,
}

/// A REGISTER_BROKER body decoded ahead, under the inflation limit in force then. The machine
/// uses it only when that limit is still the one in force, and decodes again otherwise.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct PreparedBody {
    pub(crate) max_inflated: usize,
    pub(crate) decoded: Result<RegisterBrokerBody, BodyError>,
}

impl Request {
    /// A request whose body the machine decodes itself.
    pub fn new(cmd: RemotingCommand) -> Self {
        Self { cmd, body: None }
    }

    /// A request with a REGISTER_BROKER body decoded now under `max_inflated` (the machine's
    /// `registerBrokerMaxInflatedBytes`); any other request is kept as it is.
    pub fn prepare(cmd: RemotingCommand, max_inflated: usize) -> Self {
        let body = PreparedBody::of(&cmd, max_inflated);
        Self { cmd, body }
    }

    /// The command.
    pub fn command(&self) -> &RemotingCommand {
        &self.cmd
    }

    /// Whether the body was decoded ahead.
    pub fn is_prepared(&self) -> bool {
        self.body.is_some()
    }
}

impl From<RemotingCommand> for Request {
    fn from(cmd: RemotingCommand) -> Self {
        Self::new(cmd)
    }
}

impl PreparedBody {
    /// `None` when `cmd` is not a REGISTER_BROKER request whose header decodes.
    fn of(cmd: &RemotingCommand, max_inflated: usize) -> Option<Self> {
        if cmd.code != request::REGISTER_BROKER || cmd.is_response() {
            return None;
        }
        let h = RegisterBrokerRequestHeader::decode(cmd).ok()?;
        Some(Self {
            max_inflated,
            decoded: RegisterBrokerBody::decode(
                cmd.body.as_deref(),
                cmd.version,
                h.compressed,
                max_inflated,
            ),
        })
    }
}
