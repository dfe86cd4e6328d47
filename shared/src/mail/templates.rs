//! Mail templates (minijinja), per language, embedded in the binary. Each
//! message has a `.txt` (blocks `subject`, `body`) and an `.html` (extending
//! `layout.html`, autoescaped).

use std::sync::OnceLock;

use minijinja::{Environment, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Template {
    Activation,
    AccountExists,
    EmailChangeConfirm,
    EmailChangeNotice,
    PasswordReset,
    PasswordChanged,
    AccountDeleted,
    SocialLinked,
    SocialLinkConfirm,
    SignInCode,
    SecurityNotice,
}

impl Template {
    pub fn name(self) -> &'static str {
        match self {
            Self::Activation => "activation",
            Self::AccountExists => "account_exists",
            Self::EmailChangeConfirm => "email_change_confirm",
            Self::EmailChangeNotice => "email_change_notice",
            Self::PasswordReset => "password_reset",
            Self::PasswordChanged => "password_changed",
            Self::AccountDeleted => "account_deleted",
            Self::SocialLinked => "social_linked",
            Self::SocialLinkConfirm => "social_link_confirm",
            Self::SignInCode => "sign_in_code",
            Self::SecurityNotice => "security_notice",
        }
    }
}

pub const LANGUAGES: &[&str] = &["en", "de"];

macro_rules! embed {
    ($env:ident, $($lang:literal / $name:literal),* $(,)?) => {
        $(
            $env.add_template(concat!($lang, "/", $name, ".txt"), include_str!(concat!("../../templates/", $lang, "/", $name, ".txt"))).expect("template parses");
            $env.add_template(concat!($lang, "/", $name, ".html"), include_str!(concat!("../../templates/", $lang, "/", $name, ".html"))).expect("template parses");
        )*
    };
}

fn environment() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        env.add_template("layout.html", include_str!("../../templates/layout.html")).expect("layout parses");
        embed!(
            env,
            "en" / "activation",
            "de" / "activation",
            "en" / "account_exists",
            "de" / "account_exists",
            "en" / "email_change_confirm",
            "de" / "email_change_confirm",
            "en" / "email_change_notice",
            "de" / "email_change_notice",
            "en" / "password_reset",
            "de" / "password_reset",
            "en" / "password_changed",
            "de" / "password_changed",
            "en" / "account_deleted",
            "de" / "account_deleted",
            "en" / "social_linked",
            "de" / "social_linked",
            "en" / "social_link_confirm",
            "de" / "social_link_confirm",
            "en" / "sign_in_code",
            "de" / "sign_in_code",
            "en" / "security_notice",
            "de" / "security_notice",
        );
        env
    })
}

/// The language to write in: the primary subtag of `preferred` (`de-CH` →
/// `de`) when we have it, else English.
pub fn language(preferred: Option<&str>) -> &'static str {
    let primary = preferred.unwrap_or("en").split(['-', '_']).next().unwrap_or("en").to_ascii_lowercase();
    LANGUAGES.iter().copied().find(|l| *l == primary).unwrap_or("en")
}

pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// Renders `template` in `lang` with `context` (which should carry `shop`,
/// and `link`, `first_name`, `new_email`, `provider` where the message uses them).
pub fn render(template: Template, lang: &str, context: Value) -> Result<Rendered, minijinja::Error> {
    let env = environment();
    let text_template = env.get_template(&format!("{lang}/{}.txt", template.name()))?;
    let mut captured = text_template.render_captured(context.clone())?;
    let subject = captured.with_state_mut(|state| state.render_block("subject"))?.trim().to_owned();
    let text = captured.with_state_mut(|state| state.render_block("body"))?.trim().to_owned() + "\n";
    let html = env.get_template(&format!("{lang}/{}.html", template.name()))?.render(context)?;
    Ok(Rendered { subject, text, html })
}

#[cfg(test)]
mod tests {
    use minijinja::context;

    use super::*;

    #[test]
    fn every_template_renders_in_every_language() {
        let all = [
            Template::Activation,
            Template::AccountExists,
            Template::EmailChangeConfirm,
            Template::EmailChangeNotice,
            Template::PasswordReset,
            Template::PasswordChanged,
            Template::AccountDeleted,
            Template::SocialLinked,
            Template::SocialLinkConfirm,
            Template::SignInCode,
            Template::SecurityNotice,
        ];
        for template in all {
            for lang in LANGUAGES {
                let r = render(
                    template,
                    lang,
                    context! { shop => "Shop & Co", link => "https://x.test/a?b=1&c=2", first_name => "Ann", new_email => "n@x.test", provider => "Google", lang => *lang },
                )
                .unwrap();
                assert!(r.subject.contains("Shop & Co"), "{template:?} {lang}: {}", r.subject);
                assert!(r.html.contains("Shop &amp; Co"), "html is escaped");
                assert!(!r.text.contains("&amp;"), "text is not escaped");
            }
        }
    }

    #[test]
    fn language_falls_back_to_english() {
        assert_eq!(language(Some("de-CH")), "de");
        assert_eq!(language(Some("DE")), "de");
        assert_eq!(language(Some("fr")), "en");
        assert_eq!(language(None), "en");
    }
}
