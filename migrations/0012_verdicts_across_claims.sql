-- Verdicts across claims: ListVerdicts with the parent `claims/-` lists every claim's verdicts,
-- newest first (by id), filtered by reviewer, rating, state and the time they were given; a
-- reviewer's or an editor's view of the work done. Each filter has an index in the listing's
-- order, so that a page reads about a page of rows however many verdicts there are; a time
-- range reads the primary key between the ids it allows (ids are UUIDv7s, which lead with the
-- millisecond they were made in). Other filters given together are sifted from the rows the
-- first one reads.

-- a reviewer's verdicts, newest first: the key's name as it was when the verdict was given
create index verdicts_reviewer_idx on verdicts (reviewer, id desc);

-- the verdicts with a rating, newest first
create index verdicts_rating_idx on verdicts (rating, id desc);

-- the verdicts in a state (drafts waiting for publication, withdrawn ones), newest first
create index verdicts_state_idx on verdicts (state, id desc);
