-- Revisions: a URL whose article changed (a correction, an update, a new headline's body) is
-- registered again with its new body. Each body stays an article of its own, so every quote
-- stays anchored to the exact text it was made on; the articles of one canonical URL are its
-- revisions, numbered from 1 in the order they were registered, each naming the one before.

alter table articles
    add column revision integer not null default 1
        constraint articles_revision_is_positive check (revision >= 1),
    add column previous_revision_id uuid
        constraint articles_previous_revision_fkey references articles (id);

-- Articles registered before this migration: one URL's bodies numbered by registration time.
with numbered as (
    select id,
           row_number() over w as revision,
           lag(id) over w as previous
    from articles
    window w as (partition by canonical_url order by create_time, id)
)
update articles a
set revision = n.revision, previous_revision_id = n.previous
from numbered n
where n.id = a.id and n.revision > 1;

-- one article per revision number of a URL; also the index that finds a URL's latest revision
alter table articles
    add constraint articles_canonical_url_revision_key unique (canonical_url, revision);

-- A revision's place in its URL's history never changes, like its body.
create or replace function articles_refuse_body_change() returns trigger
language plpgsql as $$
begin
    if new.body is distinct from old.body
       or new.body_sha256 is distinct from old.body_sha256
       or new.canonical_url is distinct from old.canonical_url
       or new.revision is distinct from old.revision
       or new.previous_revision_id is distinct from old.previous_revision_id then
        raise exception 'an article''s body, canonical url and revision never change'
            using errcode = 'integrity_constraint_violation';
    end if;
    return new;
end;
$$;
