//! PostgreSQL: a batch's changes as one set-based statement per table and kind
//! (`INSERT ... SELECT FROM unnest(...) ON CONFLICT DO UPDATE`), in one transaction.

use std::collections::HashMap;

use anyhow::Context;
use ::postgres::{Client, NoTls, Statement};

use super::{EVENT_IDS_TABLE, OFFSETS_TABLE, OffsetAdvance, OffsetConflict, Offsets, ReadStore, text_value, value_text};
use crate::config::{ColumnType, Table};
use crate::plugin::{Change, PackedRow, Value};

/// A PostgreSQL read model.
pub struct Postgres {
    client: Client,
    url: String,
    tables: Vec<Statements>,
    /// Statements prepared on this connection, by text: each is parsed once, not once
    /// per batch (a prepare is a round trip and a parse).
    prepared: HashMap<String, Statement>,
    /// Moves every partition's offset in one statement; returns the partitions it moved.
    move_offsets: String,
}

/// The statement for `sql`, prepared once per connection.
fn prepared(client: &mut Client, cache: &mut HashMap<String, Statement>, sql: &str) -> anyhow::Result<Statement> {
    if let Some(s) = cache.get(sql) {
        return Ok(s.clone());
    }
    let statement = client.prepare(sql).with_context(|| format!("preparing `{sql}`"))?;
    cache.insert(sql.to_owned(), statement.clone());
    Ok(statement)
}

struct Statements {
    columns: Vec<ColumnType>,
    key_positions: Vec<usize>,
    get: String,
    upsert: String,
    delete: String,
    scan: String,
}

fn pg_type(ty: ColumnType) -> &'static str {
    match ty {
        ColumnType::Text => "text",
        ColumnType::Integer => "bigint",
        ColumnType::Real => "double precision",
        ColumnType::Numeric => "numeric",
        ColumnType::Boolean => "boolean",
        ColumnType::Json => "jsonb",
        ColumnType::Timestamptz => "timestamptz",
    }
}

impl Postgres {
    /// Connects to `url` and creates the declared tables if missing.
    pub fn connect(url: &str, tables: &[Table]) -> anyhow::Result<Self> {
        let mut client = Client::connect(url, NoTls).with_context(|| format!("connecting to PostgreSQL at {}", redact(url)))?;
        // Concurrent CREATE TABLE IF NOT EXISTS can still collide in PostgreSQL: weir
        // processes starting together take turns under an advisory lock.
        let mut ddl = client.transaction()?;
        ddl.execute("SELECT pg_advisory_xact_lock(7394021)", &[])?;
        ddl.batch_execute(&super::bookkeeping_ddl("text", "integer", "bigint"))
            .context("creating weir's offset and event id tables")?;
        let mut statements = Vec::new();
        for t in tables {
            let cols: Vec<String> = t.columns.iter().map(|(n, ty)| format!("\"{n}\" {}", pg_type(*ty))).collect();
            let pk: Vec<String> = t.primary_key.iter().map(|k| format!("\"{k}\"")).collect();
            ddl.batch_execute(&format!(
                    "CREATE TABLE IF NOT EXISTS \"{}\" ({}, PRIMARY KEY ({}))",
                    t.name,
                    cols.join(", "),
                    pk.join(", ")
                ))
                .with_context(|| format!("creating table `{}`", t.name))?;
            let names: Vec<String> = t.column_names().map(|n| format!("\"{n}\"")).collect();
            let as_text: Vec<String> = names.iter().map(|n| format!("{n}::text")).collect();
            let key_where: Vec<String> = t
                .key_positions()
                .iter()
                .enumerate()
                .map(|(i, &k)| format!("{} = ${}::text::{}", names[k], i + 1, pg_type(t.columns[k].1)))
                .collect();
            let unnest: Vec<String> = (1..=names.len()).map(|i| format!("${i}::text[]")).collect();
            let casts: Vec<String> =
                t.columns.iter().map(|(n, ty)| format!("u.\"{n}\"::{}", pg_type(*ty))).collect();
            let updates: Vec<String> = names.iter().map(|n| format!("{n} = EXCLUDED.{n}")).collect();
            let key_unnest: Vec<String> = (1..=pk.len()).map(|i| format!("${i}::text[]")).collect();
            let key_match: Vec<String> = t
                .key_positions()
                .iter()
                .map(|&k| format!("t.{} = u.{}::{}", names[k], names[k], pg_type(t.columns[k].1)))
                .collect();
            statements.push(Statements {
                columns: t.columns.iter().map(|(_, ty)| *ty).collect(),
                key_positions: t.key_positions(),
                get: format!("SELECT {} FROM \"{}\" WHERE {}", as_text.join(", "), t.name, key_where.join(" AND ")),
                upsert: format!(
                    "INSERT INTO \"{}\" ({}) SELECT {} FROM unnest({}) AS u({}) ON CONFLICT ({}) DO UPDATE SET {}",
                    t.name,
                    names.join(", "),
                    casts.join(", "),
                    unnest.join(", "),
                    names.join(", "),
                    pk.join(", "),
                    updates.join(", ")
                ),
                delete: format!(
                    "DELETE FROM \"{}\" AS t USING unnest({}) AS u({}) WHERE {}",
                    t.name,
                    key_unnest.join(", "),
                    pk.join(", "),
                    key_match.join(" AND ")
                ),
                scan: format!("SELECT {} FROM \"{}\" ORDER BY {}", as_text.join(", "), t.name, pk.join(", ")),
            });
        }
        ddl.commit().context("creating tables")?;
        let move_offsets = format!(
            "UPDATE {OFFSETS_TABLE} AS o SET next_offset = v.next FROM unnest($2::text[], $3::int[], $4::bigint[], $5::bigint[]) \
             AS v(topic, partition, expected, next) WHERE o.consumer_group = $1 AND o.topic = v.topic AND o.partition = v.partition \
             AND o.next_offset = v.expected RETURNING o.topic, o.partition"
        );
        Ok(Postgres { client, url: url.to_owned(), tables: statements, prepared: HashMap::new(), move_offsets })
    }

