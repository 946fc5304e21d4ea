//! A connection that prepares each statement once: the log's statements are few and run
//! often, and preparing one is a round trip and a plan that a cached statement skips.

use postgres::types::ToSql;
use postgres::{Client, Row, Statement, Transaction};
use std::collections::HashMap;

type Params<'p> = &'p [&'p (dyn ToSql + Sync)];

/// Statements prepared on one connection, by their text. Prepared statements outlive the
/// transactions they were prepared in, and go with the connection.
type Prepared = HashMap<String, Statement>;

/// The query methods the store uses, on a connection or inside a transaction.
pub(crate) trait Sql {
    fn query(&mut self, sql: &str, params: Params<'_>) -> Result<Vec<Row>, postgres::Error>;
    fn execute(&mut self, sql: &str, params: Params<'_>) -> Result<u64, postgres::Error>;

    fn query_one(&mut self, sql: &str, params: Params<'_>) -> Result<Row, postgres::Error> {
        let mut rows = self.query(sql, params)?;
        match rows.len() {
            1 => Ok(rows.remove(0)),
            // The client's own error for a count other than one, by asking it once more
            // unprepared: rare (a statement that should return one row did not).
            _ => self.unprepared_one(sql, params),
        }
    }

    fn query_opt(&mut self, sql: &str, params: Params<'_>) -> Result<Option<Row>, postgres::Error> {
        let mut rows = self.query(sql, params)?;
        Ok((!rows.is_empty()).then(|| rows.remove(0)))
    }

    fn unprepared_one(&mut self, sql: &str, params: Params<'_>) -> Result<Row, postgres::Error>;
}

/// A client with its prepared statements.
pub(crate) struct Connection {
    pub(crate) client: Client,
    prepared: Prepared,
}

impl Connection {
    pub(crate) fn new(client: Client) -> Self {
        Self {
            client,
            prepared: HashMap::new(),
        }
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.client.is_closed()
    }

    pub(crate) fn transaction(&mut self) -> Result<Tx<'_>, postgres::Error> {
        Ok(Tx {
            transaction: self.client.transaction()?,
            prepared: &mut self.prepared,
        })
    }
}

fn prepared(
    client: &mut impl postgres::GenericClient,
    cache: &mut Prepared,
    sql: &str,
) -> Result<Statement, postgres::Error> {
    if let Some(statement) = cache.get(sql) {
        return Ok(statement.clone());
    }
    let statement = client.prepare(sql)?;
    cache.insert(sql.to_string(), statement.clone());
    Ok(statement)
}

impl Sql for Connection {
    fn query(&mut self, sql: &str, params: Params<'_>) -> Result<Vec<Row>, postgres::Error> {
        let statement = prepared(&mut self.client, &mut self.prepared, sql)?;
        self.client.query(&statement, params)
    }

    fn execute(&mut self, sql: &str, params: Params<'_>) -> Result<u64, postgres::Error> {
        let statement = prepared(&mut self.client, &mut self.prepared, sql)?;
        self.client.execute(&statement, params)
    }

    fn unprepared_one(&mut self, sql: &str, params: Params<'_>) -> Result<Row, postgres::Error> {
        self.client.query_one(sql, params)
    }
}

/// A transaction on a [`Connection`], preparing through its cache.
pub(crate) struct Tx<'c> {
    transaction: Transaction<'c>,
    prepared: &'c mut Prepared,
}

impl Tx<'_> {
    pub(crate) fn commit(self) -> Result<(), postgres::Error> {
        self.transaction.commit()
    }
}

impl Sql for Tx<'_> {
    fn query(&mut self, sql: &str, params: Params<'_>) -> Result<Vec<Row>, postgres::Error> {
        let statement = prepared(&mut self.transaction, self.prepared, sql)?;
        self.transaction.query(&statement, params)
    }

    fn execute(&mut self, sql: &str, params: Params<'_>) -> Result<u64, postgres::Error> {
        let statement = prepared(&mut self.transaction, self.prepared, sql)?;
        self.transaction.execute(&statement, params)
    }

    fn unprepared_one(&mut self, sql: &str, params: Params<'_>) -> Result<Row, postgres::Error> {
        self.transaction.query_one(sql, params)
    }
}
