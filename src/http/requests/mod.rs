//! What requests carry, as serde structs: bodies ([`graphs`], [`transfer`], [`producer`]) and path and
//! query parameters ([`params`]). Each is read once by an extractor
//! ([`super::extract::JsonBody`], `web::Path`, [`super::extract::Query`]), turned into
//! domain types by `TryFrom` (errors name the field), and documents itself: its `ToSchema`
//! or `IntoParams` is derived from the same struct.
//!
//! Policy: lenient where the SDKs are (numbers as numeric strings, booleans as `"true"`,
//! an absent body for `{}`, unknown fields ignored), except the producer API, which refuses
//! unknown fields.

pub mod graphs;
pub mod lenient;
pub mod params;
pub mod producer;
pub mod transfer;
