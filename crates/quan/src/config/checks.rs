//! The ranges of the configuration's numbers: a negative time to live or a
//! zero limit is refused by name at start, never half-applied.

use anyhow::bail;

use super::Config;

/// One number's name, value and allowed range (inclusive).
struct Bound {
    name: &'static str,
    value: i64,
    min: i64,
    max: i64,
}

fn bound(name: &'static str, value: impl Into<i64>, min: i64, max: i64) -> Bound {
    Bound { name, value: value.into(), min, max }
}

const DAY_S: i64 = 86_400;

/// A count as a bound's value (beyond `i64` it is out of every range).
fn wide(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// Refuses the first number outside its range, naming it and the range.
pub fn check_ranges(c: &Config) -> anyhow::Result<()> {
    let a = &c.accounts;
    let bounds = [
        bound("accounts.staff_session_ttl_s", a.staff_session_ttl_s, 60, 30 * DAY_S),
        bound("accounts.resident_session_ttl_s", a.resident_session_ttl_s, 60, 365 * DAY_S),
        bound("accounts.resident_session_cache_s", a.resident_session_cache_s, 0, DAY_S),
        bound("accounts.cashier_session_cache_s", a.cashier_session_cache_s, 0, DAY_S),
        bound("accounts.residents_remembered_max", wide(a.residents_remembered_max), 0, 100_000_000),
        bound("accounts.otp_ttl_s", a.otp_ttl_s, 30, 3_600),
        bound("accounts.otp_attempts_max", a.otp_attempts_max, 1, 20),
        bound("accounts.otp_resend_interval_s", a.otp_resend_interval_s, 0, 3_600),
        bound("accounts.otp_sends_per_hour_max", a.otp_sends_per_hour_max, 1, 100),
        bound("accounts.login_attempts_per_minute_max", a.login_attempts_per_minute_max, 1, 10_000),
        bound(
            "accounts.otp_requests_per_minute_per_client_max",
            a.otp_requests_per_minute_per_client_max,
            1,
            1_000_000,
        ),
        bound("accounts.password_len_min", wide(a.password_len_min), 8, 128),
        bound("database.pool_connections_max", c.database.pool_connections_max, 1, 1_000),
        bound(
            "database.connect_timeout_ms",
            i64::try_from(c.database.connect_timeout_ms).unwrap_or(i64::MAX),
            100,
            600_000,
        ),
        bound("server.body_bytes_max", i64::try_from(c.server.body_bytes_max).unwrap_or(i64::MAX), 1_024, 1 << 30),
        bound("server.request_timeout_s", i64::try_from(c.server.request_timeout_s).unwrap_or(i64::MAX), 1, 3_600),
        bound("eligibility.border_margin_m", c.eligibility.border_margin_m, 0, 10_000),
        bound("eligibility.position_accuracy_m_max", c.eligibility.position_accuracy_m_max, 1, 100_000),
        bound("complaints.first_answer_working_days", c.complaints.first_answer_working_days, 1, 60),
        bound("complaints.close_working_days", c.complaints.close_working_days, 1, 120),
        bound("complaints.per_resident_per_day_max", c.complaints.per_resident_per_day_max, 1, 1_000),
    ];
    for b in bounds {
        if !(b.min..=b.max).contains(&b.value) {
            bail!("{} must be {} to {}, not {}", b.name, b.min, b.max, b.value);
        }
    }
    c.complaints.check().map_err(|e| anyhow::anyhow!("complaints.{}: {}", e.field, e.message))?;
    c.risk.check().map_err(|e| anyhow::anyhow!("{e}"))?;
    c.cashout.check().map_err(|e| anyhow::anyhow!("{e}"))?;
    c.analysis.check().map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(())
}
