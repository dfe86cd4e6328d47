//! Equal answers in equal time: routes whose work differs by whether an
//! e-mail has an account (sign-up, activation resend, password reset, e-mail
//! change) answer no sooner than a floor, so the known path (a transaction,
//! a mail) is not measurably slower than the unknown one.

use std::time::Duration;

use tokio::time::Instant;

/// Longer than either path takes in production (an argon2id hash, a
/// transaction and an SES call): the answer time is the floor's.
pub const RESPONSE_FLOOR: Duration = Duration::from_millis(400);

/// Started when the request's work starts; `wait` before answering.
pub struct ResponseFloor(Instant);

impl ResponseFloor {
    pub fn start() -> Self {
        Self(Instant::now() + RESPONSE_FLOOR)
    }

    pub async fn wait(self) {
        tokio::time::sleep_until(self.0).await;
    }
}
