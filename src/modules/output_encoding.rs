//! `output_encoding` of the template module: the rendered text written in a Python codec
//! (`windows-1252`, `latin-1` …). Codecs are found by their WHATWG labels (encoding_rs),
//! except where Python's codec differs from the WHATWG one of that name (`latin-1` and
//! `ascii` are windows-1252 for WHATWG); a character the codec cannot write fails, as
//! Python's strict encoding does.

use crate::diagnostics::{Error, Result};

/// `text` in the codec `name`.
pub fn encode(text: &str, name: &str) -> Result<Vec<u8>> {
    let norm = name.trim().to_ascii_lowercase().replace('_', "-");
    let unmappable = |c: char| {
        Error::module(format!(
            "'{name}' codec can't encode character '\\u{{{:04x}}}': the rendered template has a character that encoding cannot write",
            c as u32
        ))
    };
    let one_byte = |max: u32| -> Result<Vec<u8>> {
        text.chars()
            .map(|c| {
                u8::try_from(c as u32)
                    .ok()
                    .filter(|b| u32::from(*b) <= max)
                    .ok_or_else(|| unmappable(c))
            })
            .collect()
    };
    match norm.as_str() {
        "" | "utf-8" | "utf8" => return Ok(text.as_bytes().to_vec()),
        "latin-1" | "latin1" | "iso-8859-1" | "iso8859-1" | "l1" => return one_byte(0xFF),
        "ascii" | "us-ascii" => return one_byte(0x7F),
        _ => {}
    }
    let encoding = encoding_rs::Encoding::for_label(norm.as_bytes())
        // UTF-16 has no encoder in WHATWG (it writes UTF-8 instead): not silently.
        .filter(|e| e.output_encoding() == *e)
        .ok_or_else(|| {
            Error::module(format!("unknown encoding: {name}")).with_help(
                "drover writes UTF-8, latin-1, ascii and the single- and multi-byte encodings of the WHATWG list (windows-1252, iso-8859-15, shift_jis …); not UTF-16/32",
            )
        })?;
    let (bytes, _, had_errors) = encoding.encode(text);
    if had_errors {
        let bad = text
            .chars()
            .find(|c| encoding.encode(&c.to_string()).2)
            .unwrap_or('?');
        return Err(unmappable(bad));
    }
    Ok(bytes.into_owned())
}

#[cfg(test)]
mod tests {
    use super::encode;

    #[test]
    fn single_byte_codecs() {
        assert_eq!(encode("é€", "windows-1252").unwrap(), vec![0xE9, 0x80]);
        assert_eq!(encode("é", "latin-1").unwrap(), vec![0xE9]);
        assert_eq!(encode("é", "UTF_8").unwrap(), "é".as_bytes());
        assert!(encode("€", "latin-1")
            .unwrap_err()
            .message
            .contains("can't encode"));
        assert!(encode("é", "ascii").is_err());
    }

    #[test]
    fn unknown_and_unwritable_codecs_are_refused() {
        assert!(encode("x", "klingon")
            .unwrap_err()
            .message
            .contains("unknown encoding: klingon"));
        assert!(encode("x", "utf-16").is_err());
    }
}
