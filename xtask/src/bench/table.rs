//! The table's form: its columns, their alignment, the target column's words.

/// The column titles every table of the bench shares.
pub(super) fn table_header() -> [String; 5] {
    [
        "measurement".into(),
        "median".into(),
        "p95".into(),
        "target".into(),
        "notes".into(),
    ]
}

/// Columns padded to their widest cell: text left, the two number columns right, the
/// last column (free text) unpadded.
pub(super) fn align(rows: &[[String; 5]]) -> String {
    let mut widths = [0usize; 5];
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in rows {
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate() {
            let pad = " ".repeat(widths[i] - cell.chars().count());
            match i {
                1 | 2 => line.push_str(&format!("{pad}{cell}  ")),
                4 => line.push_str(cell),
                _ => line.push_str(&format!("{cell}{pad}  ")),
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// A target's verdict for the table: "met" or "MISSED".
pub(super) fn met(ok: bool) -> &'static str {
    if ok {
        "met"
    } else {
        "MISSED"
    }
}
