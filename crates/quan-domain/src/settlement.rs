//! How one merchant's settlement for one campaign splits what is due:
//! first what the merchant owes back (a refund after an earlier payment)
//! is netted, then the rest is paid, or held while the merchant may not be
//! paid; amounts held earlier are released once it may be paid again.

/// What a settlement starts from, in fen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    /// Newly due from the payable account (≥ 0).
    pub due: i128,
    /// Held by earlier settlements (≥ 0).
    pub held: i128,
    /// Owed back by the merchant (≥ 0: minus the recoverable balance).
    pub owed_back: i128,
    /// Whether the merchant may be paid (approved, no hold).
    pub may_pay: bool,
}

/// The transfers a settlement posts, in fen (each ≥ 0).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Plan {
    /// payable → recoverable
    pub recover_from_payable: i128,
    /// held → recoverable
    pub recover_from_held: i128,
    /// held → paid
    pub release: i128,
    /// payable → paid
    pub pay: i128,
    /// payable → held
    pub hold: i128,
}

impl Plan {
    /// What the bank is told to pay.
    pub fn paid(&self) -> i128 {
        self.release + self.pay
    }

    pub fn recovered(&self) -> i128 {
        self.recover_from_payable + self.recover_from_held
    }

    pub fn is_empty(&self) -> bool {
        *self == Plan::default()
    }
}

/// Splits a position: recovery first (from what is due, then, when the
/// merchant may be paid, from what was held), then payment and release, or
/// a hold. Nothing held is touched while the merchant may not be paid.
pub fn plan(p: Position) -> Plan {
    let due = p.due.max(0);
    let held = p.held.max(0);
    let mut owed = p.owed_back.max(0);
    let recover_from_payable = due.min(owed);
    owed -= recover_from_payable;
    let rest = due - recover_from_payable;
    if p.may_pay {
        let recover_from_held = held.min(owed);
        Plan { recover_from_payable, recover_from_held, release: held - recover_from_held, pay: rest, hold: 0 }
    } else {
        Plan { recover_from_payable, recover_from_held: 0, release: 0, pay: 0, hold: rest }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn an_approved_merchant_is_paid_what_is_due_and_what_was_held() {
        let p = plan(Position { due: 500, held: 200, owed_back: 0, may_pay: true });
        assert_eq!(p, Plan { pay: 500, release: 200, ..Plan::default() });
        assert_eq!(p.paid(), 700);
    }

    #[test]
    fn a_suspended_merchant_has_what_is_due_held_and_nothing_released() {
        let p = plan(Position { due: 500, held: 200, owed_back: 0, may_pay: false });
        assert_eq!(p, Plan { hold: 500, ..Plan::default() });
    }

    #[test]
    fn what_a_merchant_owes_back_is_netted_before_anything_is_paid() {
        let p = plan(Position { due: 300, held: 200, owed_back: 400, may_pay: true });
        assert_eq!(p, Plan { recover_from_payable: 300, recover_from_held: 100, release: 100, ..Plan::default() });
        let q = plan(Position { due: 300, held: 200, owed_back: 400, may_pay: false });
        assert_eq!(q, Plan { recover_from_payable: 300, ..Plan::default() });
    }

    proptest! {
        #[test]
        fn a_plan_moves_exactly_what_is_due_and_never_more_than_is_owed_or_held(
            due in 0i128..10_000, held in 0i128..10_000, owed_back in 0i128..10_000, may_pay in any::<bool>()
        ) {
            let p = plan(Position { due, held, owed_back, may_pay });
            prop_assert_eq!(p.recover_from_payable + p.pay + p.hold, due);
            prop_assert!(p.recover_from_held + p.release <= held);
            prop_assert!(p.recovered() <= owed_back);
            prop_assert!([p.recover_from_payable, p.recover_from_held, p.release, p.pay, p.hold].iter().all(|x| *x >= 0));
            if may_pay {
                prop_assert_eq!(p.hold, 0);
                prop_assert_eq!(p.recover_from_held + p.release, held);
                prop_assert_eq!(p.recovered(), owed_back.min(due + held));
            } else {
                prop_assert_eq!(p.paid(), 0);
                prop_assert_eq!(p.recovered(), owed_back.min(due));
            }
        }
    }
}
