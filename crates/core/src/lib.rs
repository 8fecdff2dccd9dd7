//! `ttx-core`: the shared vocabulary of TTX as types that parse, not strings.
//!
//! Nothing here does I/O. Money is integer fen, regions are GB/T 2260 codes, organisations are
//! identified by their unified social credit code, and every enumerated notion of the technology
//! market (fields, contract kinds, entity kinds, maturity, transfer modes, IP kinds) is an enum
//! with a stable code and zh / en labels.

pub mod capitals;
pub mod clock;
pub mod credit_code;
pub mod labels;
pub mod money;
pub mod region;
pub mod text;
pub mod validate;
pub mod vocab;

pub use clock::Clock;
pub use credit_code::CreditCode;
pub use labels::Labelled;
pub use money::{Fen, MoneyError};
pub use region::{MacroRegion, RegionCode, RegionLevel};
pub use validate::{FieldError, FieldErrors};
pub use vocab::*;
