//! The constructions the extractor must handle, pinned with real sentences.

use super::*;

fn quotes(text: &str) -> Vec<ExtractedQuote> {
    let found = extract(text);
    for q in &found {
        let chars: Vec<char> = text.chars().collect();
        let at: String = chars[q.quote.span.start..q.quote.span.end].iter().collect();
        assert_eq!(at, q.quote.text, "the quote's offsets point at its text");
    }
    found
}

const SAMPLE: &str = include_str!("../../tests/data/sample-excerpt.txt");

#[test]
fn a_quote_followed_by_said_and_a_name_is_attributed_to_that_name() {
    let found = quotes("“We are ready to help,” said Putin.");
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].quote.text, "“We are ready to help,”");
    assert_eq!(found[0].speaker.as_ref().unwrap().text, "Putin");
    assert_eq!(found[0].cue.as_ref().unwrap().text, "said");
    assert_eq!(found[0].kind, QuoteKind::Direct);
}

#[test]
fn the_sample_articles_unbalanced_nested_quote_is_one_quote_by_putin() {
    let found = quotes(SAMPLE);
    let negotiations = found
        .iter()
        .find(|q| q.quote.text.contains("through negotiations"))
        .expect("found");
    assert!(
        negotiations.quote.text.starts_with("“Collective efforts"),
        "{}",
        negotiations.quote.text
    );
    assert_eq!(negotiations.speaker.as_ref().unwrap().text, "Putin");
    assert_eq!(
        negotiations.resolved_speaker.as_deref(),
        Some("Vladimir Putin")
    );
}

#[test]
fn a_description_of_the_speaker_resolves_to_the_name_it_titled() {
    let found = quotes(SAMPLE);
    let casualties = found
        .iter()
        .find(|q| q.quote.text.contains("civilian casualties in the conflict"))
        .expect("found");
    assert_eq!(
        casualties.speaker.as_ref().unwrap().text,
        "the Russian president"
    );
    assert_eq!(
        casualties.resolved_speaker.as_deref(),
        Some("Vladimir Putin")
    );
    assert_eq!(casualties.kind, QuoteKind::Indirect);
}

#[test]
fn a_speaker_before_a_colon_introduces_the_quote() {
    let found = quotes("The minister said: “Prices will fall next year.”");
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].speaker.as_ref().unwrap().text, "The minister");
    assert_eq!(found[0].kind, QuoteKind::Direct);
}

#[test]
fn a_split_quote_is_one_quote() {
    let found = quotes("“We will win,” he said, “and we will win big.”");
    assert_eq!(found.len(), 1);
    assert!(found[0].quote.text.ends_with("big.”"));
    assert_eq!(found[0].speaker.as_ref().unwrap().text, "he");
}

#[test]
fn reported_speech_with_that_is_an_indirect_quote() {
    let found = quotes("Kevin Sullivan says he instructed staff Monday to check the records.");
    assert_eq!(found.len(), 1);
    assert_eq!(
        found[0].quote.text,
        "he instructed staff Monday to check the records"
    );
    assert_eq!(found[0].speaker.as_ref().unwrap().text, "Kevin Sullivan");
    assert_eq!(found[0].kind, QuoteKind::Indirect);
}

#[test]
fn reported_speech_with_quoted_words_is_mixed() {
    let found = quotes(
        "Sullivan says he’s satisfied that there has been “no illegal disclosure by anyone” at the agency.",
    );
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].kind, QuoteKind::Mixed);
    assert!(found[0].quote.text.starts_with("he’s satisfied"));
}

#[test]
fn according_to_attributes_the_clause_before_it() {
    let found = quotes(
        "The United States seeks to resolve the problem with economic incentives, according to Russian President Vladimir Putin.",
    );
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].cue.as_ref().unwrap().text, "according to");
    assert_eq!(
        found[0].speaker.as_ref().unwrap().text,
        "Russian President Vladimir Putin"
    );
    assert_eq!(found[0].resolved_speaker.as_deref(), Some("Vladimir Putin"));
}

#[test]
fn straight_quotes_and_guillemets_are_quotes_too() {
    let found = quotes("\"It is over,\" Smith said.\n\n«The game is over», said Dupont.");
    assert_eq!(found.len(), 2);
    assert_eq!(found[0].quote.text, "\"It is over,\"");
    assert_eq!(found[0].speaker.as_ref().unwrap().text, "Smith");
    assert_eq!(found[1].quote.text, "«The game is over»");
    assert_eq!(found[1].speaker.as_ref().unwrap().text, "Dupont");
}

#[test]
fn any_text_gives_a_result_without_panicking() {
    for text in [
        "",
        "“",
        "”",
        "\"",
        "said",
        "“said”",
        "a\n\n“b",
        ", said he.",
        "according to",
        "é“”\u{0}\r\n\n»«",
        "Mr. Mr. Mr.",
    ] {
        quotes(text);
    }
}

