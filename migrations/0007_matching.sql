-- Matching: has this claim been checked before? Each claim's sentence embedding, the work of
-- embedding and matching new claims, the links between claims that say the same, and the
-- speaker a claim is listed under across articles.

-- A claim's statement as the embedding model reads it: a unit vector of 384 little-endian f32,
-- computed once by whichever replica took the claim's work, so that no replica computes it
-- again. Written when the statement is first embedded and rewritten when it changes.
create table claim_embeddings (
    claim_id uuid primary key references claims (id) on delete cascade,
    -- the model and the SHA-256 of its weights: vectors of different models do not compare
    model text not null check (length(model) between 1 and 200),
    vector bytea not null check (length(vector) = 384 * 4),
    create_time timestamptz not null default now()
);

-- Claims waiting to be embedded and matched. A trigger queues every new claim and every claim
-- whose statement changed, in the transaction that changes it, so that no claim is forgotten
-- whichever path registered it. Replicas take work with `for update skip locked` and delete it
-- in the transaction that stores its results: a replica killed mid-work leaves it queued.
create table claim_work (
    claim_id uuid primary key references claims (id) on delete cascade,
    enqueue_time timestamptz not null default now()
);

create index claim_work_enqueue_time_idx on claim_work (enqueue_time, claim_id);

create function claim_work_enqueue_new() returns trigger
language plpgsql as $$
begin
    insert into claim_work (claim_id) select id from new_rows on conflict (claim_id) do nothing;
    return null;
end;
$$;

create trigger claims_queued_on_insert
    after insert on claims
    referencing new table as new_rows
    for each statement execute function claim_work_enqueue_new();

-- an update queues the claim only when its statement changed
create function claim_work_enqueue_changed() returns trigger
language plpgsql as $$
begin
    insert into claim_work (claim_id)
    select n.id from new_rows n join old_rows o on o.id = n.id
    where o.statement <> n.statement
    on conflict (claim_id) do nothing;
    return null;
end;
$$;

create trigger claims_queued_on_update
    after update on claims
    referencing old table as old_rows new table as new_rows
    for each statement execute function claim_work_enqueue_changed();

-- Claims registered before this migration are queued too.
insert into claim_work (claim_id, enqueue_time) select id, create_time from claims;

-- A link from a claim to an earlier one that says the same. `matched` links were made by the
-- registry itself (similarity at or above the match threshold); `suggested` ones wait for a
-- reviewer, who makes them `accepted` (linked) or `rejected` (never suggested again).
create table claim_matches (
    -- a UUIDv7 made by the service: listings page through matches by it, newest first
    id uuid not null unique,
    claim_id uuid not null references claims (id) on delete cascade,
    matched_claim_id uuid not null references claims (id) on delete cascade,
    -- the ranking's confidence that the two say the same (the cosine of their embeddings, plus
    -- the lead over the next candidate, plus a little when word search agrees): what the
    -- match and suggest thresholds apply to
    score real not null check (score >= 0),
    state text not null check (state in ('matched', 'suggested', 'accepted', 'rejected')),
    -- the reviewer's key name and key, for accepted and rejected suggestions
    reviewer text,
    reviewer_key_id uuid references api_keys (id),
    create_time timestamptz not null default now(),
    review_time timestamptz,
    primary key (claim_id, matched_claim_id),
    constraint claim_matches_not_to_itself check (claim_id <> matched_claim_id),
    constraint claim_matches_review_is_whole check (
        (state in ('matched', 'suggested') and reviewer is null and review_time is null)
        or (state in ('accepted', 'rejected') and reviewer is not null and review_time is not null)
    )
);

-- the claims linked to an earlier one: whose "previously checked" changes with its verdict
create index claim_matches_matched_claim_idx on claim_matches (matched_claim_id);
-- a reviewer's queue: open suggestions, newest first
create index claim_matches_suggested_idx on claim_matches (id desc) where state = 'suggested';

-- Listing a speaker's claims across articles, case-insensitively: by claimant, and by the
-- speaker the extractor resolved a quote's to.
create index claims_lower_claimant_idx on claims (lower(claimant), id desc);
create index quotes_lower_resolved_speaker_idx on quotes (lower(resolved_speaker), claim_id)
    where resolved_speaker is not null;

-- The change log learns the new kinds of change.
alter table changes drop constraint changes_kind_check;
alter table changes add constraint changes_kind_check check (kind in (
    'article_created', 'claim_created', 'claim_updated', 'quote_created', 'verdict_created',
    'claim_embedded', 'match_created', 'match_reviewed'));

create function changes_log_embeddings() returns trigger
language plpgsql as $$
begin
    insert into changes (kind, claim_id) select 'claim_embedded', claim_id from new_rows;
    return null;
end;
$$;

create trigger claim_embeddings_logged_on_insert
    after insert on claim_embeddings
    referencing new table as new_rows
    for each statement execute function changes_log_embeddings();

create trigger claim_embeddings_logged_on_update
    after update on claim_embeddings
    referencing new table as new_rows
    for each statement execute function changes_log_embeddings();

create function changes_log_matches() returns trigger
language plpgsql as $$
begin
    insert into changes (kind, claim_id)
    select case tg_op when 'INSERT' then 'match_created' else 'match_reviewed' end, claim_id
    from new_rows;
    return null;
end;
$$;

create trigger claim_matches_logged_on_insert
    after insert on claim_matches
    referencing new table as new_rows
    for each statement execute function changes_log_matches();

create trigger claim_matches_logged_on_update
    after update on claim_matches
    referencing new table as new_rows
    for each statement execute function changes_log_matches();

-- A claim linked to an earlier one shows the earlier one's verdict as "previously checked": a
-- new verdict on the earlier claim changes the claims linked to it, and the log says so, so
-- that what replicas keep of them is refreshed.
create or replace function changes_log_verdicts() returns trigger
language plpgsql as $$
begin
    insert into changes (kind, claim_id, verdict_id)
    select 'verdict_created', claim_id, id from new_rows;
    insert into changes (kind, claim_id)
    select 'claim_updated', m.claim_id
    from new_rows v
    join claim_matches m on m.matched_claim_id = v.claim_id
    where m.state in ('matched', 'accepted');
    return null;
end;
$$;
