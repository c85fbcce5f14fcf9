//! [`Request`]: a decoded frame on its way into the machine, a REGISTER_BROKER's body possibly
//! decoded ahead (inflation and JSON parsing are the costly part of a registration and depend
//! only on the request and one limit, so a shell can run them before it takes the machine).

use crate::protocol::bodies::{BodyError, RegisterBrokerBody};
use crate::protocol::headers::RegisterBrokerRequestHeader;
use crate::protocol::{request, RemotingCommand};
use crate::route::BodyPrint;

/// A request for [`crate::NameServer::step`]. Built by [`crate::ReadView::accept`] (which
/// decodes a registration's body ahead unless it is the one last applied), by
/// [`Request::prepare`] (which decodes it), by [`Request::fingerprinted`] (which only takes
/// its print, for the shell to ask [`crate::NameServer::wants_body`]) or by [`Request::new`]
/// (which does nothing ahead; the machine then does what is needed). All are answered
/// identically.
#[derive(Clone, Debug, PartialEq)]
pub struct Request {
    pub(crate) cmd: RemotingCommand,
    // Boxed: a decoded body is large, and inputs are moved around by value.
    pub(crate) body: Option<Box<PreparedBody>>,
}

/// What was done ahead with a REGISTER_BROKER body: its print, and perhaps its decoding, both
/// under the inflation limit in force then (in the print). The machine uses them only when
/// that limit is still the one in force, and works them out again otherwise.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct PreparedBody {
    pub(crate) print: BodyPrint,
    /// `None`: not decoded (the body looked unchanged); the machine decodes it if it must.
    pub(crate) decoded: Option<Result<RegisterBrokerBody, BodyError>>,
}

impl Request {
    /// A request whose body the machine decodes itself.
    pub fn new(cmd: RemotingCommand) -> Self {
        Self { cmd, body: None }
    }

    /// A request with a REGISTER_BROKER body decoded now under `max_inflated` (the machine's
    /// `registerBrokerMaxInflatedBytes`); any other request is kept as it is.
    pub fn prepare(cmd: RemotingCommand, max_inflated: usize) -> Self {
        let mut r = Self::fingerprinted(cmd, max_inflated);
        r.decode_body();
        r
    }

    /// A request with a REGISTER_BROKER body's print taken now (cheap: one hash over the
    /// bytes), not yet decoded; any other request is kept as it is. Ask
    /// [`crate::NameServer::wants_body`] (or the view's) whether to [`Self::decode_body`].
    pub fn fingerprinted(cmd: RemotingCommand, max_inflated: usize) -> Self {
        let body = PreparedBody::print_of(&cmd, max_inflated);
        Self { cmd, body }
    }

    /// Decodes a fingerprinted REGISTER_BROKER body now, if it is not decoded yet.
    pub fn decode_body(&mut self) {
        // The print holds what the header said (no second decode of it).
        if let Some(p) = self.body.as_mut().filter(|p| p.decoded.is_none()) {
            p.decoded = Some(RegisterBrokerBody::decode(
                self.cmd.body.as_deref(),
                self.cmd.version,
                p.print.compressed(),
                p.print.max_inflated(),
            ));
        }
    }

    /// The command.
    pub fn command(&self) -> &RemotingCommand {
        &self.cmd
    }

    /// Whether it carries a body print (a REGISTER_BROKER whose header decodes).
    pub fn is_fingerprinted(&self) -> bool {
        self.body.is_some()
    }

    /// Whether the body was decoded ahead.
    pub fn is_prepared(&self) -> bool {
        self.body.as_ref().is_some_and(|p| p.decoded.is_some())
    }

    /// The REGISTER_BROKER header and body print, when fingerprinted.
    pub(crate) fn registration(&self) -> Option<(RegisterBrokerRequestHeader, BodyPrint)> {
        let p = self.body.as_ref()?;
        let h = RegisterBrokerRequestHeader::decode(&self.cmd).ok()?;
        Some((h, p.print))
    }
}

impl From<RemotingCommand> for Request {
    fn from(cmd: RemotingCommand) -> Self {
        Self::new(cmd)
    }
}

impl PreparedBody {
    /// `None` when `cmd` is not a REGISTER_BROKER request whose header decodes.
    fn print_of(cmd: &RemotingCommand, max_inflated: usize) -> Option<Box<Self>> {
        if cmd.code != request::REGISTER_BROKER || cmd.is_response() {
            return None;
        }
        let h = RegisterBrokerRequestHeader::decode(cmd).ok()?;
        Some(Box::new(Self {
            print: BodyPrint::of(cmd.body.as_deref(), cmd.version, h.compressed, max_inflated),
            decoded: None,
        }))
    }
}