#[test]
fn a_proposal_states_a_sentence_of_the_quote_without_its_marks_and_names_the_resolved_speaker() {
    let proposals = propose(SAMPLE);
    let ceasefire = proposals
        .iter()
        .find(|p| p.statement.contains("ceasefire"))
        .expect("proposed");
    assert_eq!(
        ceasefire.statement,
        "Collective efforts are more than necessary in the interests of an early ceasefire and \
         stabilization of the situation on the ground"
    );
    assert_eq!(ceasefire.claimant, "Vladimir Putin");
}

#[test]
fn a_long_statement_is_cut_at_a_word() {
    let statement = statement_of(&format!("“{}”", "word ".repeat(1000)), 2000);
    assert!(statement.chars().count() <= 2000);
    assert!(statement.ends_with("word…"));
}

/// Random texts from pieces that exercise the rules: quotation marks of every kind, cue words,
/// names, pronouns, punctuation, line breaks, multi-byte and astral characters.
fn random_text(rng: &mut impl rand::Rng) -> String {
    const PIECES: &[&str] = &[
        "“",
        "”",
        "\"",
        "'",
        "''",
        "‘",
        "’",
        "«",
        "»",
        "„",
        "‹",
        "›",
        " ",
        " ",
        " ",
        "\n",
        "\n\n",
        ",",
        ".",
        ":",
        ";",
        "?",
        "!",
        "—",
        "―",
        "-",
        "(",
        ")",
        "said",
        "says",
        "told",
        "according",
        "to",
        "that",
        "he",
        "she",
        "Putin",
        "the",
        "Russian",
        "president",
        "Mr.",
        "U.S.",
        "Sen.",
        "and",
        "but",
        "which",
        "Vladimir",
        "wants",
        "is",
        "called",
        "é",
        "日本",
        "🇷🇺",
        "\u{0301}",
        "\r",
        "\t",
        "ﬁ",
        "İ",
        "0",
        "2,521",
        "$",
        "%",
        "--",
        "pointed",
        "spoke",
        "about",
        "who",
        "as",
        "this",
        "month",
        "plans",
        "going",
        "on",
        "officials",
        "all",
        "now",
        "In",
        "agreed",
        "adding",
        "’s",
        "first",
        "was",
    ];
    let len = rng.random_range(0..60);
    (0..len)
        .map(|_| PIECES[rng.random_range(0..PIECES.len())])
        .collect()
}

#[test]
fn any_text_gives_spans_that_point_at_their_text() {
    use rand::SeedableRng;
    let mut rng = rand::rngs::StdRng::seed_from_u64(2026);
    for _ in 0..20_000 {
        let text = random_text(&mut rng);
        let chars: Vec<char> = text.chars().collect();
        for q in extract(&text) {
            for piece in [Some(&q.quote), q.speaker.as_ref(), q.cue.as_ref()]
                .into_iter()
                .flatten()
            {
                let Span { start, end } = piece.span;
                assert!(
                    start < end && end <= chars.len(),
                    "{text:?}: bad span {start}..{end}"
                );
                assert_eq!(
                    chars[start..end].iter().collect::<String>(),
                    piece.text,
                    "{text:?}"
                );
            }
            assert!((0.0..=1.0).contains(&q.checkworthiness));
        }
        for p in propose(&text) {
            let Span { start, end } = p.quote.quote.span;
            assert!(
                start < end && end <= chars.len(),
                "{text:?}: bad span {start}..{end}"
            );
            assert_eq!(
                chars[start..end].iter().collect::<String>(),
                p.quote.quote.text,
                "{text:?}"
            );
            assert!(!p.statement.is_empty(), "{text:?}");
        }
    }
}

#[test]
fn german_low_high_quotes_close_with_the_high_mark() {
    let found =
        quotes("„Wir sind bereit zu helfen“, sagte Putin. „The talks will go on,“ said Putin.");
    let last = found.last().expect("found");
    assert_eq!(last.quote.text, "„The talks will go on,“");
    assert_eq!(last.speaker.as_ref().unwrap().text, "Putin");
}

#[test]
fn single_quotation_marks_quote_too_and_apostrophes_do_not_end_them() {
    let found = quotes("‘The voters’ choice is clear,’ the minister said.");
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].quote.text, "‘The voters’ choice is clear,’");
    assert_eq!(found[0].speaker.as_ref().unwrap().text, "the minister");
}

#[test]
fn a_quote_running_over_paragraphs_is_one_quote() {
    let text = "“We will rebuild the roads,” the governor said. “We will fix the bridges.\n\n“And we will do it this year.”";
    let found = quotes(text);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(found[0].quote.text.ends_with("this year.”"));
}

