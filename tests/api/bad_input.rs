//! Bad input, every RPC: each case sends one malformed request (typed fields, raw protobuf bytes
//! or raw HTTP/2 framing) and checks the status code, the field or reason it names, and that no
//! table changed. None may come back INTERNAL: whatever a client sends is the client's to fix.

use claim_registry::api::proto::{
    self, ApiKey, Claim, CreateApiKeyRequest, CreateArticleRequest, CreateClaimRequest,
    CreateVerdictRequest, DismissClaimRequest, DismissalReason, EvidenceSource,
    ExtractClaimsRequest, GetArticleRequest, GetClaimRequest, ListApiKeysRequest,
    ListArticlesRequest, ListClaimsRequest, ListVerdictsRequest, RestoreClaimRequest,
    RevokeApiKeyRequest, SearchClaimsRequest, TextSpan, UpdateClaimRequest, Verdict,
    WatchEventsRequest,
};
use claim_registry::domain::Role;
use prost::Message;
use tonic::Code;
use tonic_types::StatusExt;

use crate::helpers::{SAMPLE_QUOTE, article_request, frame, quote, spawn_app};

const GRPC: &str = "application/grpc";
const MISSING: &str = "articles/0190d8a0-0000-7000-8000-000000000000";

/// One malformed request and what the server must answer.
struct Case {
    name: String,
    method: &'static str,
    content_type: &'static str,
    role: Option<Role>,
    body: Vec<u8>,
    code: Code,
    /// Every field the BadRequest detail must name.
    fields: Vec<String>,
    /// Words the message must hold, when no field is named.
    says: Option<&'static str>,
    /// The HTTP status: 200 for every gRPC reply, 415 for a request that is not gRPC.
    http: u16,
}

fn typed<M: Message>(
    name: &str,
    method: &'static str,
    role: Role,
    message: M,
    fields: &[&str],
) -> Case {
    Case {
        name: name.to_owned(),
        method,
        content_type: GRPC,
        role: Some(role),
        body: frame(&message.encode_to_vec()),
        code: Code::InvalidArgument,
        fields: fields.iter().map(|f| f.to_string()).collect(),
        says: None,
        http: 200,
    }
}

fn raw(name: &str, method: &'static str, body: Vec<u8>, code: Code, says: &'static str) -> Case {
    Case {
        name: name.to_owned(),
        method,
        content_type: GRPC,
        role: Some(Role::Admin),
        body,
        code,
        fields: Vec::new(),
        says: Some(says),
        http: 200,
    }
}

/// A claim and an article the cases can point at.
struct Fixtures {
    article: proto::Article,
    claim: Claim,
}

const CREATE_ARTICLE: &str = "/factcheck.v1.ArticleService/CreateArticle";
const GET_ARTICLE: &str = "/factcheck.v1.ArticleService/GetArticle";
const LIST_ARTICLES: &str = "/factcheck.v1.ArticleService/ListArticles";
const CREATE_CLAIM: &str = "/factcheck.v1.ClaimService/CreateClaim";
const GET_CLAIM: &str = "/factcheck.v1.ClaimService/GetClaim";
const LIST_CLAIMS: &str = "/factcheck.v1.ClaimService/ListClaims";
const UPDATE_CLAIM: &str = "/factcheck.v1.ClaimService/UpdateClaim";
const CREATE_VERDICT: &str = "/factcheck.v1.ClaimService/CreateVerdict";
const LIST_VERDICTS: &str = "/factcheck.v1.ClaimService/ListVerdicts";
const EXTRACT_CLAIMS: &str = "/factcheck.v1.ClaimService/ExtractClaims";
const CREATE_API_KEY: &str = "/factcheck.v1.ApiKeyService/CreateApiKey";
const LIST_API_KEYS: &str = "/factcheck.v1.ApiKeyService/ListApiKeys";
const REVOKE_API_KEY: &str = "/factcheck.v1.ApiKeyService/RevokeApiKey";
const WATCH_EVENTS: &str = "/factcheck.v1.EventService/WatchEvents";
const GET_VERDICT: &str = "/factcheck.v1.ClaimService/GetVerdict";
const PUBLISH_VERDICT: &str = "/factcheck.v1.ClaimService/PublishVerdict";
const UPDATE_VERDICT: &str = "/factcheck.v1.ClaimService/UpdateVerdict";
const CORRECT_VERDICT: &str = "/factcheck.v1.ClaimService/CorrectVerdict";
const WITHDRAW_VERDICT: &str = "/factcheck.v1.ClaimService/WithdrawVerdict";
const LIST_VERDICT_HISTORY: &str = "/factcheck.v1.ClaimService/ListVerdictHistory";
const SEARCH_CLAIMS: &str = "/factcheck.v1.ClaimService/SearchClaims";

const DISMISS_CLAIM: &str = "/factcheck.v1.ClaimService/DismissClaim";
const RESTORE_CLAIM: &str = "/factcheck.v1.ClaimService/RestoreClaim";

const LIST_CLAIM_REVIEWS: &str = "/factcheck.v1.ClaimService/ListClaimReviews";
const IMPORT_CLAIM_REVIEWS: &str = "/factcheck.v1.ClaimService/ImportClaimReviews";
const GET_CLAIM_REVIEW: &str = "/factcheck.v1.ClaimService/GetClaimReview";
const ADD_QUOTE: &str = "/factcheck.v1.ClaimService/AddQuote";
const LIST_CLAIM_MATCHES: &str = "/factcheck.v1.ClaimService/ListClaimMatches";
const REVIEW_CLAIM_MATCHES: &str = "/factcheck.v1.ClaimService/ReviewClaimMatches";

