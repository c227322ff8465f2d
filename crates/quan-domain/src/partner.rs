//! Partners of the partner API (banks, payment institutions, city apps and
//! mini programs): what a partner is, what it may do (scopes), its mode,
//! whether it is cut off, and the rules on its own order numbers and on a
//! voucher locked for one of its payments.

use crate::invalid::{Invalid, ensure};

macro_rules! names {
    ($(#[$m:meta])* $t:ident { $($(#[$vm:meta])* $v:ident = $s:literal,)+ }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $t { $($(#[$vm])* $v,)+ }

        impl $t {
            pub const ALL: &'static [$t] = &[$($t::$v,)+];

            pub fn as_str(self) -> &'static str {
                match self { $($t::$v => $s,)+ }
            }

            pub fn parse(s: &str) -> Option<$t> {
                $t::ALL.iter().copied().find(|v| v.as_str() == s)
            }
        }

        impl std::fmt::Display for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

names! {
    /// What kind of institution a partner is.
    PartnerKind {
        Bank = "bank",
        Payment = "payment",
        CityApp = "city_app",
        MiniProgram = "mini_program",
    }
}

names! {
    /// Test partners see and make test data only.
    Mode {
        Test = "test",
        Live = "live",
    }
}

names! {
    /// What a partner may call.
    Scope {
        /// Quote, lock, confirm, reverse, refund and look up orders (支付立减).
        Checkout = "checkout",
        /// Claim vouchers for residents bound to it (the partner's app as a channel).
        Claim = "claim",
        /// Read its daily bill.
        Bill = "bill",
    }
}

names! {
    /// Active, or cut off (熔断) by an official.
    PartnerStatus {
        Active = "active",
        Suspended = "suspended",
    }
}

names! {
    /// A key's scheme.
    KeyScheme {
        Sm2 = "sm2",
        Hmac = "hmac",
    }
}

/// Longest partner name.
pub const NAME_MAX: usize = 60;
/// A partner's order numbers (`out_trade_no`): WeChat Pay's 6–32 characters
/// of letters, digits and `_-|*`, widened to 1–32 (a redemption keeps it,
/// behind the partner's tag, as its 64-character order reference).
pub const ORDER_NO_MAX: usize = 32;
/// A channel's transaction id: the same characters, up to 64.
pub const TRANSACTION_ID_MAX: usize = 64;
/// Longest `out_refund_no` (as WeChat Pay's).
pub const REFUND_NO_MAX: usize = 64;
/// How long a lock holds a voucher unless the partner asks otherwise.
pub const LOCK_DEFAULT_S: u32 = 120;
/// The shortest and longest lock a partner may ask for.
pub const LOCK_MIN_S: u32 = 10;
pub const LOCK_MAX_S: u32 = 600;
/// How long a nonce stays single-use.
pub const NONCE_TTL_S: i64 = 600;

/// A partner's name: 1–60 characters, no control characters.
pub fn check_name(name: &str) -> Result<(), Invalid> {
    let n = name.trim().chars().count();
    ensure((1..=NAME_MAX).contains(&n), "name", "name_length", || format!("a name has 1 to {NAME_MAX} characters"))?;
    ensure(!name.chars().any(char::is_control), "name", "control_character", || {
        "a name has no control characters".into()
    })
}

/// Scopes from their names, at least one, none twice.
pub fn parse_scopes(names: &[String]) -> Result<Vec<Scope>, Invalid> {
    let mut out = Vec::new();
    for (i, n) in names.iter().enumerate() {
        let s = Scope::parse(n.trim()).ok_or_else(|| {
            Invalid::new(
                format!("scopes[{i}]"),
                "unknown_scope",
                format!("unknown scope {n:?}: checkout, claim or bill"),
            )
        })?;
        if !out.contains(&s) {
            out.push(s);
        }
    }
    ensure(!out.is_empty(), "scopes", "scopes_empty", || "a partner needs at least one scope".into())?;
    out.sort();
    Ok(out)
}

/// A partner's own order number (`out_trade_no`, `out_refund_no`):
/// 1–`max` of `A–Z a–z 0–9 _ - | *`.
pub fn check_order_no(field: &str, no: &str, max: usize) -> Result<(), Invalid> {
    let ok = (1..=max).contains(&no.len())
        && no.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'|' | b'*'));
    ensure(ok, field, "order_no_format", || format!("{field} has 1 to {max} letters, digits or _-|*"))
}

