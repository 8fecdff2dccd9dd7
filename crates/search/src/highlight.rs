//! Building highlight snippets: HTML-escaped text with matches wrapped in `<em>…</em>`.

use std::collections::HashSet;
use std::ops::Range;

use tantivy::tokenizer::TextAnalyzer;

/// Highlights the tokens of `text` (as cut by `analyzer`, normally the indexing analyzer)
/// that are in `terms`; see [`render`].
pub fn highlight_terms(
    analyzer: &mut TextAnalyzer,
    text: &str,
    terms: &HashSet<String>,
    max_chars: usize,
) -> Option<String> {
    if terms.is_empty() {
        return None;
    }
    let mut ranges = Vec::new();
    let mut stream = analyzer.token_stream(text);
    while let Some(t) = stream.next() {
        if terms.contains(&t.text) {
            ranges.push(t.offset_from..t.offset_to);
        }
    }
    render(text, &ranges, max_chars)
}

/// Escapes `&`, `<`, `>`, `"` and `'` for HTML.
pub fn escape_html(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
}

/// Renders `text` with the byte ranges `matches` (any order, may overlap) wrapped in
/// `<em>…</em>`. Texts longer than `max_chars` characters are cut to a window that starts a
/// little before the first match, with `…` marking the cuts. Returns `None` without matches.
pub fn render(text: &str, matches: &[Range<usize>], max_chars: usize) -> Option<String> {
    let mut ranges: Vec<Range<usize>> = matches
        .iter()
        .filter(|r| r.start < r.end && r.end <= text.len())
        .filter(|r| text.is_char_boundary(r.start) && text.is_char_boundary(r.end))
        .cloned()
        .collect();
    if ranges.is_empty() {
        return None;
    }
    ranges.sort_by_key(|r| (r.start, r.end));
    let mut merged: Vec<Range<usize>> = Vec::with_capacity(ranges.len());
    for r in ranges {
        match merged.last_mut() {
            Some(last) if r.start <= last.end => last.end = last.end.max(r.end),
            _ => merged.push(r),
        }
    }

    // Window in bytes.
    let total_chars = text.chars().count();
    let (win_start, win_end) = if total_chars <= max_chars {
        (0, text.len())
    } else {
        let first = merged[0].start;
        let lead = 16.min(max_chars / 4);
        let first_char = text[..first].chars().count();
        let start_char = first_char.saturating_sub(lead);
        let start_char = start_char.min(total_chars.saturating_sub(max_chars));
        let start = text
            .char_indices()
            .nth(start_char)
            .map_or(text.len(), |(i, _)| i);
        let end = text[start..]
            .char_indices()
            .nth(max_chars)
            .map_or(text.len(), |(i, _)| start + i);
        (start, end)
    };

    let mut out = String::with_capacity(text.len() + merged.len() * 9 + 8);
    if win_start > 0 {
        out.push('…');
    }
    let mut pos = win_start;
    for r in merged {
        let s = r.start.max(win_start);
        let e = r.end.min(win_end);
        if s >= e {
            continue;
        }
        escape_html(&text[pos..s], &mut out);
        out.push_str("<em>");
        escape_html(&text[s..e], &mut out);
        out.push_str("</em>");
        pos = e;
    }
    if pos < win_end {
        escape_html(&text[pos..win_end], &mut out);
    }
    if win_end < text.len() {
        out.push('…');
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_and_escapes() {
        let t = "锂离子<电池>";
        let s = t.find("电池").unwrap();
        assert_eq!(
            render(t, &[s..s + 6, s..s + 3], 100).unwrap(),
            "锂离子&lt;<em>电池</em>&gt;"
        );
        assert_eq!(render("abc", &[], 10), None);
        assert_eq!(render("abcd", &[0..2, 1..3], 10).unwrap(), "<em>abc</em>d");
        let long = "x".repeat(100) + "hit" + &"y".repeat(100);
        let r = render(&long, &[100..103, 101..102], 40).unwrap();
        assert!(r.starts_with('…') && r.ends_with('…') && r.contains("<em>hit</em>"));
    }
}
