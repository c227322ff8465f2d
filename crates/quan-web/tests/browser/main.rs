//! The pages in a real browser: Debian's Chromium driven over WebDriver by
//! its own chromedriver, against the real server (SQLite; the first flow
//! also on PostgreSQL). Without Chromium the tests say so and pass, except
//! under `CI=true`, where a missing browser is a failure.

mod camera;
mod cases;
mod complaints;
mod console;
mod dashboard;
mod districts;
mod drafts;
mod flows;
mod holds;
mod identities;
mod lottery;
mod partners;
mod pauses;
mod report;
mod settlement;
mod shop;
mod support;
