//! The seeds' event-sourced bank account as a projection: `AccountOpened` creates the
//! `accounts` row, `MoneyDeposited` adds to the balance, `MoneyWithdrawn` subtracts. A
//! withdrawal beyond the balance changes nothing and emits `WithdrawalRejected` to
//! `account-notices` (the seed throws "Insufficient funds").

use serde::Deserialize;
use serde_json::json;
use weir_sdk::{projection, Ctx, Error, Event, Row};

/// Account ids may be strings or numbers (the seed uses `userId: 1`); both become text.
#[derive(Deserialize)]
#[serde(untagged)]
enum Id {
    Text(String),
    Number(serde_json::Number),
}

impl Id {
    fn text(self) -> String {
        match self {
            Id::Text(s) => s,
            Id::Number(n) => n.to_string(),
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Opened {
    #[serde(alias = "userId")]
    account_id: Id,
    #[serde(default)]
    initial_balance: f64,
    owner: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Movement {
    #[serde(alias = "userId")]
    account_id: Id,
    amount: f64,
}

/// Applies one account event to `accounts`.
#[projection]
pub fn handle(event: &Event, ctx: &mut Ctx) -> Result<(), Error> {
    match event.event_type() {
        "AccountOpened" => {
            let opened: Opened = event.data()?;
            let id = opened.account_id.text();
            if ctx.get("accounts", id.as_str())?.is_some() {
                return Err(Error::new(format!("account {id} is already open")));
            }
            ctx.upsert(
                Row::new("accounts")
                    .set("id", id)
                    .set("owner", opened.owner)
                    .set("balance", opened.initial_balance)
                    .set("transactions", 0)
                    .set("updated_at", event.timestamp_rfc3339()),
            )
        }
        kind @ ("MoneyDeposited" | "MoneyWithdrawn") => {
            let movement: Movement = event.data()?;
            if !(movement.amount.is_finite() && movement.amount > 0.0) {
                return Err(Error::new(format!("amount must be positive, got {}", movement.amount)));
            }
            let id = movement.account_id.text();
            let Some(account) = ctx.get("accounts", id.as_str())? else {
                return Err(Error::new(format!("{kind} for unknown account {id}")));
            };
            let balance = account.f64("balance").unwrap_or(0.0);
            let new_balance = if kind == "MoneyDeposited" {
                balance + movement.amount
            } else if movement.amount > balance {
                return ctx.emit(
                    "account-notices",
                    Some(&id),
                    "WithdrawalRejected",
                    &json!({"accountId": id, "amount": movement.amount, "balance": balance, "reason": "Insufficient funds"}),
                );
            } else {
                balance - movement.amount
            };
            let transactions = account.i64("transactions").unwrap_or(0) + 1;
            ctx.upsert(
                account
                    .set("balance", round_cents(new_balance))
                    .set("transactions", transactions)
                    .set("updated_at", event.timestamp_rfc3339()),
            )
        }
        _ => Ok(()),
    }
}

/// Keeps balances to the cent, so that 0.1 + 0.2 reads as 0.3.
fn round_cents(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

#[cfg(test)]
mod tests {
    use super::handle;
    use serde_json::json;
    use weir_sdk::testing::{TestEvent, TestHost};

    fn host() -> TestHost {
        TestHost::new()
            .table("accounts", &["id", "owner", "balance", "transactions", "updated_at"], &["id"])
            .topic("account-notices")
    }

    #[test]
    fn seed_history_gives_150() {
        let mut host = host();
        let results = host.run(
            handle,
            &[
                TestEvent::new("AccountOpened", json!({"userId": 1, "initialBalance": 100})),
                TestEvent::new("MoneyDeposited", json!({"userId": 1, "amount": 100})),
                TestEvent::new("MoneyWithdrawn", json!({"userId": 1, "amount": 50})),
            ],
        );
        assert!(results.iter().all(Result::is_ok), "{results:?}");
        let row = host.row("accounts", "1").unwrap();
        assert_eq!(row.f64("balance"), Some(150.0));
        assert_eq!(row.i64("transactions"), Some(2));
        assert!(host.emitted().is_empty());
    }

    #[test]
    fn overdraft_changes_nothing_and_emits_rejection() {
        let mut host = host();
        host.run(handle, &[TestEvent::new("AccountOpened", json!({"accountId": "acc-1", "initialBalance": 20}))]);
        let results = host.run(handle, &[TestEvent::new("MoneyWithdrawn", json!({"accountId": "acc-1", "amount": 50}))]);
        assert_eq!(results, vec![Ok(())]);
        assert_eq!(host.row("accounts", "acc-1").unwrap().f64("balance"), Some(20.0));
        let emitted = host.emitted();
        assert_eq!(emitted.len(), 1);
        assert_eq!(emitted[0].topic, "account-notices");
        assert_eq!(emitted[0].event_type, "WithdrawalRejected");
        assert_eq!(emitted[0].key.as_deref(), Some(&b"acc-1"[..]));
        assert_eq!(emitted[0].data["balance"], json!(20.0));
    }

    #[test]
    fn bad_movements_fail_alone() {
        let mut host = host();
        let results = host.run(
            handle,
            &[
                TestEvent::new("MoneyDeposited", json!({"accountId": "ghost", "amount": 5})),
                TestEvent::new("AccountOpened", json!({"accountId": "a", "initialBalance": 1})),
                TestEvent::new("MoneyDeposited", json!({"accountId": "a", "amount": -3})),
                TestEvent::new("AccountOpened", json!({"accountId": "a"})),
                TestEvent::new("MoneyDeposited", json!({"accountId": "a", "amount": 0.1})),
                TestEvent::new("MoneyDeposited", json!({"accountId": "a", "amount": 0.2})),
            ],
        );
        assert!(results[0].as_ref().unwrap_err().message.contains("unknown account ghost"));
        assert!(results[2].as_ref().unwrap_err().message.contains("must be positive"));
        assert!(results[3].as_ref().unwrap_err().message.contains("already open"));
        assert_eq!(host.row("accounts", "a").unwrap().f64("balance"), Some(1.3));
    }
}
