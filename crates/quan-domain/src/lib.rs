//! The pure core of quan: values parsed at the edge and the rules over them.
//!
//! Nothing in this crate reads the clock, the random number generator, the
//! network or the disk. Time and ids are passed in so that any run can be
//! replayed from its inputs.

pub mod access;
pub mod admission;
pub mod batch;
pub mod business_day;
pub mod campaign;
pub mod cashout;
pub mod claim_limits;
pub mod clock;
pub mod code;
pub mod collusion;
pub mod complaint;
pub mod district;
pub mod eligibility;
pub mod geo;
pub mod hoarding;
pub mod id_number;
pub mod ids;
pub mod industry;
pub mod invalid;
pub mod keyed_hash;
pub mod ledger;
pub mod lottery;
pub mod merchant;
pub mod money;
pub mod partner;
pub mod partner_auth;
pub mod pause;
pub mod phone;
pub mod postings;
pub mod pow;
pub mod price_guard;
pub mod redemption;
pub mod settlement;
pub mod signals;
pub mod username;
pub mod voucher_kind;
pub mod webhook;

pub use access::{Region, Role};
pub use business_day::{BusinessDay, CutoffHour, UTC8, beijing};
pub use clock::{Clock, FixedClock};
pub use district::DistrictCode;
pub use ids::{BatchId, CampaignId, MerchantId, ResidentId, SessionId, TillId, UserId};
pub use industry::Industry;
pub use invalid::Invalid;
pub use keyed_hash::KeyedHash;
pub use money::Fen;
pub use phone::PhoneNumber;
pub use username::Username;
