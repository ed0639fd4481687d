//! Numbers and text as the report writes them, in its tables and in its charts' ticks: HTML
//! escaping, fixed decimals that never read "-0.0", signed figures and `m:ss` times.

/// Escapes text for HTML element content and quoted attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// `value` with `decimals` decimals ("n/a" when not finite; never "-0.0").
pub(crate) fn number(value: impl Into<f64>, decimals: usize) -> String {
    let value = value.into();
    if !value.is_finite() {
        return "n/a".into();
    }
    let text = format!("{value:.decimals$}");
    if text
        .trim_start_matches('-')
        .chars()
        .all(|c| c == '0' || c == '.')
    {
        text.trim_start_matches('-').to_string()
    } else {
        text
    }
}

/// Like [`number`] with an explicit `+` for positive values.
pub(crate) fn signed(value: impl Into<f64>, decimals: usize) -> String {
    let value = value.into();
    let text = number(value, decimals);
    if value.is_finite()
        && !text.starts_with('-')
        && text.chars().any(|c| c.is_ascii_digit() && c != '0')
    {
        format!("+{text}")
    } else {
        text
    }
}

/// `m:ss` (or `m:ss.s` when not a whole second).
pub(super) fn clock(seconds: f64) -> String {
    let tenths = (seconds.max(0.0) * 10.0).round() as u64;
    let (minutes, rest) = (tenths / 600, tenths % 600);
    if rest % 10 == 0 {
        format!("{minutes}:{:02}", rest / 10)
    } else {
        format!("{minutes}:{:02}.{}", rest / 10, rest % 10)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped() {
        assert_eq!(
            escape("<a href=\"x\">Tom & Jerry's</a>"),
            "&lt;a href=&quot;x&quot;&gt;Tom &amp; Jerry&#39;s&lt;/a&gt;"
        );
    }

    #[test]
    fn numbers_read_cleanly() {
        assert_eq!(number(-0.04, 1), "0.0");
        assert_eq!(number(-14.04, 1), "-14.0");
        assert_eq!(number(f32::NEG_INFINITY, 1), "n/a");
        assert_eq!(signed(1.25, 1), "+1.2");
        assert_eq!(signed(-0.01, 1), "0.0");
        assert_eq!(clock(83.0), "1:23");
        assert_eq!(clock(83.25), "1:23.3");
    }
}