#[test]
fn a_pronoun_speaker_resolves_to_the_person_before_it() {
    let text = "Senator Elizabeth Warren questioned the bank's chief executive. “You should resign,” she said.";
    let found = quotes(text);
    let resign = found
        .iter()
        .find(|q| q.quote.text.contains("resign"))
        .expect("found");
    assert_eq!(resign.speaker.as_ref().unwrap().text, "she");
    assert_eq!(resign.resolved_speaker.as_deref(), Some("Elizabeth Warren"));
}

#[test]
fn explained_that_and_content_before_the_speaker_are_reported_speech() {
    let found =
        quotes("Putin explained that heavy equipment in residential areas is a complex issue.");
    assert_eq!(
        found[0].quote.text,
        "that heavy equipment in residential areas is a complex issue"
    );
    assert_eq!(found[0].cue.as_ref().unwrap().text, "explained");
    let found =
        quotes("Civilian casualties in the conflict were unacceptable, the Russian leader said.");
    assert_eq!(
        found[0].quote.text,
        "Civilian casualties in the conflict were unacceptable"
    );
    assert_eq!(
        found[0].speaker.as_ref().unwrap().text,
        "the Russian leader"
    );
}

#[test]
fn a_that_ending_the_reported_clause_does_not_start_it() {
    let found = quotes(
        "Experts on North Korea and nuclear nonproliferation said the latest nuclear test could change that.",
    );
    assert_eq!(found.len(), 1);
    assert_eq!(
        found[0].quote.text,
        "the latest nuclear test could change that"
    );
}

#[test]
fn a_cue_word_used_as_a_noun_attributes_nothing() {
    for text in [
        "The ethnic vote in several battleground states could be decisive in a close election.",
        "The question is, why did it take so long for Clinton to use it?",
        "Editor’s note: Donald Trump regularly incites political violence.",
        "The plan involves creating pollution credits by planting trees.",
    ] {
        assert!(quotes(text).is_empty(), "{text}: {:?}", quotes(text));
    }
    // a verb again when `that` follows
    assert_eq!(
        quotes("The report states that the program lost money for a decade.").len(),
        1
    );
}

#[test]
fn the_subject_of_appeared_to_suggest_is_the_speaker() {
    let found = quotes(
        "Donald Trump is drawing criticism after he appeared to suggest that veterans who suffer from PTSD might not be as strong as those who don’t.",
    );
    let q = found
        .iter()
        .find(|q| q.quote.text.starts_with("that veterans"))
        .expect("found");
    assert_eq!(q.speaker.as_ref().unwrap().text, "he");
}

#[test]
fn a_verb_of_intent_is_a_cue_even_with_an_infinitive_speech_verb_after_it() {
    let found =
        quotes("Hillary Clinton plans to call on young people to participate in national service.");
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].speaker.as_ref().unwrap().text, "Hillary Clinton");
    assert!(found[0].quote.text.starts_with("to call on young people"));
}

#[test]
fn a_headline_with_a_source_and_a_colon_attributes_what_follows() {
    let found = quotes(
        "Pat Caddell: Democrat Voters Worried About Hillary Clinton’s Health Issues.\n\nIn offering analysis of the election, Caddell spoke at length.",
    );
    let h = &found[0];
    assert_eq!(
        h.quote.text,
        "Democrat Voters Worried About Hillary Clinton’s Health Issues"
    );
    assert_eq!(h.speaker.as_ref().unwrap().text, "Pat Caddell");
}

#[test]
fn a_title_case_headline_attributes_by_its_verb_or_a_final_says() {
    let found = quotes(
        "Chris Christie Calls Hillary Clinton ‘A Disgrace’ Over Police Shooting Comments.\n\nThe governor spoke on the radio.",
    );
    assert_eq!(found[0].speaker.as_ref().unwrap().text, "Chris Christie");
    assert_eq!(found[0].cue.as_ref().unwrap().text, "Calls");
    let found = quotes(
        "Clinton Hid Past Health Problems From Public, Former White House Doctor Says.\n\nSecrecy is not a stranger to her.",
    );
    assert_eq!(
        found[0].quote.text,
        "Clinton Hid Past Health Problems From Public"
    );
    assert_eq!(
        found[0].speaker.as_ref().unwrap().text,
        "Former White House Doctor"
    );
}

#[test]
fn a_headline_label_before_a_colon_is_no_source() {
    let found =
        quotes("The Latest: Officials Weigh Options.\n\nThe meeting ran late into the night.");
    assert!(found.is_empty(), "{found:?}");
}

