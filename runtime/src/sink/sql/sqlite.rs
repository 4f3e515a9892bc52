//! SQLite: the embedded default. WAL, `synchronous=NORMAL`, one transaction per batch.

use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{Connection, ToSql, params_from_iter};

use super::{EVENT_IDS_TABLE, OFFSETS_TABLE, OffsetAdvance, OffsetConflict, Offsets, ReadStore};
use crate::config::{ColumnType, Table};
use crate::plugin::{Change, PackedRow, Value};

/// A SQLite read model.
pub struct Sqlite {
    conn: Connection,
    tables: Vec<Statements>,
}

struct Statements {
    columns: Vec<ColumnType>,
    key_positions: Vec<usize>,
    get: String,
    upsert: String,
    delete: String,
    scan: String,
}

fn sqlite_type(ty: ColumnType) -> &'static str {
    match ty {
        ColumnType::Text | ColumnType::Json | ColumnType::Timestamptz => "TEXT",
        ColumnType::Integer | ColumnType::Boolean => "INTEGER",
        ColumnType::Real => "REAL",
        ColumnType::Numeric => "NUMERIC",
    }
}

/// How long a statement waits for another connection's lock.
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// Puts the database in WAL mode. Switching a new file to WAL needs an exclusive lock,
/// and SQLite answers "database is locked" at once instead of waiting for it (the busy
/// timeout does not apply): pipelines that share one file open it together when weir
/// starts, so this retries for as long as the busy timeout.
fn wal_mode(conn: &Connection) -> rusqlite::Result<()> {
    let deadline = std::time::Instant::now() + BUSY_TIMEOUT;
    loop {
        match conn.pragma_update(None, "journal_mode", "WAL") {
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == rusqlite::ErrorCode::DatabaseBusy && std::time::Instant::now() < deadline =>
            {
                std::thread::sleep(Duration::from_millis(5));
            }
            other => return other,
        }
    }
}

impl Sqlite {
    /// Opens (creating) the database at `path` and the declared tables.
    pub fn open(path: &Path, tables: &[Table]) -> anyhow::Result<Self> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        let conn = Connection::open(path).with_context(|| format!("opening SQLite database {}", path.display()))?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        wal_mode(&conn).context("switching SQLite to WAL mode")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.execute_batch(&super::bookkeeping_ddl("TEXT", "INTEGER", "INTEGER"))
            .context("creating weir's offset and event id tables")?;
        let mut statements = Vec::new();
        for t in tables {
            let cols: Vec<String> = t.columns.iter().map(|(n, ty)| format!("\"{n}\" {}", sqlite_type(*ty))).collect();
            let pk: Vec<String> = t.primary_key.iter().map(|k| format!("\"{k}\"")).collect();
            conn.execute_batch(&format!(
                "CREATE TABLE IF NOT EXISTS \"{}\" ({}, PRIMARY KEY ({}))",
                t.name,
                cols.join(", "),
                pk.join(", ")
            ))
            .with_context(|| format!("creating table `{}`", t.name))?;
            let names: Vec<String> = t.column_names().map(|n| format!("\"{n}\"")).collect();
            let marks: Vec<String> = (1..=names.len()).map(|i| format!("?{i}")).collect();
            let key_where: Vec<String> = pk.iter().enumerate().map(|(i, k)| format!("{k} = ?{}", i + 1)).collect();
            let updates: Vec<String> = names.iter().map(|n| format!("{n} = excluded.{n}")).collect();
            statements.push(Statements {
                columns: t.columns.iter().map(|(_, ty)| *ty).collect(),
                key_positions: t.key_positions(),
                get: format!("SELECT {} FROM \"{}\" WHERE {}", names.join(", "), t.name, key_where.join(" AND ")),
                upsert: format!(
                    "INSERT INTO \"{}\" ({}) VALUES ({}) ON CONFLICT ({}) DO UPDATE SET {}",
                    t.name,
                    names.join(", "),
                    marks.join(", "),
                    pk.join(", "),
                    updates.join(", ")
                ),
                delete: format!("DELETE FROM \"{}\" WHERE {}", t.name, key_where.join(" AND ")),
                scan: format!("SELECT {} FROM \"{}\" ORDER BY {}", names.join(", "), t.name, pk.join(", ")),
            });
        }
        Ok(Sqlite { conn, tables: statements })
    }
}

struct Param<'v>(crate::plugin::ValueRef<'v>);

impl ToSql for Param<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        use crate::plugin::ValueRef as V;
        Ok(ToSqlOutput::Borrowed(match self.0 {
            V::Null => ValueRef::Null,
            V::Boolean(b) => ValueRef::Integer(i64::from(b)),
            V::Integer(i) => ValueRef::Integer(i),
            V::Float(f) => ValueRef::Real(f),
            V::Text(s) => ValueRef::Text(s.as_bytes()),
            V::Json(j) => ValueRef::Text(j),
        }))
    }
}

fn read_value(ty: ColumnType, v: ValueRef<'_>) -> Value {
    match (ty, v) {
        (_, ValueRef::Null) => Value::Null,
        (ColumnType::Boolean, ValueRef::Integer(i)) => Value::Boolean(i != 0),
        (ColumnType::Real | ColumnType::Numeric, ValueRef::Integer(i)) => Value::Float(i as f64),
        (_, ValueRef::Integer(i)) => Value::Integer(i),
        (_, ValueRef::Real(f)) => Value::Float(f),
        (ColumnType::Json, ValueRef::Text(t) | ValueRef::Blob(t)) => Value::Json(t.to_vec()),
        (_, ValueRef::Text(t) | ValueRef::Blob(t)) => Value::Text(String::from_utf8_lossy(t).into_owned()),
    }
}

