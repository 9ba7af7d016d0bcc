//! racelint: finds mutable state reached both from an event loop and from worker threads.
//!
//! Data flows one way: front-ends (`python`, `rust`) lower each file to the `model`; `analysis`
//! joins the files and computes execution contexts and locksets; `rules` turn analysed
//! facts into findings; `report` renders them. Only `report` and the binary print.

pub mod analysis;
pub mod baseline;
pub mod budget;
pub mod cache;
pub mod check;
pub mod cli;
pub mod config;
pub mod discover;
pub mod fix;
pub mod model;
pub mod python;
pub mod report;
pub mod rules;
pub mod rust;
pub mod server;
pub mod source;
pub mod suppression;