#[test]
fn a_speaker_with_an_age_a_place_and_a_relative_clause_is_one_speaker() {
    let found = quotes(
        "Donna Sampson Rawlings, 59, of Ashton, Md., who watched the ceremony on a screen on the Mall, said the event brought back memories of her father.",
    );
    assert_eq!(found.len(), 1, "{found:?}");
    let speaker = &found[0].speaker.as_ref().unwrap().text;
    assert!(
        speaker.starts_with("Donna Sampson Rawlings, 59, of Ashton, Md."),
        "{speaker}"
    );
    assert_eq!(
        found[0].resolved_speaker.as_deref(),
        Some("Donna Sampson Rawlings")
    );
    assert_eq!(
        found[0].quote.text,
        "the event brought back memories of her father"
    );
}

#[test]
fn a_participle_cue_after_a_comma_ends_the_first_statement_and_keeps_the_speaker() {
    let found = quotes(
        "The senator said the bill would cut taxes for millions, adding that the deficit would fall by 2020.",
    );
    assert_eq!(found.len(), 2, "{found:?}");
    assert_eq!(found[0].quote.text, "the bill would cut taxes for millions");
    assert_eq!(found[1].speaker.as_ref().unwrap().text, "The senator");
    assert_eq!(found[1].cue.as_ref().unwrap().text, "adding");
}

#[test]
fn a_clause_after_a_comma_is_no_appositive_of_the_speaker() {
    let found = quotes(
        "Trump said the wall will be paid for, and the meeting deteriorated from there, the official said.",
    );
    let outer = found
        .iter()
        .max_by_key(|q| q.cue.as_ref().map(|c| c.span.start))
        .expect("found");
    assert_eq!(outer.speaker.as_ref().unwrap().text, "the official");
}

#[test]
fn a_statement_before_a_speaker_who_told_a_listener_is_attributed_to_the_speaker() {
    let found = quotes(
        "Donald Trump could embrace a clean energy policy as president, but only if it is a good business decision, Sen. Lindsey Graham (R-S.C.) told The Huffington Post on Tuesday.",
    );
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0]
            .quote
            .text
            .starts_with("Donald Trump could embrace")
    );
    assert!(found[0].quote.text.ends_with("a good business decision"));
    assert_eq!(
        found[0].resolved_speaker.as_deref(),
        Some("Lindsey Graham"),
        "{found:?}"
    );
}

#[test]
fn an_inverted_speaker_may_be_followed_by_where_they_were() {
    let found = quotes(
        "Kadzik's refusal to answer fully did not go over well with Republicans, and the meeting deteriorated from there, said one GOP source in the room.",
    );
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].speaker.as_ref().unwrap().text, "one GOP source");
    assert!(found[0].quote.text.ends_with("deteriorated from there"));
}

#[test]
fn a_dashed_appositive_belongs_to_the_speaker_and_a_that_far_after_the_cue_does_not_start_the_content()
 {
    let found = quotes(
        "Kall -- co-editor of Debating The Donald, a book analyzing Trump's performances at GOP primary debates -- said the candidate tended to make announcements at those encounters, such as his proclamation that he would not run an independent campaign.",
    );
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].resolved_speaker.as_deref(), Some("Kall"));
    assert!(found[0].quote.text.starts_with("the candidate tended"));
}

#[test]
fn pointed_to_attributes_its_object_but_percentage_points_attribute_nothing() {
    let found = quotes(
        "The IMF pointed to Britain's decision to leave the European Union as an example of rising sentiment against globalization. It edged up its forecast by 0.1 percentage points to 4.2 percent.",
    );
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].quote.text.starts_with("Britain's decision"));
    assert_eq!(found[0].speaker.as_ref().unwrap().text, "The IMF");
}

#[test]
fn a_participle_after_a_direct_quote_shares_its_speaker() {
    let found = quotes(
        "In a statement, Peabody said: \"Patriot Coal was highly successful when it became an independent company,\" adding that its market capitalization quadrupled in less than a year.",
    );
    let adding = found
        .iter()
        .find(|q| q.cue.as_ref().is_some_and(|c| c.text == "adding"))
        .expect("found");
    assert_eq!(adding.speaker.as_ref().unwrap().text, "Peabody");
    assert_eq!(
        adding.quote.text,
        "that its market capitalization quadrupled in less than a year"
    );
}

#[test]
fn according_to_after_a_dash_attributes_the_sentence_before_it() {
    let found = quotes(
        "And more than half of his medical advice is unsubstantiated — or flat out wrong — according to the top British medical journal.",
    );
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(
        found[0].speaker.as_ref().unwrap().text,
        "the top British medical journal"
    );
}