/// Every method of the API: the wire and framing cases send each of them garbage.
const METHODS: [&str; 29] = [
    CREATE_ARTICLE,
    GET_ARTICLE,
    LIST_ARTICLES,
    CREATE_CLAIM,
    GET_CLAIM,
    LIST_CLAIMS,
    UPDATE_CLAIM,
    CREATE_VERDICT,
    LIST_VERDICTS,
    EXTRACT_CLAIMS,
    CREATE_API_KEY,
    LIST_API_KEYS,
    REVOKE_API_KEY,
    WATCH_EVENTS,
    GET_VERDICT,
    PUBLISH_VERDICT,
    UPDATE_VERDICT,
    CORRECT_VERDICT,
    WITHDRAW_VERDICT,
    LIST_VERDICT_HISTORY,
    LIST_CLAIM_REVIEWS,
    IMPORT_CLAIM_REVIEWS,
    DISMISS_CLAIM,
    RESTORE_CLAIM,
    SEARCH_CLAIMS,
    GET_CLAIM_REVIEW,
    ADD_QUOTE,
    LIST_CLAIM_MATCHES,
    REVIEW_CLAIM_MATCHES,
];

fn article_cases() -> Vec<Case> {
    let new = || article_request("https://example.com/new", "A body.");
    let with = |name: &str, change: &dyn Fn(&mut CreateArticleRequest), fields: &[&str]| {
        let mut request = new();
        change(&mut request);
        typed(name, CREATE_ARTICLE, Role::Submitter, request, fields)
    };
    let mut cases = vec![
        with("no article", &|r| r.article = None, &["article"]),
        with("empty url", &|r| a(r).url = String::new(), &["article.url"]),
        with(
            "ftp url",
            &|r| a(r).url = "ftp://example.com/a".into(),
            &["article.url"],
        ),
        with(
            "relative url",
            &|r| a(r).url = "/news/a".into(),
            &["article.url"],
        ),
        with(
            "url without host",
            &|r| a(r).url = "https://".into(),
            &["article.url"],
        ),
        with(
            "url too long",
            &|r| a(r).url = format!("https://e.com/{}", "a".repeat(2100)),
            &["article.url"],
        ),
        with(
            "nul in url",
            &|r| a(r).url = "https://example.com/\0".into(),
            &["article.url"],
        ),
        with(
            "empty title",
            &|r| a(r).title = " ".into(),
            &["article.title"],
        ),
        with(
            "title too long",
            &|r| a(r).title = "t".repeat(1001),
            &["article.title"],
        ),
        with(
            "nul in title",
            &|r| a(r).title = "a\0".into(),
            &["article.title"],
        ),
        with(
            "empty publisher",
            &|r| a(r).publisher = String::new(),
            &["article.publisher"],
        ),
        with(
            "publisher too long",
            &|r| a(r).publisher = "p".repeat(301),
            &["article.publisher"],
        ),
        with(
            "nul in publisher",
            &|r| a(r).publisher = "\0".into(),
            &["article.publisher"],
        ),
        with(
            "blank author",
            &|r| a(r).authors = vec!["ok".into(), " ".into()],
            &["article.authors[1]"],
        ),
        with(
            "nul in author",
            &|r| a(r).authors = vec!["a\0b".into()],
            &["article.authors[0]"],
        ),
        with(
            "too many authors",
            &|r| a(r).authors = vec!["x".into(); 101],
            &["article.authors"],
        ),
        with(
            "empty language",
            &|r| a(r).language_code = String::new(),
            &["article.language_code"],
        ),
        with(
            "bad language",
            &|r| a(r).language_code = "english!".into(),
            &["article.language_code"],
        ),
        with(
            "nul in language",
            &|r| a(r).language_code = "e\0n".into(),
            &["article.language_code"],
        ),
        with(
            "negative nanos",
            &|r| {
                a(r).publish_time = Some(prost_types::Timestamp {
                    seconds: 0,
                    nanos: -1,
                })
            },
            &["article.publish_time"],
        ),
        with(
            "year past 9999",
            &|r| {
                a(r).publish_time = Some(prost_types::Timestamp {
                    seconds: 253_402_300_800,
                    nanos: 0,
                })
            },
            &["article.publish_time"],
        ),
        with(
            "empty body",
            &|r| a(r).body = String::new(),
            &["article.body"],
        ),
        with(
            "blank body",
            &|r| a(r).body = " \n\t".into(),
            &["article.body"],
        ),
        with(
            "nul in body",
            &|r| a(r).body = "Text\0more".into(),
            &["article.body"],
        ),
        with(
            "body over 1 MiB",
            &|r| a(r).body = "b".repeat(1024 * 1024 + 1),
            &["article.body"],
        ),
        with(
            "request id not a uuid",
            &|r| r.request_id = "retry-1".into(),
            &["request_id"],
        ),
        with(
            "nul in request id",
            &|r| r.request_id = "\0".into(),
            &["request_id"],
        ),
        with(
            "every field bad at once",
            &|r| {
                let a = a(r);
                a.url = "ftp://example.com/x".into();
                a.title = String::new();
                a.publisher = String::new();
                a.body = String::new();
                a.language_code = "!!".into();
            },
            &[
                "article.url",
                "article.title",
                "article.publisher",
                "article.body",
                "article.language_code",
            ],
        ),
    ];
    let get = |name: &str, request: GetArticleRequest, fields: &[&str]| {
        typed(name, GET_ARTICLE, Role::Reader, request, fields)
    };
    cases.extend([
        get(
            "get: empty name",
            GetArticleRequest {
                name: String::new(),
                view: 0,
            },
            &["name"],
        ),
        get(
            "get: claim name",
            GetArticleRequest {
                name: MISSING.replace("articles", "claims"),
                view: 0,
            },
            &["name"],
        ),
        get(
            "get: id not a uuid",
            GetArticleRequest {
                name: "articles/42".into(),
                view: 0,
            },
            &["name"],
        ),
        get(
            "get: nul in name",
            GetArticleRequest {
                name: "articles/\0".into(),
                view: 0,
            },
            &["name"],
        ),
        get(
            "get: unknown view",
            GetArticleRequest {
                name: MISSING.into(),
                view: 9,
            },
            &["view"],
        ),
        get(
            "get: bad name and view",
            GetArticleRequest {
                name: "x".into(),
                view: 9,
            },
            &["name", "view"],
        ),
    ]);
    let list = |name: &str, change: &dyn Fn(&mut ListArticlesRequest), fields: &[&str]| {
        let mut request = ListArticlesRequest::default();
        change(&mut request);
        typed(name, LIST_ARTICLES, Role::Reader, request, fields)
    };
    cases.extend([
        list("list: ftp url", &|r| r.url = "ftp://e.com".into(), &["url"]),
        list(
            "list: nul in url",
            &|r| r.url = "https://e.com/\0".into(),
            &["url"],
        ),
        list(
            "list: nul in publisher",
            &|r| r.publisher = "AP\0".into(),
            &["publisher"],
        ),
        list(
            "list: negative page size",
            &|r| r.page_size = -1,
            &["page_size"],
        ),
        list(
            "list: forged page token",
            &|r| r.page_token = "abc".into(),
            &["page_token"],
        ),
        list(
            "list: nul in page token",
            &|r| r.page_token = "\0".into(),
            &["page_token"],
        ),
        list("list: unknown view", &|r| r.view = 7, &["view"]),
        list(
            "list: several bad",
            &|r| {
                r.url = "x".into();
                r.page_size = -5;
                r.view = 7;
            },
            &["url", "page_size", "view"],
        ),
    ]);
    cases
}

