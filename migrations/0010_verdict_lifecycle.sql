-- The verdict lifecycle: a verdict is drafted, published, corrected and withdrawn, and every
-- step is kept with who took it, when, why, and the verdict's content after it.
--
-- Until now a verdict was one row, public the moment it was given, and the claim's current
-- verdict was its newest. Now only published verdicts count: a claim's current verdict is its
-- newest published one (by publish time), and withdrawing it falls back to the one before, or
-- to unreviewed. The code keeps `claims.current_verdict_id` so, under the claim's row lock.

-- Every verdict given so far was public at once: it is published, at its first revision.
alter table verdicts
    add column state text not null default 'published'
        constraint verdicts_state_is_known check (state in ('draft', 'published', 'withdrawn')),
    -- how many contents it has published: 1 when first published, one more per correction; 0
    -- for a draft never published
    add column revision integer not null default 1 check (revision >= 0),
    -- when it was first published, and by whom (with second review on, never its author)
    add column publish_time timestamptz,
    add column publisher text,
    add column publisher_key_id uuid references api_keys (id),
    -- what ClaimReview needs besides: the fact-check article that gives it, and its headline
    add column review_url text check (length(review_url) between 1 and 2048),
    add column headline text not null default '' check (length(headline) <= 300),
    add column update_time timestamptz not null default now(),
    -- bumped on every step: the etag a client sends back to take the next one
    add column version bigint not null default 1 check (version > 0);

update verdicts
set publish_time = create_time, publisher = reviewer, publisher_key_id = reviewer_key_id,
    update_time = create_time;

alter table verdicts
    add constraint verdicts_published_ones_say_when check (
        state <> 'published' or (publish_time is not null and publisher is not null));

-- a claim's newest published verdict, which becomes its current one again after a withdrawal
create index verdicts_claim_published_idx on verdicts (claim_id, publish_time desc, id desc)
    where state = 'published';

-- Each step of a verdict's lifecycle. `content` is the verdict as it stood after the step
-- (rating, textual rating, explanation, evidence, review URL, headline, state, revision): a
-- corrected verdict's earlier revisions stay readable here. Rows are only ever inserted.
create table verdict_history (
    verdict_id uuid not null references verdicts (id) on delete cascade,
    -- 1, 2, … in the order the steps were taken
    step integer not null check (step >= 1),
    action text not null check (action in ('drafted', 'published', 'corrected', 'withdrawn')),
    -- who took it: the key's display name as it was, and the key
    actor text not null,
    actor_key_id uuid not null references api_keys (id),
    at timestamptz not null default now(),
    -- a correction's public note, a withdrawal's reason; empty for the other steps
    note text not null default '' check (length(note) <= 5000),
    -- the content's fields the step changed
    changed text[] not null default '{}',
    content jsonb not null,
    primary key (verdict_id, step),
    constraint verdict_history_notes_where_needed check (
        action not in ('corrected', 'withdrawn') or length(note) > 0)
);

-- The verdicts given so far: each one's history starts with its publication.
insert into verdict_history (verdict_id, step, action, actor, actor_key_id, at, content)
select v.id, 1, 'published', v.reviewer, v.reviewer_key_id, v.create_time,
       jsonb_build_object(
           'rating', v.rating, 'textual_rating', v.textual_rating,
           'explanation', v.explanation, 'review_url', v.review_url, 'headline', v.headline,
           'state', v.state, 'revision', v.revision,
           'evidence', coalesce((select jsonb_agg(jsonb_build_object('url', e.url, 'title', e.title)
                                                  order by e.position)
                                 from evidence_sources e where e.verdict_id = v.id), '[]'))
from verdicts v;

-- The change log learns the lifecycle's steps; a draft's creation is `verdict_created` already.
alter table changes drop constraint changes_kind_check;
alter table changes add constraint changes_kind_check check (kind in (
    'article_created', 'claim_created', 'claim_updated', 'quote_created', 'verdict_created',
    'claim_embedded', 'match_created', 'match_reviewed',
    'verdict_published', 'verdict_corrected', 'verdict_withdrawn'));

alter table changes drop constraint changes_name_their_subject;
alter table changes add constraint changes_name_their_subject check (case
    when kind = 'article_created' then article_id is not null
    when kind like 'verdict\_%' then claim_id is not null and verdict_id is not null
    else claim_id is not null
end);

create function changes_log_verdict_steps() returns trigger
language plpgsql as $$
begin
    insert into changes (kind, claim_id, verdict_id)
    select 'verdict_' || s.action, v.claim_id, s.verdict_id
    from new_rows s join verdicts v on v.id = s.verdict_id
    where s.action <> 'drafted';
    return null;
end;
$$;

create trigger verdict_history_logged
    after insert on verdict_history
    referencing new table as new_rows
    for each statement execute function changes_log_verdict_steps();