#[test]
fn spoke_without_a_topic_attributes_nothing_but_spoke_about_does() {
    let found = quotes(
        "The two women spoke for about five minutes. The president spoke in a cottage on a Marine base that overlooks the bay. Ava DuVernay spoke to reporters about the issue of mass incarceration.",
    );
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].speaker.as_ref().unwrap().text, "Ava DuVernay");
}

#[test]
fn a_plan_or_a_show_is_a_noun_unless_a_verb_follows_it() {
    let found = quotes(
        "The McKinley plan is linear and simple to follow. Trump sat for an interview on Mr. King's show, which aired widely. Clinton plans to unveil a new tax proposal on Monday.",
    );
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].speaker.as_ref().unwrap().text, "Clinton");
}

#[test]
fn a_split_quote_continues_across_a_participle_that_describes_the_speaker() {
    let found = quotes(
        "“This is in their heads. This is in their consciousness,” said Caddell, speaking of Clinton’s health issue. “It is one of the things worrying them.”",
    );
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].quote.text.ends_with("worrying them.”"));
}

#[test]
fn a_coordinated_verb_of_intent_shares_the_subject_of_the_verb_before() {
    let found = quotes(
        "He proposes doing away with the government mandate, and plans to reduce the cost of insurance without intensive government regulations.",
    );
    let plans = found
        .iter()
        .find(|q| q.cue.as_ref().is_some_and(|c| c.text == "plans"))
        .expect("found");
    assert_eq!(plans.speaker.as_ref().unwrap().text, "He");
    assert!(plans.quote.text.starts_with("to reduce the cost"));
}

#[test]
fn as_police_have_said_attributes_the_clause_before_it() {
    let found = quotes("It also does not answer whether Scott had a gun, as police have said.");
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(
        found[0].quote.text,
        "It also does not answer whether Scott had a gun"
    );
    assert_eq!(found[0].speaker.as_ref().unwrap().text, "police");
}

#[test]
fn a_date_between_the_speaker_and_the_verb_is_not_the_speaker() {
    let found = quotes(
        "Along with the dispute, the Supreme Court this month rejected a request from Democrats in Ohio to restore an extra week of early voting.",
    );
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].speaker.as_ref().unwrap().text, "the Supreme Court");
}

#[test]
fn a_name_alone_is_enough_for_a_verb_of_stance() {
    let found = quotes("Ted Cruz endorses Trump.");
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].quote.text, "Trump");
}

#[test]
fn going_on_to_say_after_a_quote_keeps_the_speaker_of_the_quote() {
    let found = quotes(
        "\"The birther issue is insane,\" Sanders said, going on to say that the country has spent \"hundreds of years fighting against racism.\"",
    );
    let say = found
        .iter()
        .find(|q| q.cue.as_ref().is_some_and(|c| c.text == "say"))
        .expect("found");
    assert_eq!(say.speaker.as_ref().unwrap().text, "Sanders");
}

#[test]
fn an_opening_adjunct_is_not_what_the_speaker_said() {
    let found = quotes(
        "In the end, Patriot agreed to effectively lend Mr. Clarke $5 million, and the union also stepped in with money.",
    );
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].quote.text.starts_with("to effectively lend"));
}

#[test]
fn a_relative_clause_after_an_inverted_speaker_is_read_too() {
    let found = quotes(
        "Broadening the base inevitably involves a certain amount of administration, said Mr. Kamin, who emphasized that her proposals would simplify returns for small businesses.",
    );
    assert_eq!(found.len(), 2, "{found:?}");
    assert_eq!(found[1].speaker.as_ref().unwrap().text, "who");
    assert_eq!(found[1].resolved_speaker.as_deref(), Some("Kamin"));
}

#[test]
fn a_common_noun_for_people_or_a_body_can_take_a_stance() {
    let found =
        quotes("Bankruptcy is like a chess game in which companies seek to minimize liabilities.");
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].speaker.as_ref().unwrap().text, "companies");
}

#[test]
fn determiners_adverbs_and_bylines_are_no_speakers() {
    let found = quotes(
        "These tactics that worked for him in the primaries will be difficult to replicate. Perhaps go a step further, and ask yourself that question. The registration issue was first reported by The Washington Post. (Reporting by Valerie Volcovici; Additional reporting by Lawrence Hurley.)",
    );
    assert!(found.is_empty(), "{found:?}");
}

#[test]
fn all_and_now_stand_between_a_speaker_and_the_cue() {
    let found = quotes(
        "Sens. Jeff Merkley (D-Ore.) and Robert Menendez (D-N.J.) all suggested that those claims could be grounds for a securities fraud case.",
    );
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].speaker.as_ref().unwrap().text.contains("Menendez"));
}

