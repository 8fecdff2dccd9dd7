//! Black-box tests through the HTTP API. Each test starts its own app with its own database.
mod accounts;
mod contracts;
mod contracts_import_history;
mod dashboard;
mod demands;
mod http_details;
mod input_hygiene;
mod listings;
mod matches;
mod match_events;
mod match_subscriptions;
mod matching;
mod notifications;
mod platform;
mod stats;
mod stats_techme;
mod usability;