fn claim_cases(f: &Fixtures) -> Vec<Case> {
    let new = || CreateClaimRequest {
        claim: Some(Claim {
            statement: "Civilian casualties are unacceptable".into(),
            claimant: "Vladimir Putin".into(),
            quotes: vec![quote(&f.article, SAMPLE_QUOTE)],
            ..Default::default()
        }),
        request_id: String::new(),
    };
    let with = |name: &str, change: &dyn Fn(&mut CreateClaimRequest), fields: &[&str]| {
        let mut request = new();
        change(&mut request);
        typed(name, CREATE_CLAIM, Role::Submitter, request, fields)
    };
    let mut cases = vec![
        with("create: no claim", &|r| r.claim = None, &["claim"]),
        with(
            "create: empty statement",
            &|r| c(r).statement = String::new(),
            &["claim.statement"],
        ),
        with(
            "create: statement too long",
            &|r| c(r).statement = "s".repeat(2001),
            &["claim.statement"],
        ),
        with(
            "create: nul in statement",
            &|r| c(r).statement = "\0".into(),
            &["claim.statement"],
        ),
        with(
            "create: empty claimant",
            &|r| c(r).claimant = " ".into(),
            &["claim.claimant"],
        ),
        with(
            "create: claimant too long",
            &|r| c(r).claimant = "c".repeat(301),
            &["claim.claimant"],
        ),
        with(
            "create: nul in claimant",
            &|r| c(r).claimant = "P\0".into(),
            &["claim.claimant"],
        ),
        with(
            "create: no quotes",
            &|r| c(r).quotes.clear(),
            &["claim.quotes"],
        ),
        with(
            "create: 51 quotes",
            &|r| {
                let one = c(r).quotes[0].clone();
                c(r).quotes = vec![one; 51];
            },
            &["claim.quotes"],
        ),
        with(
            "create: empty quote article",
            &|r| q(r).article = String::new(),
            &["claim.quotes[0].article"],
        ),
        with(
            "create: quote article of another kind",
            &|r| q(r).article = MISSING.replace("articles", "claims"),
            &["claim.quotes[0].article"],
        ),
        with(
            "create: nul in quote article",
            &|r| q(r).article = "\0".into(),
            &["claim.quotes[0].article"],
        ),
        with(
            "create: empty quote text",
            &|r| q(r).text = String::new(),
            &["claim.quotes[0].text"],
        ),
        with(
            "create: quote text too long",
            &|r| q(r).text = "q".repeat(10_001),
            &["claim.quotes[0].text"],
        ),
        with(
            "create: nul in quote text",
            &|r| q(r).text = "The main\0".into(),
            &["claim.quotes[0].text"],
        ),
        with(
            "create: quote text not in the article",
            &|r| q(r).text = "Nobody said this".into(),
            &["claim.quotes[0].text"],
        ),
        with(
            "create: empty speaker",
            &|r| q(r).speaker = String::new(),
            &["claim.quotes[0].speaker"],
        ),
        with(
            "create: nul in speaker",
            &|r| q(r).speaker = "Pu\0tin".into(),
            &["claim.quotes[0].speaker"],
        ),
        with(
            "create: nul in cue",
            &|r| q(r).cue = "sa\0id".into(),
            &["claim.quotes[0].cue"],
        ),
        with(
            "create: no kind",
            &|r| q(r).kind = 0,
            &["claim.quotes[0].kind"],
        ),
        with(
            "create: unknown kind",
            &|r| q(r).kind = 42,
            &["claim.quotes[0].kind"],
        ),
        with(
            "create: span ends before it starts",
            &|r| q(r).span = Some(TextSpan { start: 9, end: 3 }),
            &["claim.quotes[0].span"],
        ),
        with(
            "create: empty span",
            &|r| q(r).span = Some(TextSpan { start: 3, end: 3 }),
            &["claim.quotes[0].span"],
        ),
        with(
            "create: speaker span reversed",
            &|r| q(r).speaker_span = Some(TextSpan { start: 9, end: 1 }),
            &["claim.quotes[0].speaker_span"],
        ),
        with(
            "create: cue span reversed",
            &|r| q(r).cue_span = Some(TextSpan { start: 9, end: 1 }),
            &["claim.quotes[0].cue_span"],
        ),
        with(
            "create: span past the body",
            &|r| {
                q(r).span = Some(TextSpan {
                    start: 10_000,
                    end: 10_043,
                })
            },
            &["claim.quotes[0].span"],
        ),
        with(
            "create: request id not a uuid",
            &|r| r.request_id = "x".into(),
            &["request_id"],
        ),
        with(
            "create: bad fields in two quotes",
            &|r| {
                let mut second = c(r).quotes[0].clone();
                second.kind = 0;
                second.speaker = String::new();
                c(r).quotes.push(second);
                c(r).quotes[0].text = String::new();
                c(r).statement = String::new();
            },
            &[
                "claim.statement",
                "claim.quotes[0].text",
                "claim.quotes[1].kind",
                "claim.quotes[1].speaker",
            ],
        ),
    ];
    let get = |name: &str, n: &str| {
        typed(
            name,
            GET_CLAIM,
            Role::Reader,
            GetClaimRequest { name: n.into() },
            &["name"],
        )
    };
    cases.extend([
        get("get claim: empty name", ""),
        get("get claim: article name", MISSING),
        get("get claim: id not a uuid", "claims/1"),
        get("get claim: nul", "claims/\0"),
        get(
            "get claim: trailing segment",
            &format!("{}/x", f.claim.name),
        ),
    ]);
    let list = |name: &str, change: &dyn Fn(&mut ListClaimsRequest), fields: &[&str]| {
        let mut request = ListClaimsRequest::default();
        change(&mut request);
        typed(name, LIST_CLAIMS, Role::Reader, request, fields)
    };
    cases.extend([
        list(
            "list claims: bad article",
            &|r| r.article = "articles/x".into(),
            &["article"],
        ),
        list(
            "list claims: nul in article",
            &|r| r.article = "\0".into(),
            &["article"],
        ),
        list(
            "list claims: nul in claimant",
            &|r| r.claimant = "Putin\0".into(),
            &["claimant"],
        ),
        list(
            "list claims: unknown review state",
            &|r| r.review_state = 9,
            &["review_state"],
        ),
        list(
            "list claims: unknown rating",
            &|r| r.rating = 99,
            &["rating"],
        ),
        list(
            "list claims: negative page size",
            &|r| r.page_size = -10,
            &["page_size"],
        ),
        list(
            "list claims: forged page token",
            &|r| r.page_token = "AAAA".into(),
            &["page_token"],
        ),
        list(
            "list claims: unknown dismissal",
            &|r| r.dismissal = 9,
            &["dismissal"],
        ),
        list(
            "list claims: several bad",
            &|r| {
                r.article = "a".into();
                r.rating = 99;
                r.review_state = 9;
                r.page_size = -1;
            },
            &["article", "rating", "review_state", "page_size"],
        ),
    ]);
    let update = |name: &str, change: &dyn Fn(&mut UpdateClaimRequest), fields: &[&str]| {
        let mut request = UpdateClaimRequest {
            claim: Some(Claim {
                name: f.claim.name.clone(),
                etag: f.claim.etag.clone(),
                statement: "A new statement".into(),
                ..Default::default()
            }),
            update_mask: Some(prost_types::FieldMask {
                paths: vec!["statement".into()],
            }),
        };
        change(&mut request);
        typed(name, UPDATE_CLAIM, Role::Submitter, request, fields)
    };
    cases.extend([
        update("update: no claim", &|r| r.claim = None, &["claim"]),
        update(
            "update: bad name",
            &|r| uc(r).name = "claims/zz".into(),
            &["claim.name"],
        ),
        update(
            "update: nul in name",
            &|r| uc(r).name = "\0".into(),
            &["claim.name"],
        ),
        update(
            "update: bad etag",
            &|r| uc(r).etag = "W/x".into(),
            &["claim.etag"],
        ),
        update(
            "update: nul in etag",
            &|r| uc(r).etag = "\0".into(),
            &["claim.etag"],
        ),
        update(
            "update: empty statement",
            &|r| uc(r).statement = String::new(),
            &["claim.statement"],
        ),
        update(
            "update: nul in statement",
            &|r| uc(r).statement = "a\0".into(),
            &["claim.statement"],
        ),
        update(
            "update: nul in claimant",
            &|r| {
                uc(r).claimant = "\0".into();
                r.update_mask = None;
            },
            &["claim.claimant"],
        ),
        update(
            "update: unknown path",
            &|r| r.update_mask.as_mut().unwrap().paths = vec!["quotes".into()],
            &["update_mask.paths[0]"],
        ),
        update(
            "update: nul in a path",
            &|r| r.update_mask.as_mut().unwrap().paths = vec!["state\0ment".into()],
            &["update_mask.paths[0]"],
        ),
        update(
            "update: empty mask and fields",
            &|r| {
                r.update_mask = None;
                uc(r).statement = String::new();
            },
            &["update_mask"],
        ),
        update(
            "update: several bad",
            &|r| {
                uc(r).name = "x".into();
                uc(r).etag = "y".into();
                uc(r).statement = String::new();
            },
            &["claim.name", "claim.etag", "claim.statement"],
        ),
    ]);
    cases
}