#[test]
fn a_relative_that_after_an_infinitive_or_a_named_object_does_not_start_the_content() {
    let found = quotes(
        "Mr. Clarke agreed to clean up the shuttered mines and reclaim the land that had been ravaged. The United States warned North Korea to refrain from further actions that would worsen the situation.",
    );
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(found[0].quote.text.starts_with("to clean up"));
    assert!(found[1].quote.text.starts_with("North Korea to refrain"));
}

#[test]
fn a_relative_that_after_a_noun_like_cue_word_attributes_nothing() {
    let found = quotes(
        "But some of its members are countries that regularly violate those rights. The mine runs on a three-day schedule because of the low demand for thermal coal. It protected them from any criminal charges that might have arisen from scopes of their laptops.",
    );
    assert!(found.is_empty(), "{found:?}");
}

#[test]
fn calling_and_describing_label_their_object() {
    let found = quotes(
        "Libertarian presidential candidate Gary Johnson’s doctor is calling the candidate “extremely physically fit.”",
    );
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(
        found[0].quote.text,
        "the candidate “extremely physically fit.”"
    );
    assert_eq!(found[0].kind, QuoteKind::Mixed);
}

#[test]
fn any_verb_that_labels_its_object_with_a_quotation_attributes_the_label() {
    let found = quotes(
        "Trump openly admires Russian President Vladimir Putin as a “strong leader,” comparing him favorably to President Obama.",
    );
    let label = found
        .iter()
        .find(|q| q.cue.as_ref().is_some_and(|c| c.text == "admires"))
        .expect("found");
    assert_eq!(
        label.quote.text,
        "Russian President Vladimir Putin as a “strong leader,”"
    );
    assert_eq!(label.speaker.as_ref().unwrap().text, "Trump");
}

#[test]
fn spoke_about_a_topic_attributes_but_spoke_for_about_an_hour_does_not() {
    let found = quotes(
        "The senator spoke for about an hour. Then the senator spoke about a plan to cut taxes for families.",
    );
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].quote.text.contains("a plan to cut taxes"),
        "{found:?}"
    );
}

/// Texts that make a naive extractor do quadratic work, each about `bytes` long: quotation
/// marks, cues, names and punctuation repeated, and long stretches followed by many short
/// things that look back at them.
fn pathological_texts(bytes: usize) -> Vec<(String, String)> {
    // whole pieces, so that a text twice as long holds the same pieces twice over
    let repeat = |piece: &str, bytes: usize| piece.repeat((bytes / piece.len()).max(1));
    // distinct capitalized words: `Qaaaa Qbaaa …`
    let word = |i: usize, head: char| -> String {
        let mut w = String::from(head);
        let mut k = i;
        for _ in 0..4 {
            w.push((b'a' + (k % 26) as u8) as char);
            k /= 26;
        }
        w
    };
    let generated = |bytes: usize, f: &dyn Fn(usize) -> String| {
        let mut text = String::new();
        let mut i = 0;
        while text.len() < bytes {
            text.push_str(&f(i));
            i += 1;
        }
        text
    };
    let mut texts: Vec<(String, String)> = [
        "“ ” ",
        "\" ",
        "\"",
        "“",
        "“ ",
        "'",
        "' ",
        "“Yes,” Putin said. ",
        "said ",
        "according to ",
        "Putin. ",
        "Aa Bb. ",
        "he said that ",
        "A B C D ",
        "\n",
        "told ",
        ", ",
        ". ",
        ".",
        "that ",
        "spoke ",
        "he said that , , , , , , ",
        "‘a’ ",
        "a b c, said Putin, ",
        "a b c, according to Putin, ",
        "a b c, Putin said, “d” ",
        "he wants to go ",
        "Putin wants a, ",
        "Putin said a b and says c d ",
        "He said a, and says b, ",
        "“A b c,” he said. “D e f.” ",
        "\"PENCE: a b c\n",
        "“a b c\n",
        "“a b c d” ",
        "Putin -- a b -- said c. ",
        "Putin (a) said ",
        "Aa, Bb, ",
        "“a” said ",
        "” said Putin ",
        "his claim that a, ",
        "Putin said: “a ",
        "He said a b c. ",
        "the Russian president said a b c. ",
        "Aa Bb, who said a b c, ",
        "a b, and the c ",
        "he said a, saying ",
        "called Putin as a “x” ",
    ]
    .iter()
    .map(|piece| (format!("{piece:?} repeated"), repeat(piece, bytes)))
    .collect();
    texts.push(("one long word".into(), "a".repeat(bytes)));
    texts.push((
        "distinct names".into(),
        generated(bytes, &|i| format!("{} ", word(i, 'Q'))),
    ));
    texts.push((
        "distinct people quoted".into(),
        generated(bytes, &|i| {
            format!(
                "{} {} said the plan is bad. “It is bad,” he said. ",
                word(i, 'Q'),
                word(i, 'Z')
            )
        }),
    ));
    texts.push((
        "distinct presidents described".into(),
        generated(bytes, &|i| {
            format!(
                "President {} {} said a b c. The president said d e f. ",
                word(i, 'Q'),
                word(i, 'Z')
            )
        }),
    ));
    // a long stretch, then many short things after it
    let half = bytes / 2;
    let then = |first: String, piece: &str| {
        let rest = repeat(piece, bytes.saturating_sub(first.len()));
        first + &rest
    };
    texts.push((
        "a long sentence, then whole-sentence quotes".into(),
        then(repeat("x ", half) + ". ", "“a b c d” "),
    ));
    texts.push((
        "an open quote over many sentences".into(),
        then("“".into(), "Aa said bb cc. ") + "”",
    ));
    texts.push((
        "a long name, then pronoun speakers".into(),
        then(
            generated(half, &|i| format!("{} ", word(i, 'Q'))) + "Putin. Putin said a b c d. ",
            "He said a b c d. ",
        ),
    ));
    texts.push((
        "a long speaker, then quotes it goes on saying".into(),
        then(repeat("X", half) + " said: “a b c d.”\n", "“a b c d.”\n"),
    ));
    texts.push((
        "single quotes, then a run of periods".into(),
        then(repeat("‘a’ ", half), ". "),
    ));
    texts
}

