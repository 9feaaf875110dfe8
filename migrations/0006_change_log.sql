-- The change log: every change to articles, claims, their quotes and verdicts, written by
-- triggers in the transaction that makes it, so that no code path can change a claim without
-- the log saying so.
--
-- What reads it: each replica follows the log to keep what it derives from the tables current
-- (its cache of claims; later its search index), and an event stream can serve it to clients.
-- A reader must see every committed change exactly once, in the order it can see them.
-- `seq` alone cannot promise that: sequence numbers are taken when a row is inserted, not when
-- its transaction commits, so a reader that asked for "seq > the last one I saw" would skip a
-- row whose transaction took a smaller number but committed later. So every row also records
-- its transaction (`txid`), and a reader remembers the snapshot it last read at (what
-- `pg_current_snapshot()` returned): the rows new to it are exactly those visible now and not
-- visible in that snapshot. Rows of transactions still running are in neither, and are read by
-- the first reading after they commit. This is how PgQ finds a batch's events.
--
-- Rows are only ever inserted. Changes made before this migration are not in the log: readers
-- build their state from the tables first, then follow the log from the snapshot they built at.

create table changes (
    -- the order rows were written in (not the order they committed in; see above)
    seq bigint generated always as identity primary key,
    -- the transaction that wrote the row: its top-level transaction id
    txid xid8 not null default pg_current_xact_id(),
    change_time timestamptz not null default now(),
    kind text not null check (kind in (
        'article_created', 'claim_created', 'claim_updated', 'quote_created', 'verdict_created')),
    -- what the change is about; a verdict's and a quote's change names its claim too
    article_id uuid,
    claim_id uuid,
    verdict_id uuid,
    constraint changes_name_their_subject check (case kind
        when 'article_created' then article_id is not null
        when 'verdict_created' then claim_id is not null and verdict_id is not null
        else claim_id is not null
    end)
);

-- a reader's query: the rows of transactions from its snapshot's oldest running one on
create index changes_txid_idx on changes (txid);

-- One trigger function per table, each once per statement: a batch of extracted claims is one
-- insert of the log's rows, not one per claim. The transition tables hold the rows the
-- statement changed.

create function changes_log_articles() returns trigger
language plpgsql as $$
begin
    insert into changes (kind, article_id)
    select 'article_created', id from new_rows;
    return null;
end;
$$;

create trigger articles_logged
    after insert on articles
    referencing new table as new_rows
    for each statement execute function changes_log_articles();

create function changes_log_claims() returns trigger
language plpgsql as $$
begin
    insert into changes (kind, claim_id)
    select case tg_op when 'INSERT' then 'claim_created' else 'claim_updated' end, id
    from new_rows;
    return null;
end;
$$;

create trigger claims_logged_on_insert
    after insert on claims
    referencing new table as new_rows
    for each statement execute function changes_log_claims();

create trigger claims_logged_on_update
    after update on claims
    referencing new table as new_rows
    for each statement execute function changes_log_claims();

create function changes_log_quotes() returns trigger
language plpgsql as $$
begin
    insert into changes (kind, claim_id, article_id)
    select 'quote_created', claim_id, article_id from new_rows;
    return null;
end;
$$;

create trigger quotes_logged
    after insert on quotes
    referencing new table as new_rows
    for each statement execute function changes_log_quotes();

create function changes_log_verdicts() returns trigger
language plpgsql as $$
begin
    insert into changes (kind, claim_id, verdict_id)
    select 'verdict_created', claim_id, id from new_rows;
    return null;
end;
$$;

create trigger verdicts_logged
    after insert on verdicts
    referencing new table as new_rows
    for each statement execute function changes_log_verdicts();
