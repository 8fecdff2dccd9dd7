//! Building highlight snippets: HTML-escaped text with matches wrapped in `<em>…</em>`.

use std::collections::HashSet;
use std::ops::Range;

/// Highlights the occurrences in `text` of the analysed query `terms` (lower-case, as the
/// analyzers emit them); see [`render`].
///
/// Matching is by substring on an ASCII-lower-cased copy of `text` (same byte offsets), not by
/// re-tokenising the text: re-cutting every hit's title and summary with jieba cost as much
/// CPU as the search itself. A Chinese term matches wherever it occurs (jieba's search-mode
/// sub-words make that what the index matched too). A term of ASCII letters and digits must
/// start a word and is widened to the end of that word, so the stem `batteri` highlights
/// `Batteries` and `ion` does not light up inside `fusion`.
pub fn highlight_terms(text: &str, terms: &HashSet<String>, max_chars: usize) -> Option<String> {
    if terms.is_empty() {
        return None;
    }
    let lower = text.to_ascii_lowercase();
    let bytes = lower.as_bytes();
    let mut ranges = Vec::new();
    for t in terms {
        if t.is_empty() {
            continue;
        }
        let word = t.bytes().all(|b| b.is_ascii_alphanumeric());
        let mut from = 0;
        while let Some(i) = lower[from..].find(t.as_str()) {
            let start = from + i;
            let mut end = start + t.len();
            from = end;
            if word {
                if start > 0 && bytes[start - 1].is_ascii_alphanumeric() {
                    continue;
                }
                while end < bytes.len() && bytes[end].is_ascii_alphanumeric() {
                    end += 1;
                }
            }
            ranges.push(start..end);
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

    fn terms(t: &[&str]) -> HashSet<String> {
        t.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn highlights_chinese_substrings_and_whole_english_words() {
        assert_eq!(
            highlight_terms("固态锂电池与电池管理", &terms(&["电池"]), 100).unwrap(),
            "固态锂<em>电池</em>与<em>电池</em>管理"
        );
        assert_eq!(
            highlight_terms("Solid-state Batteries for EVs", &terms(&["batteri"]), 100).unwrap(),
            "Solid-state <em>Batteries</em> for EVs"
        );
        // An ASCII term must start a word.
        assert_eq!(
            highlight_terms("fusion reactor", &terms(&["ion"]), 100),
            None
        );
        assert_eq!(
            highlight_terms("锂ion电池", &terms(&["ion", "锂"]), 100).unwrap(),
            "<em>锂ion</em>电池"
        );
        assert_eq!(highlight_terms("芯片", &terms(&[]), 100), None);
    }
}