/// Counts steps (tokens read, candidates looked at, bytes copied out; see `doc::step`), not
/// time: a text twice as long must cost at most about twice as many.
#[test]
fn extraction_work_grows_linearly_with_pathological_input() {
    let n = 16 * 1024;
    let small = pathological_texts(n);
    let large = pathological_texts(2 * n);
    let mut failures = Vec::new();
    for ((name, a), (_, b)) in small.iter().zip(&large) {
        let before = doc::steps();
        propose(a);
        let at_n = doc::steps() - before;
        propose(b);
        let at_2n = doc::steps() - before - at_n;
        assert!(at_n > 0, "{name}: no steps counted");
        let ratio = at_2n as f64 / at_n as f64;
        if ratio > 2.2 {
            failures.push(format!(
                "{name}: {at_n} steps at n, {at_2n} at 2n ({ratio:.2}×)"
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "superlinear work:\n{}",
        failures.join("\n")
    );
}

/// The sample article: one speaker, named as "Russian President Vladimir Putin", "Putin", "the
/// Russian president" and "the Russian leader", quoted directly and indirectly.
const ARTICLE: &str = include_str!("../../tests/data/putin-cis-mediation.txt");

#[test]
fn the_sample_articles_nine_quotes_come_out_as_self_contained_claims_by_vladimir_putin() {
    let quotes: Vec<ExtractedQuote> = extract(ARTICLE)
        .into_iter()
        .filter(|q| q.speaker.is_some())
        .collect();
    assert_eq!(quotes.len(), 9);
    let proposals = propose(ARTICLE);
    let chars: Vec<char> = ARTICLE.chars().collect();
    for p in &proposals {
        assert_eq!(p.claimant, "Vladimir Putin", "{}", p.statement);
        let first = p.statement.chars().next().unwrap();
        assert!(first.is_uppercase(), "{}", p.statement);
        assert!(!p.statement.starts_with("That "), "{}", p.statement);
        assert!(
            !p.statement.contains(['“', '”', '"']),
            "no quotation marks: {}",
            p.statement
        );
        assert!(
            !p.statement.ends_with(['.', ',', ';', ':']),
            "no trailing punctuation: {}",
            p.statement
        );
        // the evidence is verbatim, at its place, within one of the quotes
        let Span { start, end } = p.quote.quote.span;
        assert_eq!(
            chars[start..end].iter().collect::<String>(),
            p.quote.quote.text
        );
        assert!(
            quotes
                .iter()
                .any(|q| q.quote.span.start <= start && end <= q.quote.span.end),
            "{}",
            p.quote.quote.text
        );
    }
    // every quote gives at least one claim; the three quotes of several sentences give one each
    for q in &quotes {
        assert!(
            proposals
                .iter()
                .any(|p| q.quote.span.start <= p.quote.quote.span.start
                    && p.quote.quote.span.end <= q.quote.span.end),
            "{}",
            q.quote.text
        );
    }
    let statements: Vec<&str> = proposals.iter().map(|p| p.statement.as_str()).collect();
    assert_eq!(statements.len(), 16, "{statements:#?}");
    for expected in [
        "Moscow is ready to mediate in resolving the Palestinian-Israeli conflict",
        "Russia is ready to coordinate with all constructive-minded partners",
        "There is no alternative to resolving the Palestinian-Israeli conflict through negotiations",
        "Civilian casualties are unacceptable",
        "The Middle East quartet of international mediators is not being used",
        "The use of heavy equipment in residential areas is a complex issue, fraught with serious \
         consequences for all parties",
        "Without equipment, it would be more difficult to carry out the same operation in the \
         same residential building",
    ] {
        assert!(
            statements.contains(&expected),
            "{expected}\n{statements:#?}"
        );
    }
    let emphasized = proposals
        .iter()
        .find(|p| p.statement.starts_with("Russia is ready"))
        .unwrap();
    assert_eq!(
        emphasized.quote.quote.text,
        "I would like to emphasize that Russia is ready to coordinate with all \
         constructive-minded partners."
    );
}

/// Asserts that `text` holds one quote, and that its speaker as written is `speaker`.
fn assert_one_quote_by(text: &str, speaker: &str) {
    let found = quotes(text);
    assert_eq!(found.len(), 1, "{text}: {found:?}");
    assert_eq!(found[0].speaker.as_ref().unwrap().text, speaker, "{text}");
}

#[test]
fn a_day_or_a_month_before_the_verb_is_not_the_speaker() {
    for (text, speaker) in [
        (
            "Trump, who has been feuding with party leaders, on Friday described the plan as a “big tent.”",
            "Trump, who has been feuding with party leaders",
        ),
        (
            "The Vermont senator early Friday tweeted that the deal was “a disaster.”",
            "The Vermont senator",
        ),
        (
            "Several environmental groups in August warned that the capital was “less than expected.”",
            "Several environmental groups",
        ),
    ] {
        assert_one_quote_by(text, speaker);
    }
}

#[test]
fn a_participle_takes_the_subject_after_a_dateline_and_an_opening_adverbial() {
    for (text, speaker) in [
        (
            "In an incendiary press conference, Trump launched an attack against Obama, calling him “the most ignorant president in our history.”",
            "Trump",
        ),
        (
            "WASHINGTON — Sen. Chuck Grassley on Wednesday downplayed the attack, saying “it is the same thing.”",
            "Sen. Chuck Grassley",
        ),
        (
            "But a few days later, Trump reversed himself yet again, telling CBS that the laws “are set.”",
            "Trump",
        ),
        (
            "But Trump reversed himself yet again, telling CBS that the laws “are set.”",
            "Trump",
        ),
        (
            "Washington (AFP) – Democrat Hillary Clinton has taken a swipe at Donald Trump’s stance on Brexit, saying that “bombastic comments” do more harm than good.",
            "Democrat Hillary Clinton",
        ),
        (
            "Silverman, herself a Sanders supporter, incurred a wave of boos upon saying, “Hillary heard the passion of the people.”",
            "Silverman",
        ),
    ] {
        assert_one_quote_by(text, speaker);
    }
}

#[test]
fn whom_a_speaker_told_is_not_the_speaker() {
    for (text, speaker) in [
        (
            "Clinton seemed ready to riff on the incident, telling the crowd, “Some people get a little carried away.”",
            "Clinton",
        ),
        (
            "Trump took a risk by winking at stereotypes, telling the crowd, “I’m a negotiator like you, folks.”",
            "Trump",
        ),
    ] {
        let found = quotes(text);
        let speakers: Vec<&str> = found
            .iter()
            .filter_map(|q| q.speaker.as_ref().map(|s| s.text.as_str()))
            .collect();
        assert_eq!(speakers, [speaker], "{text}: {found:?}");
    }
}

#[test]
fn an_adverbial_between_commas_stands_between_the_speaker_and_the_cue() {
    for (text, speaker) in [
        (
            "Clinton, during a town hall meeting in Columbus, Ohio, said she was “going to put a lot of coal companies out of business.”",
            "Clinton",
        ),
        (
            "Corey Lewandowski, in a statement released by the campaign on Thursday, said he “appreciates the thoughtful decision.”",
            "Corey Lewandowski",
        ),
        (
            "Tuesday at a university in Berea, OH, after winning Ohio in the primary, Gov. John Kasich (R-OH), said, “I’m getting ready to rent a covered wagon.”",
            "the primary, Gov. John Kasich (R-OH)",
        ),
    ] {
        assert_one_quote_by(text, speaker);
    }
}

#[test]
fn a_pronoun_refers_to_whom_the_sentence_before_it_names_first() {
    let found = quotes(
        "Hillary Clinton and Donald Trump spoke on Tuesday. “We will win,” Trump said. On Wednesday, Clinton bashed Trump’s proposal. “It is wrong,” she said.",
    );
    let she = found
        .iter()
        .find(|q| q.speaker.as_ref().is_some_and(|s| s.text == "she"))
        .expect("found");
    assert_eq!(she.resolved_speaker.as_deref(), Some("Hillary Clinton"));
}
