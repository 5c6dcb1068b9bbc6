"""Bulk inserts for the hot paths (batch intake and chunked accrual).

Django's `bulk_create` on PostgreSQL sends one array per column (`INSERT ... SELECT * FROM
UNNEST(...)`); psycopg builds those arrays in Python, escaping every element with a regular
expression, and with JSON columns that costs more than the rest of the accrual (docs/performance.md,
"what was changed"). `bulk_insert` writes the same rows with COPY instead, which psycopg formats in
C, after taking the ids from the table's own sequence in one query, so the caller gets saved
instances with their primary keys exactly as from `bulk_create`. Constraints, indexes and
foreign keys are checked by PostgreSQL as for any INSERT, inside the caller's transaction.
Elsewhere (SQLite) it is `bulk_create`.
"""
from __future__ import annotations

import json
from typing import TypeVar

from django.db import connections, models, router
from django.db.models.base import ModelState

M = TypeVar("M", bound=models.Model)


def _plan(model: type[models.Model]) -> tuple[list[str], list]:
    """Column names and, per column, how to read an instance's value (cached per model)."""
    cached = _PLANS.get(model)
    if cached is not None:
        return cached
    columns, readers = [], []
    for f in model._meta.concrete_fields:
        columns.append(f.column)
        if f.primary_key:
            readers.append(("pk", None))
        elif getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            readers.append(("pre_save", f))
        elif isinstance(f, models.JSONField):
            readers.append(("json", f))
        elif f.is_relation:
            readers.append(("fk", f))
        else:
            readers.append(("attr", f.attname))
    _PLANS[model] = columns, readers
    return columns, readers


_PLANS: dict = {}
_SHAPES: dict = {}


def _shape(model):
    """(static defaults by attname, callable defaults by attname, relation fields by name)."""
    cached = _SHAPES.get(model)
    if cached is None:
        static, dynamic, relations = {}, {}, {}
        for f in model._meta.concrete_fields:
            if f.is_relation:
                relations[f.name] = f
            if f.has_default() and callable(f.default):
                dynamic[f.attname] = f.default
            else:
                static[f.attname] = f.get_default()  # as Model.__init__ fills a missing field
        cached = _SHAPES[model] = (static, dynamic, relations)
    return cached


def instance(model: type[M], /, **values) -> M:
    """An unsaved instance of `model` built without Model.__init__ (an order of magnitude cheaper,
    for the rows the hot paths create by the thousand). `values` are by attname (`order_id`) or,
    for a foreign key, by name with a saved instance (`record=r`, which is also cached on the new
    instance as __init__ would); every other concrete field gets its default. Raises TypeError
    for a name the model does not have."""
    static, dynamic, relations = _shape(model)
    obj = model.__new__(model)
    d = obj.__dict__
    d.update(static)
    for attname, default in dynamic.items():
        d[attname] = default()
    state = d["_state"] = ModelState()
    for name, value in values.items():
        field = relations.get(name)
        if field is not None and field.attname != name:
            d[field.attname] = None if value is None else value.pk
            state.fields_cache[name] = value
        elif name in static or name in dynamic:
            d[name] = value
        else:
            raise TypeError(f"{model.__name__} has no field {name!r}")
    return obj


def pg_array(values) -> str:
    """A PostgreSQL array literal of numbers (ints or Decimals), for `= ANY(%s::bigint[])` and
    `unnest(%s::numeric[])` parameters: built with str(), which is exact, instead of psycopg's
    per-element list adaptation."""
    return "{" + ",".join(str(v) for v in values) + "}"


