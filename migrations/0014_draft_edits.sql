-- Editing a draft: before a draft is published, its author or another reviewer may rewrite it
-- (UpdateVerdict). Each edit is a step of the verdict's history, with the fields it changed and
-- the draft as it stood after, and a change in the log (so the event stream shows it). With
-- second review on, no one who wrote a draft (drafted or edited it) may publish it.

alter table verdict_history drop constraint verdict_history_action_check;
alter table verdict_history add constraint verdict_history_action_check
    check (action in ('drafted', 'published', 'corrected', 'withdrawn', 'edited'));

alter table changes drop constraint changes_kind_check;
alter table changes add constraint changes_kind_check check (kind in (
    'article_created', 'claim_created', 'claim_updated', 'quote_created', 'verdict_created',
    'claim_embedded', 'match_created', 'match_reviewed',
    'verdict_published', 'verdict_corrected', 'verdict_withdrawn', 'verdict_edited'));

-- who wrote a draft, asked when it is published with second review on
create index verdict_history_writers_idx on verdict_history (verdict_id, actor_key_id)
    where action in ('drafted', 'edited');
