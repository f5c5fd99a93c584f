//! The AWS DevOps Agent's permission guardrail: the session policy the service applies to the
//! agent's sessions, which caps what the agent can do with the roles an Agent Space assumes
//! whatever those roles allow. No AWS API or configuration exposes it, so the config names a
//! file holding it as a JSON IAM policy document: `[devops_agent] guardrail = "FILE"` for every
//! space, `[agent_spaces.NAME] guardrail = "FILE"` for one space (it replaces the global one).
//! Paths are relative to the config file. Each file is read and parsed once, at config load;
//! every problem is a diagnostic at the `guardrail` value that names the file, with the line
//! and column inside the file where the problem is.
//!
//! "Agent Space roles … the agent enforces its own internal access controls to limit the scope
//! of its actions" (<https://docs.aws.amazon.com/devopsagent/latest/userguide/aws-devops-agent-security.html>);
//! a session policy limits a session to the intersection of the role's policies and the
//! session policy (<https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies.html#policies_session>).

use super::Config;
use crate::diagnostic::Diagnostic;
use crate::iam::Policy;
use std::path::Path;
use toml::Spanned;

/// A guardrail policy read from its file.
#[derive(Debug, Clone)]
pub struct Guardrail {
    /// The path as the config writes it (relative to the config file), to name it in findings.
    pub file: String,
    /// How evidence and messages name it: `DevOps Agent guardrail `FILE``.
    pub name: String,
    /// The policy document.
    pub policy: Policy,
}

/// Reads every guardrail the config names (`base`: the config file's directory), reporting
/// each problem into `out`.
pub(super) fn resolve(c: &mut Config, base: &Path, out: &mut Vec<Diagnostic>) {
    if let Some(file) = c.devops_agent.guardrail_file.clone() {
        c.devops_agent.guardrail = read(&file, base, "devops_agent.guardrail", out);
    }
    for (name, intent) in &mut c.agent_spaces {
        if let Some(file) = intent.guardrail_file.clone() {
            let key = format!("agent_spaces.{}.guardrail", name.get_ref());
            intent.guardrail = read(&file, base, &key, out);
        }
    }
}

/// The guardrail in `file` (relative to `base`); `None` after reporting why not.
fn read(file: &Spanned<String>, base: &Path, key: &str, out: &mut Vec<Diagnostic>) -> Option<Guardrail> {
    let written = file.get_ref();
    let mut problem = |message: String| {
        out.push(Diagnostic::new(
            format!("{key}: {message}"),
            Some(file.span()),
            "guardrail file",
        ));
    };
    if written.trim().is_empty() {
        problem("must name a JSON policy file".to_string());
        return None;
    }
    let path = base.join(written);
    let shown = path.display().to_string().replace('\\', "/");
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) => {
            problem(format!("cannot read guardrail `{shown}`: {e}"));
            return None;
        }
    };
    match crate::iam::session_policy::parse(&text) {
        Ok(policy) => Some(Guardrail {
            file: written.clone(),
            name: format!("DevOps Agent guardrail `{written}`"),
            policy,
        }),
        Err(e) => {
            problem(format!("guardrail `{shown}`{}", e.describe(&text)));
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::config::parse_config;
    use std::path::Path;

    const CHECKS: &[&str] = &["unused-ignore"];

    /// A config naming `guardrail` globally (`space`: for one space instead), with the guardrail
    /// file `g.json` holding `doc`, in a temporary directory.
    fn load(doc: &str, space: bool) -> Result<crate::config::Config, String> {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("g.json"), doc).unwrap();
        let text = if space {
            "[applications.a]\n[agent_spaces.a-oncall]\napplication = \"a\"\nguardrail = \"g.json\"\n"
        } else {
            "[devops_agent]\nguardrail = \"g.json\"\n"
        };
        let path = dir.path().join("topoguard.toml");
        parse_config(text, &path, CHECKS).map_err(|e| e.to_string())
    }

    const OK: &str = r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "lambda:PutFunctionConcurrency", "Resource": "*"}]}"#;

    #[test]
    fn a_guardrail_is_read_relative_to_the_config_for_all_spaces_or_one() {
        let c = load(OK, false).unwrap();
        let g = c.devops_agent.guardrail.as_ref().unwrap();
        assert_eq!(g.file, "g.json");
        assert_eq!(g.policy.statements.len(), 1);
        assert_eq!(c.guardrail_for("any-space").map(|g| g.file.as_str()), Some("g.json"));
        let c = load(OK, true).unwrap();
        assert!(c.devops_agent.guardrail.is_none());
        assert!(c.guardrail_for("a-oncall").is_some());
        // Near miss: another space gets no guardrail from a space's own.
        assert!(c.guardrail_for("b-oncall").is_none());
    }

    #[test]
    fn a_missing_guardrail_file_is_an_error_at_the_key() {
        let e = parse_config(
            "[devops_agent]\nguardrail = \"nowhere.json\"\n",
            Path::new("t.toml"),
            CHECKS,
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.starts_with(
                "config `t.toml` line 2, column 13: devops_agent.guardrail: cannot read guardrail `nowhere.json`"
            ),
            "{e}"
        );
        let e = parse_config("[devops_agent]\nguardrail = \" \"\n", Path::new("t.toml"), CHECKS)
            .unwrap_err()
            .to_string();
        assert!(e.contains("must name a JSON policy file"), "{e}");
        let e = parse_config("[devops_agent]\nguardrails = \"g.json\"\n", Path::new("t.toml"), CHECKS)
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 2") && e.contains("unknown field `guardrails`"), "{e}");
    }

    #[test]
    fn problems_inside_the_guardrail_name_its_line_and_column() {
        let e = load("{\n  \"Statement\": [\n    {\"Effect\": \"Allow\",\n", false).unwrap_err();
        assert!(
            e.contains("devops_agent.guardrail: guardrail `") && e.contains("g.json` line 4, column 1: not JSON"),
            "{e}"
        );
        let bad =
            "{\n  \"Statement\": [\n    {\"Effect\": \"Permit\", \"Action\": \"*\", \"Resource\": \"*\"}\n  ]\n}\n";
        let e = load(bad, true).unwrap_err();
        assert!(
            e.contains("agent_spaces.a-oncall.guardrail: guardrail `")
                && e.contains("g.json` line 3, column 16: Statement[0].Effect: must be `Allow` or `Deny`"),
            "{e}"
        );
        // An inline session policy names no principal (IAM rejects it as malformed).
        // https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies.html#policies_session
        let named =
            "{\"Statement\": {\"Effect\": \"Allow\", \"Principal\": \"*\", \"Action\": \"*\", \"Resource\": \"*\"}}";
        let e = load(named, false).unwrap_err();
        assert!(
            e.contains("line 1, column 15: Statement: a session policy cannot name"),
            "{e}"
        );
        assert!(load("[]", false).unwrap_err().contains("must be a JSON object"));
    }
}
