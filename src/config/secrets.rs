//! The secrets sportello needs, from the environment only, never from the configuration
//! file; their `Debug` says whether each is set, never what it is.

use std::collections::BTreeMap;

/// Secrets, from the environment only. Per-comune values override the shared ones: the
/// variable names are built from the comune id in upper case with `-` as `_`
/// (`isola-delle-femmine` → `ISOLA_DELLE_FEMMINE`).
#[derive(Clone, Default)]
pub struct Secrets {
    /// `SPORTELLO_WHATSAPP_APP_SECRET`: verifies `X-Hub-Signature-256`.
    pub whatsapp_app_secret: Option<String>,
    /// `SPORTELLO_WHATSAPP_VERIFY_TOKEN`: the webhook verification handshake.
    pub whatsapp_verify_token: Option<String>,
    whatsapp_token: Option<String>,
    env: BTreeMap<String, String>,
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print a secret, only whether it is set.
        f.debug_struct("Secrets")
            .field("whatsapp_app_secret", &self.whatsapp_app_secret.is_some())
            .field("whatsapp_verify_token", &self.whatsapp_verify_token.is_some())
            .field("whatsapp_token", &self.whatsapp_token.is_some())
            .finish_non_exhaustive()
    }
}

pub(super) fn env_suffix(comune: &str) -> String {
    comune.to_ascii_uppercase().replace('-', "_")
}

impl Secrets {
    /// Reads the `SPORTELLO_*` variables of the process environment.
    pub fn from_env() -> Secrets {
        Secrets::from_vars(std::env::vars().filter(|(k, _)| k.starts_with("SPORTELLO_")))
    }

    /// From explicit variables (tests).
    pub fn from_vars(vars: impl IntoIterator<Item = (String, String)>) -> Secrets {
        let env: BTreeMap<String, String> = vars.into_iter().filter(|(_, v)| !v.is_empty()).collect();
        Secrets {
            whatsapp_app_secret: env.get("SPORTELLO_WHATSAPP_APP_SECRET").cloned(),
            whatsapp_verify_token: env.get("SPORTELLO_WHATSAPP_VERIFY_TOKEN").cloned(),
            whatsapp_token: env.get("SPORTELLO_WHATSAPP_TOKEN").cloned(),
            env,
        }
    }

    /// The Graph API access token for a comune: `SPORTELLO_WHATSAPP_TOKEN_<COMUNE>`, else
    /// `SPORTELLO_WHATSAPP_TOKEN`.
    pub fn whatsapp_token(&self, comune: &str) -> Option<&str> {
        self.env
            .get(&format!("SPORTELLO_WHATSAPP_TOKEN_{}", env_suffix(comune)))
            .or(self.whatsapp_token.as_ref())
            .map(String::as_str)
    }

    /// `SPORTELLO_TELEGRAM_TOKEN_<COMUNE>`: the bot token.
    pub fn telegram_token(&self, comune: &str) -> Option<&str> {
        self.env
            .get(&format!("SPORTELLO_TELEGRAM_TOKEN_{}", env_suffix(comune)))
            .map(String::as_str)
    }

    /// `SPORTELLO_TELEGRAM_SECRET_<COMUNE>`: the webhook's secret token.
    pub fn telegram_secret(&self, comune: &str) -> Option<&str> {
        self.env
            .get(&format!("SPORTELLO_TELEGRAM_SECRET_{}", env_suffix(comune)))
            .map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_come_from_variables_with_per_comune_overrides() {
        let s = Secrets::from_vars([
            ("SPORTELLO_WHATSAPP_TOKEN".to_string(), "shared".to_string()),
            (
                "SPORTELLO_WHATSAPP_TOKEN_ISOLA_DELLE_FEMMINE".to_string(),
                "own".to_string(),
            ),
            ("SPORTELLO_TELEGRAM_TOKEN_BRUSSON".to_string(), "123:abc".to_string()),
        ]);
        assert_eq!(s.whatsapp_token("isola-delle-femmine"), Some("own"));
        assert_eq!(s.whatsapp_token("isili"), Some("shared"));
        assert_eq!(s.telegram_token("brusson"), Some("123:abc"));
        assert_eq!(s.telegram_secret("brusson"), None);
        assert!(!format!("{s:?}").contains("shared"), "Debug must not print secrets");
    }
}
