-- Claims the service finds itself. The extractor registers the attributed statements of an
-- article when asked to (CreateArticle with extract_claims); such claims are marked so that
-- reviewers can tell them from those a person or a client registered, and carry the scores
-- the extractor gave them.

-- who registered the claim: a client ('manual') or the service's extractor ('extracted')
alter table claims
    add column origin text not null default 'manual'
        constraint claims_origin_is_known check (origin in ('manual', 'extracted'));

-- how worth checking the statement is, in [0, 1]: the extractor's model, for every claim
alter table claims
    add column checkworthiness real
        constraint claims_checkworthiness_is_a_probability check (checkworthiness between 0 and 1);

create index claims_origin_idx on claims (origin, id desc);

-- the name a quote's speaker refers to within its article ("the Russian leader" → "Vladimir
-- Putin"), when the extractor resolved it
alter table quotes
    add column resolved_speaker text
        constraint quotes_resolved_speaker_length check (length(resolved_speaker) between 1 and 300);