    /// Reconnects after the server closed the connection (a restart, a cut network);
    /// the caller retries the batch.
    fn connected(&mut self) -> anyhow::Result<&mut Client> {
        if self.client.is_closed() {
            tracing::warn!("PostgreSQL connection lost; reconnecting to {}", redact(&self.url));
            self.client = Client::connect(&self.url, NoTls)
                .with_context(|| format!("reconnecting to PostgreSQL at {}", redact(&self.url)))?;
            self.prepared.clear();
        }
        Ok(&mut self.client)
    }
}

/// Hides a password in a connection URL.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if url[s + 3..at].contains(':') => {
            let user_end = s + 3 + url[s + 3..at].find(':').expect("colon");
            format!("{}:***{}", &url[..user_end], &url[at..])
        }
        _ => url.to_owned(),
    }
}

fn read_row(s: &Statements, row: &::postgres::Row) -> Vec<Value> {
    s.columns.iter().enumerate().map(|(i, ty)| text_value(*ty, row.get::<_, Option<String>>(i))).collect()
}

impl ReadStore for Postgres {
    fn get(&mut self, table: usize, key: &PackedRow) -> anyhow::Result<Option<PackedRow>> {
        let params: Vec<Option<std::borrow::Cow<'_, str>>> = key.iter().map(value_text).collect();
        let refs: Vec<&(dyn ::postgres::types::ToSql + Sync)> = params.iter().map(|p| p as _).collect();
        self.connected()?;
        let get = prepared(&mut self.client, &mut self.prepared, &self.tables[table].get)?;
        let row = self.client.query_opt(&get, &refs)?;
        Ok(row.map(|r| PackedRow::from_values(&read_row(&self.tables[table], &r))))
    }

