//! The simplest synapse, shared by the examples: `dummy_output = dummy_input * 2`, hashed over
//! `dummy_input`. The Python side is `Dummy` in tests/clients/bt_synapses.py.

use serde::{Deserialize, Serialize};
use subtensor_axon::{AxonError, Synapse};

/// `dummy_output = dummy_input * 2`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Dummy {
    /// The input.
    pub(crate) dummy_input: i64,
    /// Twice the input, filled by the axon.
    #[serde(default)]
    pub(crate) dummy_output: Option<i64>,
}

impl Synapse for Dummy {
    const NAME: &'static str = "Dummy";
    const REQUIRED_HASH_FIELDS: &'static [&'static str] = &["dummy_input"];
    const REQUIRED_INPUT_DEFAULTS: &'static [(&'static str, &'static str)] =
        &[("dummy_input", "0")];

    fn hash_field_repr(&self, field: &str) -> Option<String> {
        (field == "dummy_input").then(|| self.dummy_input.to_string())
    }

    fn validate_request(&self) -> subtensor_axon::Result<()> {
        Ok(())
    }

    fn validate_response(&self) -> subtensor_axon::Result<()> {
        self.dummy_output.map(drop).ok_or_else(|| AxonError::Invalid("no dummy_output".into()))
    }
}