/// A lock's length in seconds: the default when not asked, else within the bounds.
pub fn lock_seconds(asked: Option<u32>) -> Result<u32, Invalid> {
    let s = asked.unwrap_or(LOCK_DEFAULT_S);
    ensure((LOCK_MIN_S..=LOCK_MAX_S).contains(&s), "lock_seconds", "lock_seconds_range", || {
        format!("a lock lasts {LOCK_MIN_S} to {LOCK_MAX_S} seconds")
    })?;
    Ok(s)
}

/// A key's serial number as a partner writes it: 1–40 of hex digits, letters,
/// digits, `_` or `-` (WeChat's are 40 hex digits).
pub fn check_serial(serial: &str) -> Result<(), Invalid> {
    let ok =
        (1..=40).contains(&serial.len()) && serial.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    ensure(ok, "serial_no", "serial_format", || "a serial number has 1 to 40 letters, digits, _ or -".into())
}

/// Where a partner's order stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderStatus {
    /// The voucher is held for the payment until the lock's end.
    Locked,
    /// The lock ended without a confirm: the voucher is free again.
    Expired,
    /// The payment went through: the voucher is redeemed.
    Confirmed,
    /// Reversed (冲正) before or after its confirm.
    Reversed,
}

impl OrderStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            OrderStatus::Locked => "locked",
            OrderStatus::Expired => "expired",
            OrderStatus::Confirmed => "confirmed",
            OrderStatus::Reversed => "reversed",
        }
    }

    /// The status as of `now_ms` of an order stored as `stored` with a lock until `until_ms`.
    pub fn at(stored: &str, until_ms: i64, now_ms: i64) -> Option<OrderStatus> {
        Some(match stored {
            "locked" if now_ms >= until_ms => OrderStatus::Expired,
            "locked" => OrderStatus::Locked,
            "confirmed" => OrderStatus::Confirmed,
            "reversed" => OrderStatus::Reversed,
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_are_named_deduplicated_and_at_least_one() {
        let s = parse_scopes(&["bill".into(), "checkout".into(), "bill".into()]).unwrap_or_default();
        assert_eq!(s, vec![Scope::Checkout, Scope::Bill]);
        let e = parse_scopes(&["pay".into()]).err().map(|e| (e.field, e.rule));
        assert_eq!(e, Some(("scopes[0]".into(), "unknown_scope")));
        assert_eq!(parse_scopes(&[]).err().map(|e| e.rule), Some("scopes_empty"));
    }

    #[test]
    fn order_numbers_are_wechats_characters_up_to_thirty_two() {
        assert!(check_order_no("out_trade_no", "20261206-0001|a*b_c", ORDER_NO_MAX).is_ok());
        assert!(check_order_no("transaction_id", &"x".repeat(64), TRANSACTION_ID_MAX).is_ok());
        for bad in ["", "has space", "中文", &"x".repeat(33), "a/b"] {
            let e = check_order_no("out_trade_no", bad, ORDER_NO_MAX).err().map(|e| e.rule);
            assert_eq!(e, Some("order_no_format"), "{bad:?}");
        }
    }

    #[test]
    fn a_lock_lasts_two_minutes_unless_asked_within_bounds() {
        assert_eq!(lock_seconds(None).ok(), Some(120));
        assert_eq!(lock_seconds(Some(10)).ok(), Some(10));
        assert!(lock_seconds(Some(9)).is_err());
        assert!(lock_seconds(Some(601)).is_err());
    }

    #[test]
    fn a_lock_past_its_end_reads_as_expired() {
        assert_eq!(OrderStatus::at("locked", 1_000, 999), Some(OrderStatus::Locked));
        assert_eq!(OrderStatus::at("locked", 1_000, 1_000), Some(OrderStatus::Expired));
        assert_eq!(OrderStatus::at("confirmed", 1_000, 5_000), Some(OrderStatus::Confirmed));
        assert_eq!(OrderStatus::at("gone", 1_000, 5_000), None);
    }

    #[test]
    fn names_and_serials_are_checked() {
        assert!(check_name("工商银行宜昌分行").is_ok());
        assert!(check_name(" ").is_err());
        assert!(check_name("a\nb").is_err());
        assert!(check_serial("5157F09EFDC096DE15EBE81A47057A7232F1B8E1").is_ok());
        assert!(check_serial("bad serial").is_err());
    }
}