    fn apply(&mut self, changes: &[(u16, Change)], group: &str, offsets: &[OffsetAdvance], applied_ids: &[&str]) -> anyhow::Result<()> {
        self.connected()?;
        let mut statements = Vec::with_capacity(self.tables.len() * 2 + 1);
        statements.push(prepared(&mut self.client, &mut self.prepared, &self.move_offsets)?);
        for t in &self.tables {
            statements.push(prepared(&mut self.client, &mut self.prepared, &t.upsert)?);
            statements.push(prepared(&mut self.client, &mut self.prepared, &t.delete)?);
        }
        let mut tx = self.client.transaction()?;
        if !applied_ids.is_empty() {
            tx.execute(
                &format!("INSERT INTO {EVENT_IDS_TABLE} (consumer_group, event_id) SELECT $1, unnest($2::text[]) ON CONFLICT DO NOTHING"),
                &[&group, &applied_ids],
            )?;
        }
        // Partitions seen before move in one statement; each must be where this
        // process left it, or another consumer got there first.
        let moving: Vec<&OffsetAdvance> = offsets.iter().filter(|o| o.from.is_some()).collect();
        if !moving.is_empty() {
            let topics: Vec<&str> = moving.iter().map(|o| o.topic.as_str()).collect();
            let partitions: Vec<i32> = moving.iter().map(|o| o.partition).collect();
            let expected: Vec<i64> = moving.iter().map(|o| o.from.expect("moving")).collect();
            let next: Vec<i64> = moving.iter().map(|o| o.to).collect();
            let moved = tx.query(&statements[0], &[&group, &topics, &partitions, &expected, &next])?;
            if moved.len() != moving.len() {
                let stuck = moving
                    .iter()
                    .find(|o| !moved.iter().any(|r| r.get::<_, &str>(0) == o.topic && r.get::<_, i32>(1) == o.partition))
                    .expect("a partition did not move");
                return Err(OffsetConflict { topic: stuck.topic.clone(), partition: stuck.partition }.into());
            }
        }
        for o in offsets.iter().filter(|o| o.from.is_none()) {
            let inserted = tx.execute(
                &format!("INSERT INTO {OFFSETS_TABLE} (consumer_group, topic, partition, next_offset) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING"),
                &[&group, &o.topic, &o.partition, &o.to],
            )?;
            if inserted != 1 {
                return Err(OffsetConflict { topic: o.topic.clone(), partition: o.partition }.into());
            }
        }
        let mut at = 0;
        while at < changes.len() {
            let table = changes[at].0;
            let end = at + changes[at..].iter().take_while(|(t, _)| *t == table).count();
            let s = &self.tables[table as usize];
            // Text stays borrowed from the rows: only numbers are formatted.
            let rows = end - at;
            let mut upserts: Vec<Vec<Option<std::borrow::Cow<'_, str>>>> = (0..s.columns.len()).map(|_| Vec::with_capacity(rows)).collect();
            let mut deletes: Vec<Vec<Option<std::borrow::Cow<'_, str>>>> = (0..s.key_positions.len()).map(|_| Vec::new()).collect();
            for (_, change) in &changes[at..end] {
                match change {
                    Change::Upsert(values) => {
                        for (column, v) in upserts.iter_mut().zip(values.iter()) {
                            column.push(value_text(v));
                        }
                    }
                    Change::Delete(values) => {
                        for (column, &k) in deletes.iter_mut().zip(&s.key_positions) {
                            column.push(value_text(values.get(k).expect("a key column")));
                        }
                    }
                }
            }
            if !deletes[0].is_empty() {
                let refs: Vec<&(dyn ::postgres::types::ToSql + Sync)> = deletes.iter().map(|c| c as _).collect();
                tx.execute(&statements[2 + 2 * table as usize], &refs).context("deleting rows")?;
            }
            if !upserts[0].is_empty() {
                let refs: Vec<&(dyn ::postgres::types::ToSql + Sync)> = upserts.iter().map(|c| c as _).collect();
                tx.execute(&statements[1 + 2 * table as usize], &refs).context("upserting rows")?;
            }
            at = end;
        }
        tx.commit().context("committing to PostgreSQL")?;
        Ok(())
    }

    fn applied_ids(&mut self, group: &str, ids: &[&str]) -> anyhow::Result<std::collections::HashSet<String>> {
        self.connected()?;
        let rows = self.client.query(
            &format!("SELECT event_id FROM {EVENT_IDS_TABLE} WHERE consumer_group = $1 AND event_id = ANY($2::text[])"),
            &[&group, &ids],
        )?;
        Ok(rows.iter().map(|r| r.get::<_, String>(0)).collect())
    }

    fn offsets(&mut self, group: &str) -> anyhow::Result<Offsets> {
        self.connected()?;
        let rows = self.client.query(
            &format!("SELECT topic, partition, next_offset FROM {OFFSETS_TABLE} WHERE consumer_group = $1"),
            &[&group],
        )?;
        Ok(rows.iter().map(|r| ((r.get::<_, String>(0), r.get::<_, i32>(1)), r.get::<_, i64>(2))).collect())
    }

    fn scan(&mut self, table: usize) -> anyhow::Result<Vec<Vec<Value>>> {
        self.connected()?;
        let rows = self.client.query(&self.tables[table].scan, &[])?;
        Ok(rows.iter().map(|r| read_row(&self.tables[table], r)).collect())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn redacts_passwords() {
        assert_eq!(super::redact("postgres://u:secret@h/db"), "postgres://u:***@h/db");
        assert_eq!(super::redact("postgres://u@h/db"), "postgres://u@h/db");
    }
}