fn triage_cases(f: &Fixtures) -> Vec<Case> {
    let new = || DismissClaimRequest {
        name: f.claim.name.clone(),
        reason: DismissalReason::NotAClaim.into(),
        ..Default::default()
    };
    let with = |name: &str, change: &dyn Fn(&mut DismissClaimRequest), fields: &[&str]| {
        let mut request = new();
        change(&mut request);
        typed(name, DISMISS_CLAIM, Role::Reviewer, request, fields)
    };
    let restore = |name: &str, change: &dyn Fn(&mut RestoreClaimRequest), fields: &[&str]| {
        let mut request = RestoreClaimRequest {
            name: f.claim.name.clone(),
            ..Default::default()
        };
        change(&mut request);
        typed(name, RESTORE_CLAIM, Role::Reviewer, request, fields)
    };
    vec![
        with(
            "dismiss: empty name",
            &|r| r.name = String::new(),
            &["name"],
        ),
        with(
            "dismiss: an article as name",
            &|r| r.name = MISSING.into(),
            &["name"],
        ),
        with("dismiss: no reason", &|r| r.reason = 0, &["reason"]),
        with(
            "dismiss: an unknown reason",
            &|r| r.reason = 99,
            &["reason"],
        ),
        with(
            "dismiss: a duplicate without duplicate_of",
            &|r| r.reason = DismissalReason::Duplicate.into(),
            &["duplicate_of"],
        ),
        with(
            "dismiss: a malformed duplicate_of",
            &|r| {
                r.reason = DismissalReason::Duplicate.into();
                r.duplicate_of = "claims/nope".into();
            },
            &["duplicate_of"],
        ),
        with(
            "dismiss: a note too long",
            &|r| r.note = "n".repeat(2001),
            &["note"],
        ),
        with(
            "dismiss: a garbage etag",
            &|r| r.etag = "W/1".into(),
            &["etag"],
        ),
        with(
            "dismiss: a request_id that is not a UUID",
            &|r| r.request_id = "retry-1".into(),
            &["request_id"],
        ),
        with(
            "dismiss: everything wrong at once",
            &|r| {
                r.name = String::new();
                r.reason = 0;
                r.note = "n".repeat(2001);
                r.etag = "x".into();
            },
            &["name", "reason", "note", "etag"],
        ),
        restore(
            "restore: empty name",
            &|r| r.name = String::new(),
            &["name"],
        ),
        restore(
            "restore: a garbage etag and name",
            &|r| {
                r.name = MISSING.into();
                r.etag = "-3".into();
            },
            &["name", "etag"],
        ),
        restore(
            "restore: a request_id that is not a UUID",
            &|r| r.request_id = "again".into(),
            &["request_id"],
        ),
    ]
}

