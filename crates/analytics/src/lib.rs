//! Analytics: collect X's metrics within budget and turn them into answers (issue 14).
//!
//! A domain crate on `identity` and `accounts` only (posts are read from PostgreSQL, never
//! through the posts crate): `collect` runs in the scheduler's tick after publishing
//! (`cadence` says when, `xread` reads X's answers, `store` writes snapshots, rollups and
//! latest values in one statement per batch); `api` serves the analytics component (`params`
//! for the shared query parameters, `report`, `lists`, `charts` for the reports, `table` for
//! JSON and CSV from the same rows). Migration `0008_analytics.sql` holds the tables;
//! `0010_analytics_reads.sql` the indexes the reports walk and the report cache (`cache`:
//! answers kept while the workspace's data is unchanged).
//!
//! The engagement rate, everywhere: (likes + reposts + quotes + replies + bookmarks, plus URL
//! and profile clicks where X returned them) ÷ impressions; a period's rate is Σ engagements ÷
//! Σ impressions, never an average of rates.

pub mod api;
pub mod cache;
pub mod cadence;
pub mod charts;
pub mod collect;
pub mod lists;
pub mod params;
pub mod report;
pub mod sql;
pub mod store;
pub mod table;
pub mod xread;
