//! Integration tests: the HTTP API against a real PostgreSQL, a fresh database per test.

mod auth;
mod backup;
mod bench;
mod chaos;
mod counts;
mod errors;
mod export;
mod fuzz;
mod graphs;
mod helpers;
mod hostile_files;
mod hostile_input;
mod import;
mod list_deep;
mod list_jobs;
mod metrics;
mod openapi;
mod plans;
mod producer;
mod request_id;
mod retention;
mod sdk;
mod show_job;
mod shutdown;
mod venv;
mod worker;