fn search_cases() -> Vec<Case> {
    let search = |name: &str, change: &dyn Fn(&mut SearchClaimsRequest), fields: &[&str]| {
        let mut request = SearchClaimsRequest {
            query: "stop the bloodshed".into(),
            ..Default::default()
        };
        change(&mut request);
        typed(name, SEARCH_CLAIMS, Role::Reader, request, fields)
    };
    vec![
        search("search: empty query", &|r| r.query = " ".into(), &["query"]),
        search(
            "search: unknown review state",
            &|r| r.review_state = 9,
            &["review_state"],
        ),
        search("search: unknown rating", &|r| r.rating = 99, &["rating"]),
        search(
            "search: unknown dismissal",
            &|r| r.dismissal = 9,
            &["dismissal"],
        ),
        search(
            "search: negative page size",
            &|r| r.page_size = -1,
            &["page_size"],
        ),
        search(
            "search: several bad",
            &|r| {
                r.query = String::new();
                r.rating = 99;
                r.dismissal = -1;
                r.article = "articles/x".into();
            },
            &["query", "rating", "dismissal", "article"],
        ),
    ]
}

fn verdict_cases(f: &Fixtures) -> Vec<Case> {
    let new = || CreateVerdictRequest {
        parent: f.claim.name.clone(),
        verdict: Some(Verdict {
            rating: proto::Rating::False.into(),
            explanation: "The record says otherwise.".into(),
            evidence: vec![EvidenceSource {
                url: "https://example.org/record".into(),
                title: "Record".into(),
            }],
            ..Default::default()
        }),
        request_id: String::new(),
    };
    let with = |name: &str, change: &dyn Fn(&mut CreateVerdictRequest), fields: &[&str]| {
        let mut request = new();
        change(&mut request);
        typed(name, CREATE_VERDICT, Role::Reviewer, request, fields)
    };
    let mut cases = vec![
        with(
            "verdict: empty parent",
            &|r| r.parent = String::new(),
            &["parent"],
        ),
        with(
            "verdict: article as parent",
            &|r| r.parent = MISSING.into(),
            &["parent"],
        ),
        with(
            "verdict: nul in parent",
            &|r| r.parent = "claims/\0".into(),
            &["parent"],
        ),
        with("verdict: no verdict", &|r| r.verdict = None, &["verdict"]),
        with(
            "verdict: no rating",
            &|r| v(r).rating = 0,
            &["verdict.rating"],
        ),
        with(
            "verdict: unknown rating",
            &|r| v(r).rating = 77,
            &["verdict.rating"],
        ),
        with(
            "verdict: empty explanation",
            &|r| v(r).explanation = " ".into(),
            &["verdict.explanation"],
        ),
        with(
            "verdict: explanation too long",
            &|r| v(r).explanation = "e".repeat(20_001),
            &["verdict.explanation"],
        ),
        with(
            "verdict: nul in explanation",
            &|r| v(r).explanation = "\0".into(),
            &["verdict.explanation"],
        ),
        with(
            "verdict: textual rating too long",
            &|r| v(r).textual_rating = "t".repeat(101),
            &["verdict.textual_rating"],
        ),
        with(
            "verdict: nul in textual rating",
            &|r| v(r).textual_rating = "Pants\0".into(),
            &["verdict.textual_rating"],
        ),
        with(
            "verdict: evidence url ftp",
            &|r| v(r).evidence[0].url = "ftp://e.org".into(),
            &["verdict.evidence[0].url"],
        ),
        with(
            "verdict: evidence url empty",
            &|r| v(r).evidence[0].url = String::new(),
            &["verdict.evidence[0].url"],
        ),
        with(
            "verdict: nul in evidence url",
            &|r| v(r).evidence[0].url = "https://e.org/\0".into(),
            &["verdict.evidence[0].url"],
        ),
        with(
            "verdict: nul in evidence title",
            &|r| v(r).evidence[0].title = "\0".into(),
            &["verdict.evidence[0].title"],
        ),
        with(
            "verdict: evidence title too long",
            &|r| v(r).evidence[0].title = "t".repeat(1001),
            &["verdict.evidence[0].title"],
        ),
        with(
            "verdict: 51 sources",
            &|r| {
                let one = v(r).evidence[0].clone();
                v(r).evidence = vec![one; 51];
            },
            &["verdict.evidence"],
        ),
        with(
            "verdict: request id not a uuid",
            &|r| r.request_id = "1".into(),
            &["request_id"],
        ),
        with(
            "verdict: several bad",
            &|r| {
                r.parent = "x".into();
                v(r).rating = 0;
                v(r).explanation = String::new();
                v(r).evidence[0].url = "mailto:a@b".into();
            },
            &[
                "parent",
                "verdict.rating",
                "verdict.explanation",
                "verdict.evidence[0].url",
            ],
        ),
    ];
    let list = |name: &str, change: &dyn Fn(&mut ListVerdictsRequest), fields: &[&str]| {
        let mut request = ListVerdictsRequest {
            parent: f.claim.name.clone(),
            ..Default::default()
        };
        change(&mut request);
        typed(name, LIST_VERDICTS, Role::Reader, request, fields)
    };
    cases.extend([
        list(
            "list verdicts: empty parent",
            &|r| r.parent = String::new(),
            &["parent"],
        ),
        list(
            "list verdicts: nul in parent",
            &|r| r.parent = "\0".into(),
            &["parent"],
        ),
        list(
            "list verdicts: negative page size",
            &|r| r.page_size = -1,
            &["page_size"],
        ),
        list(
            "list verdicts: forged token",
            &|r| r.page_token = "nope".into(),
            &["page_token"],
        ),
        list(
            "list verdicts: several bad",
            &|r| {
                r.parent = "y".into();
                r.page_size = -2;
            },
            &["parent", "page_size"],
        ),
    ]);
    let extract = |name: &str, text: String| {
        typed(
            name,
            EXTRACT_CLAIMS,
            Role::Reader,
            ExtractClaimsRequest { text },
            &["text"],
        )
    };
    cases.extend([
        extract("extract: empty text", String::new()),
        extract("extract: blank text", "   ".into()),
        extract("extract: nul in text", "“Yes,” he\0 said.".into()),
        extract("extract: text over 1 MiB", "x".repeat(1024 * 1024 + 1)),
    ]);
    cases
}

