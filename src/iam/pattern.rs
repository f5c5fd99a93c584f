//! IAM string patterns as IAM reads them in Resource and Condition values: `*` matches any run
//! of characters, `?` one character, and the special policy variables `${*}`, `${?}` and `${$}`
//! stand for the literal characters `*`, `?` and `$`
//! (<https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html#policy-vars-specialchars>).
//! Other `${…}` variables are request values, substituted (or found unknown) by the caller.

/// One element of a pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tok {
    /// This character, literally.
    Lit(char),
    /// `*`: any run, the empty one included.
    Any,
    /// `?`: exactly one character.
    One,
}

/// The special variable at the start of `s` (`${*}`, `${?}`, `${$}`): its character.
fn special(s: &str) -> Option<char> {
    let rest = s.strip_prefix("${")?;
    let mut cs = rest.chars();
    let c = cs.next().filter(|c| matches!(c, '*' | '?' | '$'))?;
    (cs.next() == Some('}')).then_some(c)
}

/// The elements of `pattern`.
pub fn tokens(pattern: &str) -> Vec<Tok> {
    let mut out = Vec::with_capacity(pattern.len());
    let mut rest = pattern;
    while let Some(c) = rest.chars().next() {
        if let Some(lit) = special(rest) {
            out.push(Tok::Lit(lit));
            rest = rest.get(4..).unwrap_or("");
            continue;
        }
        out.push(match c {
            '*' => Tok::Any,
            '?' => Tok::One,
            c => Tok::Lit(c),
        });
        rest = rest.get(c.len_utf8()..).unwrap_or("");
    }
    out
}

/// Whether `pattern` has a `*` or `?` wildcard (the special variables `${*}` and `${?}` are
/// literal characters, not wildcards).
pub fn has_wildcard(pattern: &str) -> bool {
    tokens(pattern).iter().any(|t| matches!(t, Tok::Any | Tok::One))
}

/// Whether `pattern` holds a policy variable other than the three special ones.
pub fn has_variable(pattern: &str) -> bool {
    let mut rest = pattern;
    while let Some(i) = rest.find("${") {
        let at = rest.get(i..).unwrap_or("");
        if special(at).is_none() {
            return true;
        }
        rest = at.get(4..).unwrap_or("");
    }
    false
}

/// `pattern` with the special variables written as their characters, for the operators that
/// compare without wildcards (`StringEquals`, …).
pub fn literal(pattern: &str) -> String {
    if !pattern.contains("${") {
        return pattern.to_string();
    }
    tokens(pattern)
        .into_iter()
        .map(|t| match t {
            Tok::Lit(c) => c,
            Tok::Any => '*',
            Tok::One => '?',
        })
        .collect()
}

/// Whether `pattern` matches all of `text` (`fold`: ignoring ASCII case).
pub fn matches(pattern: &str, text: &str, fold: bool) -> bool {
    run(&tokens(pattern), text, fold, false)
}

/// Whether `pattern` matches some string that starts with `prefix`.
pub fn matches_some_under(pattern: &str, prefix: &str) -> bool {
    run(&tokens(pattern), prefix, false, true)
}

/// Iterative matcher with one backtrack point (linear in practice, never recursive). `open`:
/// the text is a prefix, so running out of text while the pattern continues is a match.
fn run(p: &[Tok], text: &str, fold: bool, open: bool) -> bool {
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    let eq = |a: char, b: char| if fold { a.eq_ignore_ascii_case(&b) } else { a == b };
    while ti < t.len() {
        match p.get(pi) {
            Some(Tok::Any) => {
                star = Some((pi, ti));
                pi += 1;
            }
            Some(Tok::One) => {
                pi += 1;
                ti += 1;
            }
            Some(Tok::Lit(c)) if t.get(ti).is_some_and(|x| eq(*c, *x)) => {
                pi += 1;
                ti += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    pi = sp + 1;
                    ti = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    open || p.get(pi..).is_some_and(|rest| rest.iter().all(|x| *x == Tok::Any))
}

#[cfg(test)]
mod tests {
    use super::*;

    // AWS: "${*}, ${?}, ${$}: represents the * (asterisk), ? (question mark) and $ (dollar sign)
    // character" —
    // https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html#policy-vars-specialchars
    #[test]
    fn fires_special_variables_are_the_literal_characters() {
        assert!(matches(
            "arn:aws:sqs:eu-west-1:1:q${*}",
            "arn:aws:sqs:eu-west-1:1:q*",
            false
        ));
        assert!(matches("q${?}x", "q?x", false));
        assert!(matches("a${$}{aws:username}", "a${aws:username}", false));
        assert!(matches("pre${$}*", "pre$anything", false));
        assert_eq!(literal("q${*}${?}${$}*"), "q*?$*");
    }

    #[test]
    fn near_miss_an_escaped_wildcard_matches_only_itself() {
        assert!(!matches("q${*}", "qanything", false));
        assert!(!matches("q${?}", "qx", false));
        assert!(!matches("q${*}", "q", false));
        // The unescaped forms still are wildcards.
        assert!(matches("q*", "qanything", false));
        assert!(matches("q?", "qx", false));
        assert!(matches_some_under("q${*}*", "q*a"));
        assert!(!matches_some_under("q${*}*", "qa"));
    }

    #[test]
    fn quiet_other_variables_and_plain_text() {
        assert!(has_variable("arn:aws:s3:::b/${aws:username}/*"));
        assert!(has_variable("a${*}b${aws:userid}"));
        assert!(!has_variable("a${*}b${?}c${$}"));
        assert!(!has_variable("plain*"));
        // An unterminated or unknown `${` is not special: kept as text.
        assert_eq!(tokens("${x"), vec![Tok::Lit('$'), Tok::Lit('{'), Tok::Lit('x')]);
        assert!(matches("S3:GET*", "s3:getobject", true));
        assert!(!matches("S3:GET*", "s3:getobject", false));
        assert!(matches("ünï?", "ünïc", false));
    }

    #[test]
    fn wildcards_are_star_and_question_mark_but_not_the_special_variables() {
        assert!(has_wildcard("arn:aws:aidevops:*:1:agentspace/x") && has_wildcard("a?b"));
        assert!(!has_wildcard("q${*}${?}${$}") && !has_wildcard("plain"));
        assert!(has_wildcard("q${*}*"));
    }
}
