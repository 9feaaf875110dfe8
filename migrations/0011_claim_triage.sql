-- Claim triage: a reviewer dismisses a claim that needs no check (not a factual claim, a
-- duplicate of another claim, out of scope) and may restore it; ListClaims leaves dismissed
-- claims out unless asked, filters by origin, and orders by check-worthiness.
--
-- A dismissal is columns of the claim, not a table of its own: a claim is dismissed or not, and
-- the listing filters on it with every other filter. Dismissing and restoring are updates of
-- the claim, which bump its version (the etag) and which the claims' update trigger of 0006
-- logs as 'claim_updated': the change log's kinds are left as they are.

-- why the claim was dismissed; null while it is not
alter table claims
    add column dismissal_reason text
        constraint claims_dismissal_reason_is_known
            check (dismissal_reason in ('not_a_claim', 'duplicate', 'out_of_scope'));

-- the claim a duplicate repeats; set exactly when the reason is 'duplicate'
alter table claims
    add column duplicate_of uuid references claims (id);

-- who dismissed it: the name of the reviewer's API key, as verdicts keep it, and the key
alter table claims
    add column dismissed_by text,
    add column dismissed_by_key_id uuid references api_keys (id);

-- when it was dismissed
alter table claims
    add column dismiss_time timestamptz;

-- the reviewer's note on the dismissal, if any
alter table claims
    add column dismissal_note text
        constraint claims_dismissal_note_length check (length(dismissal_note) between 1 and 2000);

-- a dismissal is whole or absent: a reason, who and when together
alter table claims
    add constraint claims_dismissal_is_whole check (
        (dismissal_reason is null) = (dismissed_by is null)
        and (dismissal_reason is null) = (dismissed_by_key_id is null)
        and (dismissal_reason is null) = (dismiss_time is null)
        and (dismissal_reason is not null or dismissal_note is null)
    );

-- a duplicate names the claim it repeats, and only a duplicate does; never itself
alter table claims
    add constraint claims_duplicate_names_another check (
        (dismissal_reason is not distinct from 'duplicate') = (duplicate_of is not null)
        and duplicate_of is distinct from id
    );

-- Indexes for the triage listings. ListClaims orders by check-worthiness as
-- `coalesce(checkworthiness, 0) desc, id desc` (a claim without a score is least worth
-- checking), pages by that pair, and reads one of these in that order:
--
-- - every claim, by check-worthiness;
-- - a review state's claims by check-worthiness: the reviewers' queue (unreviewed, most worth
--   checking first);
-- - an origin's claims by check-worthiness (the origin's claims by id use claims_origin_idx of
--   0002).
--
-- Dismissed claims are few next to live ones: the listings of live claims (the default) read
-- the indexes above and of 0001-0004 and skip the dismissed rows they meet; the listings of
-- dismissed claims read these partial indexes, by id or by check-worthiness. Check-worthiness
-- with a claimant, speaker or rating has no index, and ListClaims refuses that combination.
create index claims_checkworthiness_idx on claims ((coalesce(checkworthiness, 0)), id);

create index claims_review_state_checkworthiness_idx
    on claims (review_state, (coalesce(checkworthiness, 0)), id);

create index claims_origin_checkworthiness_idx
    on claims (origin, (coalesce(checkworthiness, 0)), id);

create index claims_dismissed_idx on claims (id) where dismissal_reason is not null;

create index claims_dismissed_checkworthiness_idx
    on claims ((coalesce(checkworthiness, 0)), id) where dismissal_reason is not null;

-- a duplicate's original is looked up when the original would be deleted
create index claims_duplicate_of_idx on claims (duplicate_of) where duplicate_of is not null;
