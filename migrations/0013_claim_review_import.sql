-- ClaimReview import: claims and published verdicts of other fact-checking organisations, read
-- from their schema.org ClaimReview JSON-LD, so that claim matching finds what they checked.
--
-- An imported claim has no quote: the registry never held the article it was made in, only the
-- addresses where it appeared, which its review names. Its origin says so. An imported review
-- is a published verdict of its claim like any other (so listings, the claim's current verdict,
-- the change log and the event stream treat it as one), plus a row here with what ClaimReview
-- says that a verdict does not hold: who reviewed it, where the claim appeared, when it was
-- made. The review's URL is its identity: importing it again finds this row, and changes
-- nothing unless the review changed.

alter table claims drop constraint claims_origin_is_known;
alter table claims add constraint claims_origin_is_known
    check (origin in ('manual', 'extracted', 'imported'));

-- An imported review may carry no text of its own (ClaimReview's reviewBody is optional): its
-- explanation may be empty. The API still requires one of the desk's reviewers.
alter table verdicts drop constraint verdicts_explanation_check;
alter table verdicts add constraint verdicts_explanation_check
    check (length(explanation) <= 20000);

create table imported_reviews (
    -- the verdict the review became; one review, one verdict
    verdict_id uuid primary key references verdicts (id) on delete cascade,
    -- the review's url, as given: importing the same url again updates or skips this review
    review_url text not null unique check (length(review_url) between 1 and 2048),
    -- what the registry read from it besides the verdict and the claim, as the import wrote it:
    -- {"author": {"name", "url"}, "claim_date", "appearances": [{"url", "publisher", "date"}]},
    -- the first appearance first; the export writes these back as they came
    source jsonb not null,
    -- who imported it: the name of the API key, as verdicts keep their reviewer, and the key
    imported_by text not null,
    imported_by_key_id uuid not null references api_keys (id),
    import_time timestamptz not null default now(),
    -- when a later import last changed it
    update_time timestamptz not null default now()
);

-- An import looks up whether a review's URL is one of the desk's own verdicts, which it leaves
-- alone.
create index verdicts_review_url_idx on verdicts (review_url) where review_url is not null;

-- ListClaimReviews and `export claimreview`: the published verdicts with a review URL, newest
-- publication first (imported reviews keep their organisation's publication date, so a
-- registry that imported an export lists it in the same order).
create index verdicts_claim_reviews_idx on verdicts (publish_time desc, id desc)
    where state = 'published' and review_url is not null;