fn key_cases() -> Vec<Case> {
    let create = |name: &str, display_name: &str, role: i32, fields: &[&str]| {
        let request = CreateApiKeyRequest {
            api_key: Some(ApiKey {
                display_name: display_name.into(),
                role,
                ..Default::default()
            }),
        };
        typed(name, CREATE_API_KEY, Role::Admin, request, fields)
    };
    let reader = proto::Role::Reader as i32;
    vec![
        typed(
            "key: no key",
            CREATE_API_KEY,
            Role::Admin,
            CreateApiKeyRequest { api_key: None },
            &["api_key"],
        ),
        create("key: empty name", "", reader, &["api_key.display_name"]),
        create(
            "key: name with a space",
            "two words",
            reader,
            &["api_key.display_name"],
        ),
        create(
            "key: name too long",
            &"n".repeat(101),
            reader,
            &["api_key.display_name"],
        ),
        create("key: nul in name", "a\0", reader, &["api_key.display_name"]),
        create("key: no role", "ok-name", 0, &["api_key.role"]),
        create("key: unknown role", "ok-name", 12, &["api_key.role"]),
        create(
            "key: name and role bad",
            "a b",
            12,
            &["api_key.display_name", "api_key.role"],
        ),
        typed(
            "keys: negative page size",
            LIST_API_KEYS,
            Role::Admin,
            ListApiKeysRequest {
                page_size: -1,
                page_token: String::new(),
            },
            &["page_size"],
        ),
        typed(
            "keys: forged token",
            LIST_API_KEYS,
            Role::Admin,
            ListApiKeysRequest {
                page_size: 0,
                page_token: "zz".into(),
            },
            &["page_token"],
        ),
        typed(
            "revoke: empty name",
            REVOKE_API_KEY,
            Role::Admin,
            RevokeApiKeyRequest {
                name: String::new(),
            },
            &["name"],
        ),
        typed(
            "revoke: nul in name",
            REVOKE_API_KEY,
            Role::Admin,
            RevokeApiKeyRequest {
                name: "apiKeys/\0".into(),
            },
            &["name"],
        ),
        typed(
            "revoke: id not a uuid",
            REVOKE_API_KEY,
            Role::Admin,
            RevokeApiKeyRequest {
                name: "apiKeys/alice".into(),
            },
            &["name"],
        ),
    ]
}

/// Bytes no protobuf decoder accepts as the method's request, each for its own reason.
/// A well-formed verdict name that names no verdict.
const SOME_VERDICT: &str =
    "claims/0190a5b2-0000-7000-8000-000000000001/verdicts/0190a5b2-0000-7000-8000-000000000002";