def bulk_insert(model: type[M], objs: list[M]) -> list[M]:
    """Insert unsaved instances of `model` (all columns, in order) and set their primary keys.

    Args: a model class and a list of its unsaved instances. Returns `objs`, saved (pk set in list
    order, ascending). Raises IntegrityError as `bulk_create` would (unique or foreign-key
    violation: nothing of the call is written). Counts as two queries (the ids, the COPY) in
    Django's query log, so query-count pins see it.
    """
    if not objs:
        return objs
    conn = connections[router.db_for_write(model)]
    if conn.vendor != "postgresql":
        model._base_manager.bulk_create(objs)
        return objs
    columns, readers = _plan(model)
    table = conn.ops.quote_name(model._meta.db_table)
    with conn.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [model._meta.db_table, model._meta.pk.column, len(objs)],
        )
        ids = sorted(row[0] for row in cursor.fetchall())
        sql = f"COPY {table} ({', '.join(conn.ops.quote_name(c) for c in columns)}) FROM STDIN"
        rows = []
        for obj, pk in zip(objs, ids):
            obj.pk = pk
            row = []
            for how, arg in readers:
                if how == "attr":
                    row.append(getattr(obj, arg))
                elif how == "pk":
                    row.append(pk)
                elif how == "fk":
                    value = getattr(obj, arg.attname)
                    if value is None:  # set from a related instance saved after this one was built
                        related = arg.get_cached_value(obj, None)
                        if related is not None:
                            value = related.pk
                            setattr(obj, arg.attname, value)
                    row.append(value)
                elif how == "json":
                    value = getattr(obj, arg.attname)
                    row.append(None if value is None else json.dumps(value, cls=arg.encoder))
                else:
                    row.append(arg.pre_save(obj, True))
            rows.append(row)
        log = conn.queries_logged
        if log:
            cursor.db.queries_log.append({"sql": f"{sql} -- {len(rows)} rows", "time": "0.000"})
        with conn.wrap_database_errors, cursor.cursor.copy(sql) as copy:  # psycopg errors -> django.db's
            for row in rows:
                copy.write_row(row)
    for obj in objs:
        obj._state.adding = False
        obj._state.db = conn.alias
    return objs


def update_rows(model: type[models.Model], *, fields: tuple[str, ...], keys: tuple[str, ...], rows, condition: str = "") -> None:
    """Update many rows of `model`, each with its own values, in one statement:
    `UPDATE <table> SET <field> = <value>, ... WHERE <key> = <value> AND ... [AND <condition>]`.

    Args: `fields` and `keys` are attnames (`completed_at`, `order_id`, `tenant_id`); each row of
    `rows` holds the values of `fields`, then those of `keys` (no two rows with the same keys),
    adapted by their model fields as the ORM would; `condition` is extra SQL on the table's own
    columns (no parameters). On PostgreSQL one UPDATE ... FROM unnest(<one array per column>),
    elsewhere one executemany; either counts as one query in Django's log. Django's `bulk_update`
    builds a CASE expression per row and field instead, which costs seconds for thousands of rows.
    The caller names the tenant among `keys` (raw SQL does not go through the tenant-scoped
    manager). Returns nothing.
    """
    rows = list(rows)
    if not rows:
        return
    conn = connections[router.db_for_write(model)]
    by_attname = {f.attname: f for f in model._meta.concrete_fields}
    columns = [by_attname[name] for name in (*fields, *keys)]
    q = conn.ops.quote_name
    table = q(model._meta.db_table)
    extra = f" AND ({condition})" if condition else ""
    values = [[f.get_db_prep_save(v, conn) for f, v in zip(columns, row)] for row in rows]
    n = len(fields)
    with conn.cursor() as cursor:
        if conn.vendor == "postgresql":
            names = [f"v{i}" for i in range(len(columns))]
            arrays = ", ".join(f"%s::{f.db_type(conn)}[]" for f in columns)
            cursor.execute(
                f"UPDATE {table} AS t SET " + ", ".join(f"{q(f.column)} = v.{v}" for f, v in zip(columns[:n], names))
                + f" FROM unnest({arrays}) AS v({', '.join(names)}) WHERE "
                + " AND ".join(f"t.{q(f.column)} = v.{v}" for f, v in zip(columns[n:], names[n:])) + extra,
                [list(column) for column in zip(*values)],
            )
        else:
            cursor.executemany(
                f"UPDATE {table} SET " + ", ".join(f"{q(f.column)} = %s" for f in columns[:n])
                + " WHERE " + " AND ".join(f"{q(f.column)} = %s" for f in columns[n:]) + extra,
                values,
            )


def select_sql(model: type[models.Model], where: str, *, alias: str = "", fields: tuple[str, ...] | None = None) -> str:
    """`<alias>.<column>, ...` of `model`'s concrete fields (all, or those named in `fields`), in
    concrete-field order as `rows_to_instances` reads them; cached. Raw reads for the hot paths,
    where compiling a queryset cost more than running it (docs/performance.md)."""
    key = (model, alias, fields)
    cols = _SELECT.get(key)
    if cols is None:
        prefix = f"{alias}." if alias else ""
        chosen = [f for f in model._meta.concrete_fields if fields is None or f.name in fields or f.attname in fields]
        cols = (", ".join(f"{prefix}{f.column}" for f in chosen), tuple(f.attname for f in chosen))
        _SELECT[key] = cols
    return cols[0]


