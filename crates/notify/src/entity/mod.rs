//! Entities of the notification tables (created by migration `m20261123_000005_notifications`).
pub mod attempt;
pub mod delivery;
pub mod event;
pub mod notification;
pub mod webhook;