fn desk_cases() -> Vec<Case> {
    let list = |name: &str, request: proto::ListClaimReviewsRequest, fields: &[&str]| {
        typed(name, LIST_CLAIM_REVIEWS, Role::Reader, request, fields)
    };
    let import = |name: &str, document: Option<prost_types::Value>| {
        let request = proto::ImportClaimReviewsRequest { document };
        typed(
            name,
            IMPORT_CLAIM_REVIEWS,
            Role::Reviewer,
            request,
            &["document"],
        )
    };
    let null = prost_types::Value {
        kind: Some(prost_types::value::Kind::NullValue(0)),
    };
    // a review of 1,001 in one call: only its count matters, so each is an empty object
    let many = prost_types::Value {
        kind: Some(prost_types::value::Kind::ListValue(
            prost_types::ListValue {
                values: vec![
                    prost_types::Value {
                        kind: Some(prost_types::value::Kind::StructValue(Default::default())),
                    };
                    1001
                ],
            },
        )),
    };
    vec![
        list(
            "a negative page size of claim reviews",
            proto::ListClaimReviewsRequest {
                page_size: -1,
                ..Default::default()
            },
            &["page_size"],
        ),
        list(
            "a claim reviews page token that is not ours",
            proto::ListClaimReviewsRequest {
                page_token: "not-a-token".into(),
                ..Default::default()
            },
            &["page_token"],
        ),
        import("an import without a document", None),
        typed(
            "a publication's request id that is not a UUID",
            PUBLISH_VERDICT,
            Role::Reviewer,
            proto::PublishVerdictRequest {
                name: SOME_VERDICT.into(),
                request_id: "again".into(),
                ..Default::default()
            },
            &["request_id"],
        ),
        typed(
            "an edit without its content",
            UPDATE_VERDICT,
            Role::Reviewer,
            proto::UpdateVerdictRequest {
                name: SOME_VERDICT.into(),
                ..Default::default()
            },
            &["verdict"],
        ),
        typed(
            "an edit of a name that is not a verdict's, with a blank explanation",
            UPDATE_VERDICT,
            Role::Reviewer,
            proto::UpdateVerdictRequest {
                name: "claims/x".into(),
                verdict: Some(Verdict {
                    rating: proto::Rating::True.into(),
                    explanation: " ".into(),
                    ..Default::default()
                }),
                ..Default::default()
            },
            &["name", "verdict.explanation"],
        ),
        typed(
            "a correction's request id that is not a UUID",
            CORRECT_VERDICT,
            Role::Reviewer,
            proto::CorrectVerdictRequest {
                name: SOME_VERDICT.into(),
                request_id: "again".into(),
                ..Default::default()
            },
            &["request_id"],
        ),
        typed(
            "a withdrawal's request id that is not a UUID",
            WITHDRAW_VERDICT,
            Role::Reviewer,
            proto::WithdrawVerdictRequest {
                name: SOME_VERDICT.into(),
                request_id: "again".into(),
                ..Default::default()
            },
            &["request_id"],
        ),
        import("an import of null", Some(null)),
        import("an import of more than 1,000 records", Some(many)),
    ]
}

fn watch_cases() -> Vec<Case> {
    let watch = |name: &str, request: WatchEventsRequest, fields: &[&str]| {
        typed(name, WATCH_EVENTS, Role::Reader, request, fields)
    };
    let every = |seconds: i64, nanos: i32| Some(prost_types::Duration { seconds, nanos });
    vec![
        watch(
            "a negative cursor",
            WatchEventsRequest {
                cursor: Some(-1),
                ..Default::default()
            },
            &["cursor"],
        ),
        watch(
            "a cursor no stream has reached",
            WatchEventsRequest {
                cursor: Some(i64::MAX),
                ..Default::default()
            },
            &["cursor"],
        ),
        watch(
            "a cursor and from_oldest",
            WatchEventsRequest {
                cursor: Some(0),
                from_oldest: true,
                ..Default::default()
            },
            &["from_oldest"],
        ),
        watch(
            "unspecified and unknown event types",
            WatchEventsRequest {
                types: vec![0, 42],
                ..Default::default()
            },
            &["types[0]", "types[1]"],
        ),
        watch(
            "resources that are not articles or claims",
            WatchEventsRequest {
                resources: vec![
                    "apiKeys/0190d8a0-0000-7000-8000-000000000000".into(),
                    "claims/x".into(),
                    String::new(),
                ],
                ..Default::default()
            },
            &["resources[0]", "resources[1]", "resources[2]"],
        ),
        watch(
            "101 resources",
            WatchEventsRequest {
                resources: vec![MISSING.into(); 101],
                ..Default::default()
            },
            &["resources"],
        ),
        watch(
            "a heartbeat every millisecond",
            WatchEventsRequest {
                heartbeat_interval: every(0, 1_000_000),
                ..Default::default()
            },
            &["heartbeat_interval"],
        ),
        watch(
            "a heartbeat every hour",
            WatchEventsRequest {
                heartbeat_interval: every(3600, 0),
                ..Default::default()
            },
            &["heartbeat_interval"],
        ),
        watch(
            "a negative heartbeat interval",
            WatchEventsRequest {
                heartbeat_interval: every(-1, 0),
                ..Default::default()
            },
            &["heartbeat_interval"],
        ),
    ]
}

fn wire_cases() -> Vec<Case> {
    let mut deep_groups = vec![0x7b; 2000];
    deep_groups.extend(vec![0x7c; 2000]);
    let garbage: [(&str, Vec<u8>, &str); 6] = [
        ("a truncated varint", vec![0x78, 0xff], "not a valid"),
        ("field number 0", vec![0x00, 0x00], "not a valid"),
        (
            "a length past the end",
            vec![0x7a, 0x05, 0x01],
            "not a valid",
        ),
        ("an invalid wire type", vec![0x7e, 0x01], "not a valid"),
        ("2,000 nested groups", deep_groups, "not a valid"),
        (
            "a string that is not UTF-8",
            vec![0x0a, 0x02, 0xff, 0xfe],
            "not a valid",
        ),
    ];
    let mut cases = Vec::new();
    for method in METHODS {
        for (what, bytes, says) in &garbage {
            cases.push(raw(
                &format!("{method}: {what}"),
                method,
                frame(bytes),
                Code::InvalidArgument,
                says,
            ));
        }
    }
    cases
}