def row_converter(model: type[models.Model], fields: tuple[str, ...], using: str = "default"):
    """A function turning a raw row of `model`'s `fields` (attnames, in that order) into the values
    the ORM would give (the backend's converters and from_db_value: aware datetimes and Decimals on
    SQLite, JSON); the identity when none applies (most fields on PostgreSQL). Cached."""
    conn = connections[using]
    key = (model, fields, conn.vendor, "row")
    cached = _CONVERTERS.get(key)
    if cached is None:
        by_attname = {f.attname: f for f in model._meta.concrete_fields}
        steps = []
        for i, name in enumerate(fields):
            f = by_attname[name]
            col = f.get_col(model._meta.db_table)
            found = conn.ops.get_db_converters(col) + f.get_db_converters(conn)
            if found:
                steps.append((i, col, found))

        def convert(row):
            if not steps:
                return row
            row = list(row)
            for i, col, found in steps:
                for fn in found:
                    row[i] = fn(row[i], col, conn)
            return row

        cached = _CONVERTERS[key] = convert
    return cached


def from_row(model: type[M], values, *, fields: tuple[str, ...] | None = None, using: str = "default") -> M:
    """An instance of `model` as the ORM loads it from a row read with
    `select_sql(model, ..., fields=fields)`: each value through the converters the ORM would apply
    (the backend's and the field's from_db_value: aware datetimes and Decimals on SQLite, JSON),
    then Model.from_db (fields not selected are deferred)."""
    select_sql(model, "", fields=fields)
    names = _SELECT[(model, "", fields)][1]
    conn = connections[using]
    key = (model, fields, conn.vendor)
    converters = _CONVERTERS.get(key)
    if converters is None:
        by_attname = {f.attname: f for f in model._meta.concrete_fields}
        converters = []
        for i, name in enumerate(names):
            f = by_attname[name]
            col = f.get_col(model._meta.db_table)
            found = conn.ops.get_db_converters(col) + f.get_db_converters(conn)
            if found:
                converters.append((i, col, found))
        _CONVERTERS[key] = converters
    if converters:
        values = list(values)
        for i, col, found in converters:
            for convert in found:
                values[i] = convert(values[i], col, conn)
    return model.from_db(using, names, values)


_CONVERTERS: dict = {}
_SELECT: dict = {}


def insert_rows(model: type[M], objs: list[M], *, returning: bool = True) -> list[M]:
    """Insert unsaved instances of `model` in one INSERT ... VALUES statement (a few rows: the
    single order and its lines), each value prepared as Model.save prepares it
    (`field.get_db_prep_save(field.pre_save(obj, add=True))`, so auto_now fields are set on the
    instances); with `returning`, the primary keys come back (RETURNING) and are set in order.
    One query on every database; raises IntegrityError like save(). Compiling save()'s INSERT was
    a visible share of a single order POST (docs/performance.md)."""
    if not objs:
        return objs
    conn = connections[router.db_for_write(model)]
    fields = _INSERT_FIELDS.get(model)
    if fields is None:
        fields = _INSERT_FIELDS[model] = [f for f in model._meta.concrete_fields if not f.primary_key]
    params = []
    for obj in objs:
        for f in fields:
            if f.is_relation and getattr(obj, f.attname) is None:
                related = f.get_cached_value(obj, None)
                if related is not None:  # a related instance saved after this one was built
                    setattr(obj, f.attname, related.pk)
            params.append(f.get_db_prep_save(f.pre_save(obj, True), conn))
    q = conn.ops.quote_name
    one = "(" + ", ".join(["%s"] * len(fields)) + ")"
    sql = (f"INSERT INTO {q(model._meta.db_table)} ({', '.join(q(f.column) for f in fields)}) VALUES "
           + ", ".join([one] * len(objs)))
    returning = returning and conn.features.can_return_columns_from_insert
    if returning:
        sql += f" RETURNING {q(model._meta.pk.column)}"
    with conn.cursor() as cursor:
        cursor.execute(sql, params)
        if returning:
            for obj, row in zip(objs, cursor.fetchall()):
                obj.pk = row[0]
        elif len(objs) == 1 and conn.vendor == "sqlite":
            objs[0].pk = cursor.lastrowid
    for obj in objs:
        obj._state.adding = False
        obj._state.db = conn.alias
    return objs


