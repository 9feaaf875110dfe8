-- A speaker's claims across articles, as one index in claim order.
--
-- ListClaims' speaker filter takes the claims whose claimant, or one of whose quotes' resolved
-- speakers, is a name in any case. 0007 served it with an index on each of the two columns and
-- gathered every claim of the speaker before ordering them: fine for a speaker with a few
-- claims, but a speaker with 50,000 took 100 ms a page at a million claims. Here each claim's
-- speakers are kept, lower-cased, in one table whose key is (speaker, claim), so a page of a
-- speaker's claims is read in claim order from where the last page ended. The claim's review
-- state and rating are copied beside them, as claims' own (claimant, state) and (claimant,
-- rating) indexes do for the claimant filter: a speaker's claims with a rating they seldom have
-- would otherwise be found by reading all of the speaker's claims.
--
-- Triggers keep it in the transaction that changes a claimant or a quote, whichever path makes
-- the change; the table is derived from claims and quotes and can be rebuilt from them.
create table claim_speakers (
    -- lower(claims.claimant) or lower(quotes.resolved_speaker)
    speaker text not null,
    claim_id uuid not null references claims (id) on delete cascade,
    -- copies of claims.review_state and claims.current_rating
    review_state text not null,
    current_rating text,
    primary key (speaker, claim_id)
);

create index claim_speakers_review_state_idx on claim_speakers (speaker, review_state, claim_id);
create index claim_speakers_current_rating_idx on claim_speakers (speaker, current_rating, claim_id)
    where current_rating is not null;

-- the claim's rows, when its speakers are recomputed or the claim goes
create index claim_speakers_claim_idx on claim_speakers (claim_id);

-- Recomputes one claim's speakers from its claimant and its quotes.
create function claim_speakers_refresh(claim uuid) returns void
language sql as $$
    delete from claim_speakers where claim_id = claim;
    insert into claim_speakers (speaker, claim_id, review_state, current_rating)
    select distinct speakers.name, c.id, c.review_state, c.current_rating
    -- a claim deleted in this statement has no row left, and gets none
    from claims c, (
        select lower(claimant) from claims where id = claim
        union all
        select lower(resolved_speaker) from quotes
        where claim_id = claim and resolved_speaker is not null
    ) as speakers (name)
    where c.id = claim;
$$;

-- A new claim: its claimant. (Its quotes arrive after it, through the quotes' trigger.)
create function claim_speakers_claim_inserted() returns trigger
language plpgsql as $$
begin
    insert into claim_speakers (speaker, claim_id, review_state, current_rating)
    values (lower(new.claimant), new.id, new.review_state, new.current_rating)
    on conflict do nothing;
    return null;
end
$$;

create trigger claim_speakers_claim_inserted
    after insert on claims
    for each row execute function claim_speakers_claim_inserted();

-- A claimant changed: the old name may still be a quote's speaker, so recompute.
create function claim_speakers_claimant_changed() returns trigger
language plpgsql as $$
begin
    perform claim_speakers_refresh(new.id);
    return null;
end
$$;

create trigger claim_speakers_claimant_changed
    after update of claimant on claims
    for each row when (old.claimant is distinct from new.claimant)
    execute function claim_speakers_claimant_changed();

-- A verdict changed the claim's state or rating: its speakers' copies follow.
create function claim_speakers_review_changed() returns trigger
language plpgsql as $$
begin
    update claim_speakers
    set review_state = new.review_state, current_rating = new.current_rating
    where claim_id = new.id;
    return null;
end
$$;

create trigger claim_speakers_review_changed
    after update of review_state, current_rating on claims
    for each row
    when (old.review_state is distinct from new.review_state
          or old.current_rating is distinct from new.current_rating)
    execute function claim_speakers_review_changed();

-- A new quote with a resolved speaker: one more name for its claim.
create function claim_speakers_quote_inserted() returns trigger
language plpgsql as $$
begin
    insert into claim_speakers (speaker, claim_id, review_state, current_rating)
    select lower(new.resolved_speaker), c.id, c.review_state, c.current_rating
    from claims c where c.id = new.claim_id
    on conflict do nothing;
    return null;
end
$$;

create trigger claim_speakers_quote_inserted
    after insert on quotes
    for each row when (new.resolved_speaker is not null)
    execute function claim_speakers_quote_inserted();

-- A quote's speaker or claim changed, or the quote went: recompute the claims it touched.
create function claim_speakers_quote_changed() returns trigger
language plpgsql as $$
begin
    if tg_op in ('UPDATE', 'DELETE') then
        perform claim_speakers_refresh(old.claim_id);
    end if;
    if tg_op = 'UPDATE' and new.claim_id <> old.claim_id then
        perform claim_speakers_refresh(new.claim_id);
    end if;
    return null;
end
$$;

create trigger claim_speakers_quote_updated
    after update of resolved_speaker, claim_id on quotes
    for each row
    when (old.resolved_speaker is distinct from new.resolved_speaker
          or old.claim_id is distinct from new.claim_id)
    execute function claim_speakers_quote_changed();

create trigger claim_speakers_quote_deleted
    after delete on quotes
    for each row execute function claim_speakers_quote_changed();

-- The claims and quotes there are.
insert into claim_speakers (speaker, claim_id, review_state, current_rating)
select speakers.name, c.id, c.review_state, c.current_rating
from (
    select lower(claimant), id from claims
    union
    select lower(resolved_speaker), claim_id from quotes where resolved_speaker is not null
) as speakers (name, claim_id)
join claims c on c.id = speakers.claim_id;

-- 0007's two indexes served only the speaker filter.
drop index claims_lower_claimant_idx;
drop index quotes_lower_resolved_speaker_idx;
