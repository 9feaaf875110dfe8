-- The event stream: the change log (0006) served to clients in commit order, each change with a
-- number of its own, its position, that a client resumes from (`EventService.WatchEvents`).
--
-- Why positions are given after commit. A client that resumes "after position p" must get every
-- change it has not seen and none that it has. `changes.seq` cannot be that number: it is taken
-- when a row is inserted, so a transaction that wrote first and committed last has smaller
-- numbers than rows a client has already read, and "seq > p" would skip them. So changes are
-- numbered once their transaction has committed, by one sequencer at a time, in the order they
-- became visible: a change's position is final when a reader can first see it, and every
-- change committed later gets a larger one.
--
-- How the sequencer finds what to number. `change_stream` keeps the snapshot it last numbered
-- at. Each round (any replica, every few milliseconds) takes the row with `for update skip
-- locked`, so one replica numbers while the others skip the round, and takes a new snapshot: the
-- changes to number are those of transactions visible in the new snapshot and not in the old one
-- (PgQ's batches are cut the same way). They get the next positions, and the new snapshot is
-- kept, in one transaction; so a round that fails numbers nothing, and the next one numbers it.
--
-- The order within a round. Transactions that became visible in the same round (a few
-- milliseconds) are ordered by their last change's seq, and each transaction's changes stay
-- together in seq order. That keeps every order a client can observe: a write acknowledged before
-- another was sent has a smaller position (its rows were all inserted before the other's), and
-- of two transactions that wrote the same row, the one that waited for the other's lock wrote its
-- change after the other committed, so it comes later.
--
-- Rows of transactions that rolled back are never visible, so they are never numbered: an
-- acknowledged write is always in the stream and a rolled-back one never is.

create table change_stream (
    -- one row: the sequencer's state
    singleton boolean primary key default true check (singleton),
    -- the last position given; the next round continues from it
    last_position bigint not null check (last_position >= 0),
    -- the snapshot the last round numbered at: every change visible in it has its position
    snapshot pg_snapshot not null,
    -- positions up to and including this one were pruned: a client resuming from an older
    -- position would miss changes, and is told so
    pruned_through bigint not null default 0 check (pruned_through between 0 and last_position),
    -- the newest transaction among the changes pruned from the log: a replica that follows the
    -- log by snapshot (0006) and has not yet read past it knows it may have missed some
    pruned_txid xid8 not null default '0'
);

-- A position for every numbered change. Kept apart from `changes`, whose rows are only ever
-- inserted, so that numbering is an insert too. A position is given once (the primary key) to
-- one change, and a change gets one (the unique `seq`). No foreign key: checking it would lock
-- each change's row as it is numbered, and pruning deletes a change and its position together.
create table change_positions (
    position bigint primary key,
    seq bigint not null unique
);

-- Links name the earlier claim too: a link's event names the link, `claims/{id}/matches/{id}`,
-- and a client watching the earlier claim sees it gain one.
alter table changes add column matched_claim_id uuid;

create or replace function changes_log_matches() returns trigger
language plpgsql as $$
begin
    insert into changes (kind, claim_id, matched_claim_id)
    select case tg_op when 'INSERT' then 'match_created' else 'match_reviewed' end,
           claim_id, matched_claim_id
    from new_rows;
    return null;
end;
$$;

-- The changes of transactions visible in `taken` and not in `since`, numbered after `last`:
-- transactions by their last change, each transaction's changes together in seq order.
create function change_stream_number(since pg_snapshot, taken pg_snapshot, last bigint)
returns bigint
language sql as $$
    with fresh as (
        select seq, max(seq) over (partition by txid) as last_seq
        from changes
        -- the index on txid starts the scan at the old snapshot's oldest running transaction
        where txid >= pg_snapshot_xmin(since)
          and not pg_visible_in_snapshot(txid, since)
          and pg_visible_in_snapshot(txid, taken)
    ), numbered as (
        insert into change_positions (position, seq)
        select last + row_number() over (order by last_seq, seq), seq from fresh
        returning position
    )
    select coalesce(max(position), last) from numbered;
$$;

-- One round of the sequencer; returns the last position given, by this round or another
-- replica's. Runs in the caller's transaction, which must be READ COMMITTED: the rows it numbers
-- are read by a later statement than the one that took the snapshot, and filtered by it.
create function change_stream_advance() returns bigint
language plpgsql as $$
declare
    state change_stream%rowtype;
    taken pg_snapshot;
    last bigint;
begin
    select * into state from change_stream for update skip locked;
    if not found then
        -- another replica is numbering: what it numbered is read at its next round
        return (select last_position from change_stream);
    end if;
    taken := pg_current_snapshot();
    last := change_stream_number(state.snapshot, taken, state.last_position);
    -- a round that numbered nothing keeps its snapshot: nothing committed in between
    if last > state.last_position then
        update change_stream set last_position = last, snapshot = taken;
    end if;
    return last;
end;
$$;

-- The log as it stands is numbered now, so that a client can watch it from its oldest change;
-- transactions still running when this migration's snapshot is taken are numbered by the
-- sequencer's first round.
insert into change_stream (last_position, snapshot) values (0, pg_current_snapshot());
update change_stream set last_position = change_stream_number(
    '1:1:'::pg_snapshot, (select snapshot from change_stream), 0);
