//! Entities of `demands`, `challenges` and `proposals` (migration `m20261123_000004_demands`).
pub mod challenge;
pub mod demand;
pub mod proposal;
