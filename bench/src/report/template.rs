//! The report's template language, as small as the report needs: `{{name}}` is a value,
//! `{{#name}}…{{/name}}` is shown when `name` has a non-empty value, `{{^name}}…{{/name}}` when it
//! has none. A block tag's own line break is dropped, so blocks leave no blank lines behind.
//! Blank lines never come in runs: a value or block that is empty leaves no gap. A name
//! without a value is an error: a renamed figure cannot silently print as nothing.

use std::collections::BTreeMap;

use anyhow::{bail, Context, Result};

#[derive(Default)]
pub struct Values(BTreeMap<String, String>);

impl Values {
    pub fn set(&mut self, name: impl Into<String>, value: impl Into<String>) {
        self.0.insert(name.into(), value.into());
    }

    /// A name blocks test, with no text of its own.
    pub fn flag(&mut self, name: impl Into<String>, on: bool) {
        self.set(name, if on { "1" } else { "" });
    }

    fn is_set(&self, name: &str) -> bool {
        self.0.get(name).is_some_and(|value| !value.is_empty())
    }
}

pub fn render(template: &str, values: &Values) -> Result<String> {
    let text = fill(template, values)?;
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        if !(line.trim().is_empty() && out.ends_with("\n\n")) {
            out.push_str(line);
        }
    }
    Ok(out)
}

fn fill(template: &str, values: &Values) -> Result<String> {
    let mut out = String::new();
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after
            .find("}}")
            .context("a `{{` in the report template is not closed")?;
        let tag = after[..end].trim();
        rest = &after[end + 2..];
        let block = tag
            .strip_prefix('#')
            .map(|name| (name, true))
            .or_else(|| tag.strip_prefix('^').map(|name| (name, false)));
        match block {
            Some((name, shown_when_set)) => {
                let closing = format!("{{{{/{name}}}}}");
                let close = rest.find(&closing).with_context(|| {
                    format!("the report template's block `{name}` is not closed")
                })?;
                let inner = rest[..close].strip_prefix('\n').unwrap_or(&rest[..close]);
                rest = &rest[close + closing.len()..];
                rest = rest.strip_prefix('\n').unwrap_or(rest);
                if values.is_set(name) == shown_when_set {
                    out.push_str(&fill(inner, values)?);
                }
            }
            None if tag.starts_with('/') => bail!("`{{{{{tag}}}}}` closes no open block"),
            None => match values.0.get(tag) {
                Some(value) => out.push_str(value),
                None => bail!("the report template names `{tag}`, which has no value"),
            },
        }
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_and_blocks_fill_in() -> Result<()> {
        let mut values = Values::default();
        values.set("x", "42");
        values.flag("on", true);
        values.flag("off", false);
        let text = "a {{x}}\n{{#on}}\nshown {{x}}\n{{/on}}\n{{#off}}\nhidden\n{{/off}}\n{{^off}}\nelse\n{{/off}}\nend\n";
        assert_eq!(render(text, &values)?, "a 42\nshown 42\nelse\nend\n");
        values.set("empty", "");
        assert_eq!(render("a\n\n{{empty}}\n\nb\n", &values)?, "a\n\nb\n");
        Ok(())
    }

    #[test]
    fn a_name_without_a_value_is_an_error() {
        let error = render("{{nope}}", &Values::default())
            .err()
            .map(|e| e.to_string());
        assert!(error.is_some_and(|e| e.contains("`nope`")));
        assert!(render("{{#open}}", &Values::default()).is_err());
        assert!(render("{{/stray}}", &Values::default()).is_err());
    }
}