/// HTTP/2 requests that are not one well-framed gRPC message, or not gRPC at all.
fn framing_cases() -> Vec<Case> {
    let mut cases = Vec::new();
    for method in METHODS {
        let mut two = frame(&[]);
        two.extend(frame(&[]));
        let mut cut = frame(&[0x0a, 0x01, b'a']);
        cut.truncate(6);
        let mut flagged = frame(&[]);
        flagged[0] = 1;
        let mut bad_flag = frame(&[]);
        bad_flag[0] = 9;
        cases.extend([
            raw(
                &format!("{method}: no message"),
                method,
                Vec::new(),
                Code::InvalidArgument,
                "no message",
            ),
            raw(
                &format!("{method}: a cut frame"),
                method,
                cut,
                Code::InvalidArgument,
                "ends inside",
            ),
            raw(
                &format!("{method}: a cut header"),
                method,
                vec![0, 0],
                Code::InvalidArgument,
                "header",
            ),
            raw(
                &format!("{method}: two messages"),
                method,
                two,
                Code::InvalidArgument,
                "exactly one message",
            ),
            raw(
                &format!("{method}: compressed without encoding"),
                method,
                flagged,
                Code::InvalidArgument,
                "grpc-encoding",
            ),
            raw(
                &format!("{method}: compressed flag 9"),
                method,
                bad_flag,
                Code::InvalidArgument,
                "flag is 9",
            ),
            raw(
                &format!("{method}: announced over 4 MiB"),
                method,
                {
                    let mut b = frame(&[]);
                    b[1..5].copy_from_slice(&(4 * 1024 * 1024 + 1u32).to_be_bytes());
                    b
                },
                Code::ResourceExhausted,
                "larger than",
            ),
            Case {
                content_type: "application/json",
                http: 415,
                ..raw(
                    &format!("{method}: JSON"),
                    method,
                    b"{}".to_vec(),
                    Code::InvalidArgument,
                    "gRPC with protobuf only",
                )
            },
            Case {
                role: None,
                ..raw(
                    &format!("{method}: garbage without a key"),
                    method,
                    vec![0xde, 0xad],
                    Code::Unauthenticated,
                    "missing credentials",
                )
            },
        ]);
    }
    cases
}

#[tokio::test]
async fn every_bad_request_to_every_rpc_is_refused_precisely_and_writes_nothing() {
    let app = spawn_app().await;
    let (article, claim) = app.sample_claim("https://example.com/putin").await;
    let fixtures = Fixtures { article, claim };
    let mut cases = article_cases();
    cases.extend(claim_cases(&fixtures));
    cases.extend(verdict_cases(&fixtures));
    cases.extend(triage_cases(&fixtures));
    cases.extend(search_cases());
    cases.extend(key_cases());
    cases.extend(desk_cases());
    cases.extend(watch_cases());
    cases.extend(wire_cases());
    cases.extend(framing_cases());
    assert!(cases.len() >= 200, "only {} cases", cases.len());
    eprintln!("{} bad requests", cases.len());

    let mut failures = Vec::new();
    for case in &cases {
        let before = app.row_counts().await;
        let reply = app
            .raw_call(case.method, case.content_type, case.role, case.body.clone())
            .await;
        let after = app.row_counts().await;
        let mut wrong = Vec::new();
        if reply.code != case.code {
            wrong.push(format!("code {:?}, expected {:?}", reply.code, case.code));
        }
        let named: Vec<String> = reply
            .status
            .get_details_bad_request()
            .map(|b| b.field_violations.into_iter().map(|v| v.field).collect())
            .unwrap_or_default();
        for field in &case.fields {
            if !named.contains(field) {
                wrong.push(format!("does not name {field} (names {named:?})"));
            }
        }
        if let Some(says) = case.says
            && !reply.message.contains(says)
        {
            wrong.push(format!("message lacks {says:?}"));
        }
        if reply.http != case.http {
            wrong.push(format!("HTTP {}, expected {}", reply.http, case.http));
        }
        if before != after {
            wrong.push(format!("rows changed from {before:?} to {after:?}"));
        }
        if !wrong.is_empty() {
            failures.push(format!(
                "{}: {} — {}",
                case.name,
                wrong.join("; "),
                reply.message
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases wrong:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[tokio::test]
async fn a_bad_request_from_a_caller_without_the_role_is_refused_for_the_role_first() {
    let app = spawn_app().await;
    let garbage = frame(&[0xff, 0xff, 0xff]);
    let reply = app
        .raw_call(CREATE_VERDICT, GRPC, Some(Role::Reader), garbage)
        .await;
    assert_eq!(reply.code, Code::PermissionDenied, "{}", reply.message);
}

fn a(r: &mut CreateArticleRequest) -> &mut proto::Article {
    r.article.as_mut().unwrap()
}

fn c(r: &mut CreateClaimRequest) -> &mut Claim {
    r.claim.as_mut().unwrap()
}

fn q(r: &mut CreateClaimRequest) -> &mut proto::Quote {
    &mut c(r).quotes[0]
}

fn uc(r: &mut UpdateClaimRequest) -> &mut Claim {
    r.claim.as_mut().unwrap()
}

fn v(r: &mut CreateVerdictRequest) -> &mut Verdict {
    r.verdict.as_mut().unwrap()
}
