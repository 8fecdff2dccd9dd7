//! Schema helpers shared by the migrations. A migration that has run must keep producing the
//! same schema: change what these build only together with a new migration, never in place.
use sea_orm_migration::prelude::*;

/// Creates index `name` on `table` over `cols` (in order), unique when `unique`.
pub async fn index(
    m: &SchemaManager<'_>,
    name: &str,
    table: &str,
    cols: &[&str],
    unique: bool,
) -> Result<(), DbErr> {
    let mut i = Index::create();
    i.name(name).table(Alias::new(table));
    for c in cols {
        i.col(Alias::new(*c));
    }
    if unique {
        i.unique();
    }
    m.create_index(i.to_owned()).await
}

/// A foreign key `name` from `(table, column)` to `(table, column)`, for `Table::create()
/// .foreign_key(&mut fk(..))`; add `on_delete` / `on_update` on the result where needed.
pub fn fk(name: &str, from: (&str, &str), to: (&str, &str)) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(name)
        .from(Alias::new(from.0), Alias::new(from.1))
        .to(Alias::new(to.0), Alias::new(to.1))
        .to_owned()
}
