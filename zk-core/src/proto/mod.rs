//! The ZooKeeper wire protocol: jute records, operation codes, error codes and
//! framing. Pure code with no I/O: the session layer feeds it bytes.

pub mod code;
pub mod frame;
pub mod jute;
pub mod opcode;

pub use code::Code;
pub use jute::{Decode, DecodeError, Encode, Reader};
pub use opcode::OpCode;
