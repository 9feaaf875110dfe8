-- Claims at scale: indexes for every way ListClaims filters and orders, and a re-check of
-- quotes that costs the same near the end of a long article as near its start.
--
-- Indexes for every way ListClaims filters and orders.
--
-- ListClaims builds its SQL for the filters it is given (article, claimant, review state,
-- rating) and its order (newest first, oldest first, or an article's text order), so that each
-- combination reads one index in the listing's order and stops after a page, instead of one
-- catch-all query that scanned the claims table by id and tested every filter on every row
-- (at 200k claims, ~37 ms of PostgreSQL CPU per call filtered by article). The indexes of
-- 0001 serve one filter each (claims_claimant_idx, claims_review_state_idx,
-- claims_current_rating_idx, quotes_article_idx); these serve the rest:
--
-- - a claimant with a review state or a rating: the claimant's claims in that state or with
--   that rating, by id;
-- - an article in text order: the article's quotes by where they start.
--
-- A rating implies the reviewed state (claims_review_state_matches_verdict), so a review state
-- beside a rating needs no index of its own. An article with other filters reads the article's
-- claims through its quotes and sifts them: an article's claims are few (CreateArticle
-- registers at most 1,000 extracted claims per article).
--
-- Built without CONCURRENTLY, inside the migration's transaction: writes to claims and quotes
-- wait while they are built (seconds at a million claims).

-- ListClaims by claimant and review state, in id order either way
create index claims_claimant_review_state_idx on claims (claimant, review_state, id desc);

-- ListClaims by claimant and rating, in id order either way; unreviewed claims have no rating
create index claims_claimant_current_rating_idx on claims (claimant, current_rating, id desc)
    where current_rating is not null;

-- ListClaims by article in the order of its text: an article's quotes by where they start,
-- ties by claim
create index quotes_article_start_idx on quotes (article_id, start_offset, claim_id);

-- The database's re-check of every quote against its article's body, once per statement
-- instead of once per row, and at a cost that does not grow with the quote's offset.
--
-- The service anchors every quote in its article before storing it; the trigger of 0001 checked
-- each row again with substr() on the body. substr() walks a UTF-8 text from its start, so a
-- quote near the end of a 1 MiB body cost ~4 ms to check, and CreateArticle's 1,000 extracted
-- claims spread over such a body ~4 s, with the transaction open. Inserting a claim's quotes,
-- or all extracted claims' quotes, is now one statement; this trigger reads each article's body
-- once per statement, visits the spans in the order of their offsets, and reads each from a
-- window of the body near it. The rule is unchanged: the text of a quote, of its speaker and of
-- its cue must be exactly the body's text at their code point offsets, or the statement fails
-- naming the same constraint as before.

drop trigger quotes_anchored_in_article on quotes;
drop function quotes_check_anchors();

create function quotes_check_anchors_of_statement() returns trigger
language plpgsql as $$
declare
    -- `rest` is the body from code point `rest_start` on; it is cut only when the spans have
    -- moved at least this far past its start, so a body is copied at most size/region times
    region constant integer := 65536;
    -- `around` is the body from `around_start` to `around_end`: at least this many code points
    -- from the span it was read for, so that the spans near it are read from it
    window_chars constant integer := 8192;
    span record;
    article uuid;
    rest text;
    rest_start integer;
    around text;
    around_start integer;
    around_end integer;
begin
    for span in
        select q.article_id, s.what, s.start_offset, s.end_offset, s.text
        from new_quotes q
        cross join lateral (values
            ('quote', q.start_offset, q.end_offset, q.text),
            ('speaker', q.speaker_start, q.speaker_end, q.speaker),
            ('cue', q.cue_start, q.cue_end, q.cue)
        ) as s (what, start_offset, end_offset, text)
        where s.text is not null
        order by q.article_id, s.start_offset
    loop
        if article is distinct from span.article_id then
            article := span.article_id;
            select body into rest from articles where id = article;
            rest_start := 0;
            around := null;
        end if;
        if around is null or span.end_offset > around_end then
            if span.start_offset - rest_start >= region then
                rest := substr(rest, span.start_offset - rest_start + 1);
                rest_start := span.start_offset;
            end if;
            around_start := span.start_offset;
            around_end := span.start_offset
                          + greatest(window_chars, span.end_offset - span.start_offset);
            around := substr(rest, around_start - rest_start + 1, around_end - around_start);
        end if;
        if substr(around, span.start_offset - around_start + 1, span.end_offset - span.start_offset)
               is distinct from span.text then
            if span.what = 'quote' then
                raise exception 'quote text is not the article''s text at [%, %)',
                    span.start_offset, span.end_offset
                    using errcode = 'check_violation', constraint = 'quotes_text_matches_article';
            elsif span.what = 'speaker' then
                raise exception 'speaker is not the article''s text at [%, %)',
                    span.start_offset, span.end_offset
                    using errcode = 'check_violation', constraint = 'quotes_speaker_matches_article';
            else
                raise exception 'cue is not the article''s text at [%, %)',
                    span.start_offset, span.end_offset
                    using errcode = 'check_violation', constraint = 'quotes_cue_matches_article';
            end if;
        end if;
    end loop;
    return null;
end;
$$;

-- after the statement, with the rows it wrote; a refused quote fails the whole statement
create trigger quotes_anchored_in_article_on_insert
    after insert on quotes
    referencing new table as new_quotes
    for each statement execute function quotes_check_anchors_of_statement();

create trigger quotes_anchored_in_article_on_update
    after update on quotes
    referencing new table as new_quotes
    for each statement execute function quotes_check_anchors_of_statement();
