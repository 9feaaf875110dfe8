-- Two identities made firmer.
--
-- A request id belongs to the caller that sent it: the same id from two API keys is two
-- requests, and a key can never read back what another key's request made by replaying its id.
--
-- A key's display name names one key for all time, revoked or not, because verdicts record it as
-- their reviewer: reusing the name of a revoked key would make two people's verdicts look like
-- one person's.

-- the key that sent the request; rows written before this migration have none, and so can no
-- longer be matched by any caller (they are kept, but a retry of such a request acts again)
alter table idempotent_requests
    add column key_id uuid references api_keys (id);

alter table idempotent_requests drop constraint idempotent_requests_pkey;

create unique index idempotent_requests_key_request_key
    on idempotent_requests (key_id, request_id);

-- Revoked keys that share a display name with a newer key get a suffix from their id, so that
-- names can become unique. Verdicts keep the name as it was when they were given (their
-- `reviewer` is a copy); their `reviewer_key_id` always told the keys apart.
with ranked as (
    select id,
           row_number() over (
               partition by display_name
               order by (revoke_time is null) desc, create_time desc, id desc
           ) as rank
    from api_keys
)
update api_keys k
set display_name = left(k.display_name, 91) || '-' || left(k.id::text, 8)
from ranked r
where r.id = k.id and r.rank > 1;

drop index api_keys_active_display_name_key;

create unique index api_keys_display_name_key on api_keys (display_name);
