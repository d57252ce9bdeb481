//! Integration tests of the Sigma engine against the shared corpus (`../shared/corpus`):
//! SigmaHQ's own regression samples, the whole rule set's load rate, pySigma differential
//! results, and small hand-written tables of rule/event/expectation.
//!
//! Corpus-based tests need `../shared`; in CI (`CI=true`) its absence is a failure, on a
//! developer machine a loud skip.

mod corpus;
mod differential;
mod load_rate;
mod regression;
mod semantics;
