//! Names that come from outside (config, snapshot) and may end up in file names or IAM names.
//!
//! - Agent Space names follow AWS's own constraint for `CreateAgentSpace`: 1–255 characters of
//!   letters, numbers, punctuation, symbols and separators (`[\p{L}\p{N}\p{P}\p{S}\p{Z}]+`,
//!   <https://docs.aws.amazon.com/cli/latest/reference/devops-agent/create-agent-space.html>).
//!   topoguard rejects control characters (Cc), format characters such as the bidirectional
//!   overrides (Cf) and private-use characters (Co); it does not have Unicode tables to reject
//!   the remaining categories AWS excludes (combining marks, unassigned code points).
//! - [`file_name`] encodes any name into one safe path component.

/// Longest Agent Space name AWS accepts.
pub const AGENT_SPACE_NAME_MAX: usize = 255;

/// Why `name` cannot be an Agent Space name, or `None` when it can.
pub fn agent_space_name_problem(name: &str) -> Option<String> {
    let count = name.chars().count();
    if count == 0 {
        return Some("an Agent Space name must not be empty".to_string());
    }
    if count > AGENT_SPACE_NAME_MAX {
        return Some(format!(
            "an Agent Space name has at most {AGENT_SPACE_NAME_MAX} characters, this one has {count}"
        ));
    }
    if let Some(c) = name
        .chars()
        .find(|c| c.is_control() || is_format(*c) || is_private_use(*c))
    {
        return Some(format!(
            "an Agent Space name must not contain the control or format character U+{:04X}",
            u32::from(c)
        ));
    }
    None
}

/// Unicode format characters (category Cf).
fn is_format(c: char) -> bool {
    matches!(u32::from(c),
        0xAD | 0x600..=0x605 | 0x61C | 0x6DD | 0x70F | 0x890..=0x891 | 0x8E2 | 0x180E
        | 0x200B..=0x200F | 0x202A..=0x202E | 0x2060..=0x2064 | 0x2066..=0x206F | 0xFEFF
        | 0xFFF9..=0xFFFB | 0x110BD | 0x110CD | 0x13430..=0x1343F | 0x1BCA0..=0x1BCA3
        | 0x1D173..=0x1D17A | 0xE0001 | 0xE0020..=0xE007F)
}

/// Private-use characters (category Co).
fn is_private_use(c: char) -> bool {
    matches!(u32::from(c), 0xE000..=0xF8FF | 0xF0000..=0xFFFFD | 0x100000..=0x10FFFD)
}

/// Longest file name [`file_name`] returns, in bytes (file systems allow 255).
const FILE_NAME_MAX: usize = 200;

/// `name` as one path component: ASCII letters, digits and `- _ . @ = + ,` are kept, every
/// other byte of its UTF-8 becomes `%XX` (so `/`, `\`, `%`, control characters and non-ASCII
/// never reach the file system raw), a leading `.` becomes `%2E` (no `.`, `..` or hidden files),
/// and a result longer than 200 bytes is cut and ends with a hash of the whole name. Names that
/// are already safe are unchanged; distinct names give distinct file names.
pub fn file_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for (i, b) in name.bytes().enumerate() {
        let keep = b.is_ascii_alphanumeric() || b"-_@=+,".contains(&b) || (b == b'.' && i > 0);
        if keep {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    if out.is_empty() {
        return "%00".to_string();
    }
    if out.len() > FILE_NAME_MAX {
        let mut cut = FILE_NAME_MAX - 17;
        // never cut inside a `%XX` (the text is ASCII here)
        let bytes = out.as_bytes();
        while cut > 0 && (bytes.get(cut - 1) == Some(&b'%') || cut >= 2 && bytes.get(cut - 2) == Some(&b'%')) {
            cut -= 1;
        }
        out.truncate(cut);
        out.push_str(&format!("-{:016x}", fnv1a(name.as_bytes())));
    }
    out
}

/// 64-bit FNV-1a: a stable, dependency-free hash for shortened file names.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    // https://docs.aws.amazon.com/cli/latest/reference/devops-agent/create-agent-space.html
    #[test]
    fn agent_space_names_follow_aws() {
        for ok in [
            "invoice-oncall",
            "Équipe facturation",
            "a/b ../c",
            "x",
            &"n".repeat(255),
        ] {
            assert_eq!(agent_space_name_problem(ok), None, "{ok}");
        }
        for bad in [
            "",
            "a\u{0}b",
            "line\nbreak",
            "esc\u{1b}[31m",
            "rtl\u{202e}txt",
            "zw\u{200b}j",
            &"n".repeat(256),
        ] {
            assert!(agent_space_name_problem(bad).is_some(), "{bad:?}");
        }
    }

    #[test]
    fn file_names_are_one_safe_component() {
        assert_eq!(file_name("invoice-oncall"), "invoice-oncall");
        assert_eq!(file_name("111111111111"), "111111111111");
        assert_eq!(file_name("a.b"), "a.b");
        assert_eq!(file_name(".."), "%2E.");
        assert_eq!(file_name("."), "%2E");
        assert_eq!(file_name("../etc/passwd"), "%2E.%2Fetc%2Fpasswd");
        assert_eq!(file_name("a b\u{0}"), "a%20b%00");
        assert_eq!(file_name("50%"), "50%25");
        assert_eq!(file_name(""), "%00");
        for hostile in [
            "/abs",
            "a\\b",
            "é",
            "\u{202e}",
            "${path.cwd}",
            "%{ if }",
            "<script>",
            "]]>",
            "`x`|y",
        ] {
            let f = file_name(hostile);
            assert!(
                f.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.@=+,%".contains(&b)),
                "{f}"
            );
            assert!(!f.starts_with('.'), "{f}");
        }
        let long = file_name(&"é".repeat(300));
        assert!(long.len() <= FILE_NAME_MAX, "{}", long.len());
        assert_ne!(long, file_name(&"é".repeat(301)));
    }
}
