//! The chat prompt format: how `/v1/chat/completions` messages become one prompt text for the
//! subnet's tokenizer.
//!
//! The network's models are plain language models without a chat template, so the gateway
//! renders a conversation as a transcript: one line per message, `"{role}: {content}\n"`, then
//! `"assistant:"` for the model to continue. For example
//!
//! ```text
//! system: You are terse.
//! user: Name a colour.
//! assistant:
//! ```
//!
//! The answer is the continuation up to the first `"\n{role}:"` line the model starts (the
//! gateway adds `"\nuser:"` and `"\nsystem:"` as implicit stop sequences for chat requests, so a
//! model that goes on to write the user's next turn is cut there).

use crate::openai::ChatMessage;

/// Stop sequences added to every chat request: the model starting another turn.
pub const CHAT_STOPS: [&str; 2] = ["\nuser:", "\nsystem:"];

/// The prompt text of `messages` (see the module documentation).
pub fn chat_prompt(messages: &[ChatMessage]) -> String {
    let mut out = String::new();
    for m in messages {
        out.push_str(&m.role);
        out.push_str(": ");
        out.push_str(&m.content);
        out.push('\n');
    }
    out.push_str("assistant:");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_a_transcript() {
        let m = |role: &str, content: &str| ChatMessage {
            role: role.to_owned(),
            content: content.to_owned(),
        };
        assert_eq!(
            chat_prompt(&[m("system", "Be terse."), m("user", "Hi")]),
            "system: Be terse.\nuser: Hi\nassistant:"
        );
    }
}
