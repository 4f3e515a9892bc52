/*
 * The seeds' event-sourced bank account as a projection, in C (the twin of
 * plugins/bank-account): `AccountOpened` creates the `accounts` row, `MoneyDeposited` adds
 * to the balance, `MoneyWithdrawn` subtracts. A withdrawal beyond the balance changes
 * nothing and emits `WithdrawalRejected` to `account-notices` (the seed throws
 * "Insufficient funds").
 */
#include <math.h>
#include <stdlib.h>

#include "weir.h"

/* `data` of AccountOpened. */
typedef struct {
    char *account_id;       /* `accountId` or `userId`: a string, or a number as its text */
    double initial_balance; /* default 0 */
    char *owner;            /* NULL when absent or null */
} opened;

/* `data` of MoneyDeposited and MoneyWithdrawn. */
typedef struct {
    char *account_id;
    double amount;
} movement;

static weir_error *decode_opened(weir_json data, opened *o) {
    WEIR_TRY(weir_json_expect_object(data, "struct Opened"));
    WEIR_TRY(weir_json_field_id(data, "accountId", "userId", &o->account_id));
    WEIR_TRY(weir_json_field_f64_or(data, "initialBalance", 0.0, &o->initial_balance));
    return weir_json_field_opt_string(data, "owner", &o->owner);
}

static weir_error *decode_movement(weir_json data, movement *m) {
    WEIR_TRY(weir_json_expect_object(data, "struct Movement"));
    WEIR_TRY(weir_json_field_id(data, "accountId", "userId", &m->account_id));
    return weir_json_field_f64(data, "amount", &m->amount);
}

/* Keeps balances to the cent, so that 0.1 + 0.2 reads as 0.3. */
static double round_cents(double x) { return round(x * 100.0) / 100.0; }

static weir_error *account_opened(const weir_event *event, weir_ctx *ctx, const opened *o) {
    weir_row *existing;
    WEIR_TRY(weir_get_text(ctx, "accounts", o->account_id, &existing));
    if (existing) {
        weir_row_free(existing);
        return weir_error_new("account %s is already open", o->account_id);
    }
    char now[WEIR_RFC3339_LEN];
    weir_row *row = weir_row_new("accounts");
    weir_row_set_text(row, "id", o->account_id);
    weir_row_set_text(row, "owner", o->owner); /* NULL sets NULL */
    weir_row_set_f64(row, "balance", o->initial_balance);
    weir_row_set_i64(row, "transactions", 0);
    weir_row_set_text(row, "updated_at", weir_event_timestamp_rfc3339(event, now));
    weir_error *err = weir_upsert(ctx, row);
    weir_row_free(row);
    return err;
}

static weir_error *reject(weir_ctx *ctx, const movement *m, double balance) {
    weir_json_writer w;
    weir_jw_init(&w);
    weir_jw_object_begin(&w);
    weir_jw_key(&w, "accountId");
    weir_jw_string(&w, m->account_id);
    weir_jw_key(&w, "amount");
    weir_jw_f64(&w, m->amount);
    weir_jw_key(&w, "balance");
    weir_jw_f64(&w, balance);
    weir_jw_key(&w, "reason");
    weir_jw_string(&w, "Insufficient funds");
    weir_jw_object_end(&w);
    weir_error *err = weir_emit(ctx, "account-notices", m->account_id, "WithdrawalRejected", w.buf, w.len);
    weir_jw_free(&w);
    return err;
}

static weir_error *money_moved(const weir_event *event, weir_ctx *ctx, const movement *m, bool deposit) {
    if (!(isfinite(m->amount) && m->amount > 0.0)) {
        char shown[32];
        weir_fmt_f64(m->amount, shown);
        return weir_error_new("amount must be positive, got %s", shown);
    }
    weir_row *account;
    WEIR_TRY(weir_get_text(ctx, "accounts", m->account_id, &account));
    if (!account) return weir_error_new("%s for unknown account %s", event->event_type, m->account_id);
    double balance = 0.0, new_balance;
    weir_row_f64(account, "balance", &balance);
    if (deposit) {
        new_balance = balance + m->amount;
    } else if (m->amount > balance) {
        weir_row_free(account);
        return reject(ctx, m, balance);
    } else {
        new_balance = balance - m->amount;
    }
    int64_t transactions = 0;
    weir_row_i64(account, "transactions", &transactions);
    char now[WEIR_RFC3339_LEN];
    weir_row_set_f64(account, "balance", round_cents(new_balance));
    weir_row_set_i64(account, "transactions", transactions + 1);
    weir_row_set_text(account, "updated_at", weir_event_timestamp_rfc3339(event, now));
    weir_error *err = weir_upsert(ctx, account);
    weir_row_free(account);
    return err;
}

/* Applies one account event to `accounts`. */
weir_error *weir_handle(const weir_event *event, weir_ctx *ctx) {
    bool deposit = weir_event_is(event, "MoneyDeposited");
    bool withdrawal = weir_event_is(event, "MoneyWithdrawn");
    if (!deposit && !withdrawal && !weir_event_is(event, "AccountOpened")) return NULL;

    weir_json data;
    WEIR_TRY(weir_error_prefix(weir_json_parse(event->data, &data), "invalid event data: "));
    weir_error *err;
    if (deposit || withdrawal) {
        movement m = {0};
        err = weir_error_prefix(decode_movement(data, &m), "invalid event data: ");
        if (!err) err = money_moved(event, ctx, &m, deposit);
        free(m.account_id);
    } else {
        opened o = {0};
        err = weir_error_prefix(decode_opened(data, &o), "invalid event data: ");
        if (!err) err = account_opened(event, ctx, &o);
        free(o.account_id);
        free(o.owner);
    }
    return err;
}