fn read_row(s: &Statements, row: &rusqlite::Row<'_>) -> rusqlite::Result<Vec<Value>> {
    (0..s.columns.len()).map(|i| Ok(read_value(s.columns[i], row.get_ref(i)?))).collect()
}

impl ReadStore for Sqlite {
    fn get(&mut self, table: usize, key: &PackedRow) -> anyhow::Result<Option<PackedRow>> {
        let s = &self.tables[table];
        let mut stmt = self.conn.prepare_cached(&s.get)?;
        let mut rows = stmt.query(params_from_iter(key.iter().map(Param)))?;
        Ok(match rows.next()? {
            Some(row) => Some(PackedRow::from_values(&read_row(s, row)?)),
            None => None,
        })
    }

    fn apply(&mut self, changes: &[(u16, Change)], group: &str, offsets: &[OffsetAdvance], applied_ids: &[&str]) -> anyhow::Result<()> {
        let tx = self.conn.transaction()?;
        for id in applied_ids {
            tx.prepare_cached(&format!("INSERT INTO {EVENT_IDS_TABLE} (consumer_group, event_id) VALUES (?1, ?2) ON CONFLICT DO NOTHING"))?
                .execute([group, id])?;
        }
        for o in offsets {
            let moved = match o.from {
                Some(from) => tx
                    .prepare_cached(&format!(
                        "UPDATE {OFFSETS_TABLE} SET next_offset = ?4 WHERE consumer_group = ?1 AND topic = ?2 AND partition = ?3 AND next_offset = ?5"
                    ))?
                    .execute(rusqlite::params![group, o.topic, o.partition, o.to, from])?,
                None => tx
                    .prepare_cached(&format!(
                        "INSERT INTO {OFFSETS_TABLE} (consumer_group, topic, partition, next_offset) VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING"
                    ))?
                    .execute(rusqlite::params![group, o.topic, o.partition, o.to])?,
            };
            if moved != 1 {
                return Err(OffsetConflict { topic: o.topic.clone(), partition: o.partition }.into());
            }
        }
        // Statements looked up once per batch and table, not per row (the cache hashes
        // the whole statement text).
        let mut upserts: Vec<Option<rusqlite::CachedStatement<'_>>> = (0..self.tables.len()).map(|_| None).collect();
        let mut deletes: Vec<Option<rusqlite::CachedStatement<'_>>> = (0..self.tables.len()).map(|_| None).collect();
        for (table, change) in changes {
            let t = *table as usize;
            let s = &self.tables[t];
            match change {
                Change::Upsert(values) => {
                    let stmt = match &mut upserts[t] {
                        Some(stmt) => stmt,
                        slot => slot.insert(tx.prepare_cached(&s.upsert)?),
                    };
                    stmt.execute(params_from_iter(values.iter().map(Param)))?;
                }
                Change::Delete(values) => {
                    let stmt = match &mut deletes[t] {
                        Some(stmt) => stmt,
                        slot => slot.insert(tx.prepare_cached(&s.delete)?),
                    };
                    stmt.execute(params_from_iter(s.key_positions.iter().map(|&k| Param(values.get(k).expect("a key column")))))?;
                }
            }
        }
        drop((upserts, deletes));
        tx.commit().context("committing to SQLite")?;
        Ok(())
    }

    fn applied_ids(&mut self, group: &str, ids: &[&str]) -> anyhow::Result<std::collections::HashSet<String>> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT event_id FROM {EVENT_IDS_TABLE} WHERE consumer_group = ?1 AND event_id = ?2"
        ))?;
        let mut seen = std::collections::HashSet::new();
        for id in ids {
            if stmt.exists([group, id])? {
                seen.insert((*id).to_owned());
            }
        }
        Ok(seen)
    }

    fn offsets(&mut self, group: &str) -> anyhow::Result<Offsets> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT topic, partition, next_offset FROM {OFFSETS_TABLE} WHERE consumer_group = ?1"
        ))?;
        let rows = stmt.query_map([group], |r| Ok(((r.get::<_, String>(0)?, r.get::<_, i32>(1)?), r.get::<_, i64>(2)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn scan(&mut self, table: usize) -> anyhow::Result<Vec<Vec<Value>>> {
        let s = &self.tables[table];
        let mut stmt = self.conn.prepare(&s.scan)?;
        let rows = stmt.query_map([], |row| read_row(s, row))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Pipelines sharing one file open it at once when weir starts.
    #[test]
    fn many_connections_open_a_new_file_at_once() {
        for round in 0..20 {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("shared.db");
            let table = Table { name: format!("t{round}"), primary_key: vec!["id".into()], columns: vec![("id".into(), ColumnType::Text)] };
            let start = std::sync::Arc::new(std::sync::Barrier::new(8));
            let threads: Vec<_> = (0..8)
                .map(|_| {
                    let (path, table, start) = (path.clone(), table.clone(), start.clone());
                    std::thread::spawn(move || {
                        start.wait();
                        Sqlite::open(&path, &[table]).map(drop).map_err(|e| format!("{e:#}"))
                    })
                })
                .collect();
            for t in threads {
                assert_eq!(t.join().unwrap(), Ok(()), "round {round}");
            }
        }
    }
}