_INSERT_FIELDS: dict = {}


def insert_with_children(parent: models.Model, children: list[models.Model], *, fk: str) -> None:
    """PostgreSQL: insert an unsaved `parent` and its unsaved `children` (whose foreign key `fk`,
    an attname such as "order_id", points at it) in ONE statement (a data-modifying WITH), so that
    outside a transaction it is atomic and durable on its own: no BEGIN, no COMMIT, one round trip
    instead of four. Sets parent.pk; values prepared as `insert_rows` prepares them. Raises
    IntegrityError like save() (nothing is written then). The single order POST's write."""
    conn = connections[router.db_for_write(type(parent))]
    p_model, c_model = type(parent), type(children[0])
    p_fields = _INSERT_FIELDS.get(p_model)
    if p_fields is None:
        p_fields = _INSERT_FIELDS[p_model] = [f for f in p_model._meta.concrete_fields if not f.primary_key]
    c_fields = [f for f in c_model._meta.concrete_fields if not f.primary_key and f.attname != fk]
    q = conn.ops.quote_name
    params = [f.get_db_prep_save(f.pre_save(parent, True), conn) for f in p_fields]
    # the children as one array per column (unnest): the statement's text is the same whatever
    # their number, so psycopg and PostgreSQL reuse its parse
    params.extend([f.get_db_prep_save(f.pre_save(child, True), conn) for child in children] for f in c_fields)
    sql = _WITH_SQL.get((p_model, c_model, fk))
    if sql is None:
        names = ", ".join(q(f.column) for f in c_fields)
        arrays = ", ".join(f"CAST(%s AS {f.db_type(conn)}[])" for f in c_fields)
        sql = _WITH_SQL[(p_model, c_model, fk)] = (
            f"WITH parent AS (INSERT INTO {q(p_model._meta.db_table)} ({', '.join(q(f.column) for f in p_fields)})"
            f" VALUES ({', '.join(['%s'] * len(p_fields))}) RETURNING {q(p_model._meta.pk.column)} AS id),"
            f" kids AS (INSERT INTO {q(c_model._meta.db_table)} ({names}, {q(c_model._meta.get_field(fk[:-3]).column)})"
            f" SELECT v.*, parent.id FROM parent, unnest({arrays}) AS v ({names}))"
            f" SELECT id FROM parent")
    parent.pk = query(sql, params, using=conn.alias)[0][0]
    parent._state.adding = False
    parent._state.db = conn.alias
    for child in children:
        setattr(child, fk, parent.pk)
        child._state.adding = False
        child._state.db = conn.alias


_WITH_SQL: dict = {}


def query(sql: str, params, *, using: str = "default") -> list[tuple]:
    """Run one raw statement of a hot path and return its rows ([] when it returns none).

    On PostgreSQL with server-side binding on the connection Django holds (Django's cursors bind
    parameters client-side, in Python, one literal at a time; this one sends them with the
    statement) and, unless settings.DB_PREPARED_STATEMENTS is off (a transaction-pooling
    PgBouncer), as a prepared statement of that connection, so PostgreSQL parses and plans it once
    per connection instead of once per request. Django's connection handling
    (connect, health check, broken-transaction check), error translation (IntegrityError,
    ...) and query log (so query-count pins see it) apply as to any query. Elsewhere, a Django
    cursor. `%s` placeholders either way."""
    conn = connections[using]
    if conn.vendor != "postgresql":
        with conn.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall() if cursor.description else []
    import time

    import psycopg

    conn.close_if_health_check_failed()
    conn.ensure_connection()
    conn.validate_no_broken_transaction()
    start = time.monotonic()
    from django.conf import settings

    with conn.wrap_database_errors, psycopg.Cursor(conn.connection) as cursor:
        cursor.execute(sql, params, prepare=True if settings.DB_PREPARED_STATEMENTS else None)
        # whether it returned rows, from the result's status: `cursor.description` would build a
        # Column object per column (80 of them for the portal's token row) on every call
        result = cursor.pgresult
        rows = cursor.fetchall() if result is not None and result.status == psycopg.pq.ExecStatus.TUPLES_OK else []
    if conn.queries_logged:
        conn.queries_log.append({"sql": sql, "time": f"{time.monotonic() - start:.3f}"})
    return rows
