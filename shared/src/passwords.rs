//! Password hashing: argon2id (m=19456 KiB, t=2, p=1), PHC strings, run off the
//! async executor. Unknown accounts are verified against a dummy hash so that
//! timing does not tell whether an account exists. Imported legacy hashes
//! (bcrypt, scrypt, PBKDF2) verify too, and `needs_rehash` tells login to
//! replace them (and argon2 hashes with weaker parameters) by argon2id.
//!
//! Argon2 runs in memory this module keeps (see `ArgonMemory`) rather than in
//! a fresh 19 MiB allocation per hash: mapping and faulting in new pages
//! cost more than the hash itself in a warm Lambda container.
//!
//! At most `PASSWORD_HASH_CONCURRENCY` (default: the available cores) hashes
//! run at once per process, each in one of as many kept memory sets, so memory
//! is bounded however many requests arrive; up to `PASSWORD_HASH_QUEUE` more
//! wait for a turn, and beyond that the request is answered 503 at once.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use argon2::password_hash::PasswordVerifier as _;
use argon2::password_hash::phc::{Output, ParamsString, PasswordHash, Salt};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use secrecy::{ExposeSecret, SecretString};

use crate::domain::Password;

#[derive(Debug, thiserror::Error)]
pub enum HashError {
    #[error("password hashing failed: {0}")]
    Hash(String),
    #[error("hashing task failed: {0}")]
    Join(#[from] tokio::task::JoinError),
    /// More password checks are waiting than the process takes.
    #[error("too many password checks waiting")]
    Busy,
}

/// The turns of password work: `limit` at once, `queue` more waiting.
struct Gate {
    turns: tokio::sync::Semaphore,
    limit: usize,
    waiting: AtomicUsize,
    queue: usize,
}

fn env_count(name: &str) -> Option<usize> {
    std::env::var(name).ok()?.trim().parse().ok().filter(|n: &usize| *n > 0)
}

impl Gate {
    fn new(limit: usize, queue: usize) -> Self {
        Self { turns: tokio::sync::Semaphore::new(limit), limit, waiting: AtomicUsize::new(0), queue }
    }

    /// Runs CPU-heavy password work on the blocking pool when a turn is free,
    /// waiting for one while the queue has room.
    async fn run<T: Send + 'static>(&self, work: impl FnOnce() -> T + Send + 'static) -> Result<T, HashError> {
        if self.waiting.fetch_add(1, Ordering::SeqCst) >= self.queue {
            self.waiting.fetch_sub(1, Ordering::SeqCst);
            return Err(HashError::Busy);
        }
        let turn = self.turns.acquire().await;
        self.waiting.fetch_sub(1, Ordering::SeqCst);
        let _turn = turn.map_err(|_| HashError::Busy)?;
        Ok(tokio::task::spawn_blocking(work).await?)
    }
}

fn gate() -> &'static Gate {
    static GATE: OnceLock<Gate> = OnceLock::new();
    GATE.get_or_init(|| {
        let cores = std::thread::available_parallelism().map(usize::from).unwrap_or(1);
        let limit = env_count("PASSWORD_HASH_CONCURRENCY").unwrap_or(cores);
        let queue = env_count("PASSWORD_HASH_QUEUE").unwrap_or((32 * limit).max(64));
        Gate::new(limit, queue)
    })
}

async fn in_turn<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Result<T, HashError> {
    gate().run(work).await
}

/// New hashes: argon2id v19 with the crate's default parameters, m=19456 KiB,
/// t=2, p=1 (OWASP's first choice). The PHC string names the same three.
const ALGORITHM: Algorithm = Algorithm::Argon2id;
const VERSION: Version = Version::V0x13;

fn argon2() -> Argon2<'static> {
    Argon2::new(ALGORITHM, VERSION, Params::default())
}

/// What unknown accounts are verified against: an argon2id hash, with the
/// current parameters, of a random password nobody kept. A constant, so cold
/// start does not spend a full hash (≈ 20 ms) computing one.
const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$xsphnvp0DmYNsZs0XZqfjQ$s5j/KsIrVDgwn+zzfwf/xNLwYoAhyy8QEVL7gn2AoVs";

pub async fn hash(password: &Password) -> Result<String, HashError> {
    let secret = SecretString::from(password.expose().to_owned());
    in_turn(move || hash_argon2(secret.expose_secret().as_bytes())).await?
}

fn hash_argon2(password: &[u8]) -> Result<String, HashError> {
    let context = argon2();
    let salt = Salt::generate();
    let output = argon2_output(&context, password, &salt, Params::DEFAULT_OUTPUT_LEN)?;
    let phc = PasswordHash {
        algorithm: ALGORITHM.ident(),
        version: Some(VERSION.into()),
        params: ParamsString::try_from(context.params()).map_err(|e| HashError::Hash(e.to_string()))?,
        salt: Some(salt),
        hash: Some(output),
    };
    Ok(phc.to_string())
}

/// Verifies `password` against `stored` (a PHC string), or against a dummy
/// hash when there is none, so both paths cost one argon2id verify.
pub async fn verify(password: &Password, stored: Option<Arc<str>>) -> Result<bool, HashError> {
    let secret = SecretString::from(password.expose().to_owned());
    in_turn(move || {
        let (phc, real) = match &stored {
            Some(phc) => (phc.as_ref(), true),
            None => (DUMMY_HASH, false),
        };
        let ok = match Scheme::of(phc) {
            Some(scheme) => verify_with(scheme, secret.expose_secret(), phc),
            None => {
                // A corrupt stored hash must not open the account; still spend the time.
                let _ = verify_with(Scheme::Argon2, secret.expose_secret(), DUMMY_HASH);
                false
            }
        };
        Ok(ok && real)
    })
    .await?
}

/// The hash schemes a stored password may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    Argon2,
    Bcrypt,
    Scrypt,
    Pbkdf2,
}

impl Scheme {
    /// Recognises a stored hash: bcrypt's modular crypt format, or a PHC string.
    pub fn of(stored: &str) -> Option<Self> {
        if ["$2a$", "$2b$", "$2y$"].iter().any(|p| stored.starts_with(p)) {
            return (stored.len() == 60).then_some(Self::Bcrypt);
        }
        let parsed = PasswordHash::new(stored).ok()?;
        match parsed.algorithm.as_str() {
            "argon2id" | "argon2i" | "argon2d" => Some(Self::Argon2),
            "scrypt" => Some(Self::Scrypt),
            "pbkdf2-sha256" | "pbkdf2-sha512" => Some(Self::Pbkdf2),
            _ => None,
        }
    }
}

fn verify_with(scheme: Scheme, password: &str, stored: &str) -> bool {
    if scheme == Scheme::Bcrypt {
        return bcrypt::verify(password, stored).unwrap_or(false);
    }
    let Ok(parsed) = PasswordHash::new(stored) else { return false };
    let bytes = password.as_bytes();
    // Each verifier takes its parameters (and PBKDF2 its digest) from the hash itself.
    match scheme {
        Scheme::Argon2 => verify_argon2(bytes, &parsed),
        Scheme::Scrypt => scrypt::Scrypt::new().verify_password(bytes, &parsed).is_ok(),
        Scheme::Pbkdf2 => pbkdf2::Pbkdf2::SHA256.verify_password(bytes, &parsed).is_ok(),
        Scheme::Bcrypt => false,
    }
}

/// What `Argon2::verify_password` does, with the hash computed in kept memory.
fn verify_argon2(password: &[u8], stored: &PasswordHash) -> bool {
    let (Some(salt), Some(expected)) = (&stored.salt, &stored.hash) else { return false };
    let Ok(algorithm) = Algorithm::try_from(stored.algorithm.as_str()) else { return false };
    let Ok(version) = stored.version.map_or(Ok(Version::default()), Version::try_from) else { return false };
    // Takes m, t, p from the string and the output length from the stored hash.
    let Ok(params) = Params::try_from(stored) else { return false };
    let context = Argon2::new(algorithm, version, params);
    // `Output`'s equality is constant-time.
    argon2_output(&context, password, salt, expected.len()).is_ok_and(|computed| computed == *expected)
}

fn argon2_output(context: &Argon2<'_>, password: &[u8], salt: &[u8], len: usize) -> Result<Output, HashError> {
    let error = |e: &dyn std::fmt::Display| HashError::Hash(e.to_string());
    let mut buffer = [0u8; Output::MAX_LENGTH];
    let out = buffer.get_mut(..len).ok_or_else(|| error(&"output too long"))?;
    ARGON_MEMORY
        .with_blocks(context.params().block_count(), |blocks| {
            context.hash_password_into_with_memory(password, salt, out, blocks)
        })
        .map_err(|e| error(&e))?;
    Output::new(out).map_err(|e| error(&e))
}

/// Argon2 working memory kept between hashes: one set per turn (see `Gate`),
/// so a process never holds more than its turns' worth (≈ 19 MiB each with
/// the default parameters), resident like the rest of the process. A Lambda
/// container hashes one request at a time and keeps one set. A set grown
/// beyond the default size for a stored hash with a larger m is freed after
/// use, so that one imported hash cannot pin its memory.
struct ArgonMemory {
    free: Mutex<Vec<Vec<Block>>>,
}

static ARGON_MEMORY: ArgonMemory = ArgonMemory { free: Mutex::new(Vec::new()) };

impl ArgonMemory {
    fn with_blocks<R>(&self, count: usize, use_blocks: impl FnOnce(&mut [Block]) -> R) -> R {
        let taken = self.free.lock().unwrap_or_else(PoisonError::into_inner).pop();
        let mut blocks = taken.unwrap_or_default();
        // Argon2's first pass overwrites every block before reading it, so
        // what an earlier hash left needs no clearing.
        if blocks.len() < count {
            blocks.resize(count, Block::new());
        }
        let result = use_blocks(&mut blocks[..count]);
        let mut free = self.free.lock().unwrap_or_else(PoisonError::into_inner);
        if free.len() < gate().limit && blocks.len() <= Params::DEFAULT_M_COST as usize {
            free.push(blocks);
        }
        result
    }
}

/// Whether a stored hash should be replaced by a current argon2id hash at the
/// next successful login: any other scheme, or argon2 with other parameters.
pub fn needs_rehash(stored: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(stored) else { return true };
    if parsed.algorithm.as_str() != "argon2id" {
        return true;
    }
    let current = argon2::Params::default();
    let param = |name: &str| parsed.params.get_decimal(name);
    param("m") != Some(current.m_cost()) || param("t") != Some(current.t_cost()) || param("p") != Some(current.p_cost())
}

#[cfg(test)]
mod tests {
    use argon2::password_hash::PasswordHasher as _;

    use super::*;

    #[tokio::test]
    async fn hashes_verify_and_unknown_accounts_never_pass() {
        let pw = Password::parse("correct horse battery".into()).unwrap();
        let phc = hash(&pw).await.unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(verify(&pw, Some(phc.clone().into())).await.unwrap());
        let wrong = Password::parse("wrong".into()).unwrap();
        assert!(!verify(&wrong, Some(phc.into())).await.unwrap());
        let dummy_pw = Password::parse("dummy password for unknown accounts".into()).unwrap();
        assert!(!verify(&dummy_pw, None).await.unwrap());
        assert!(!verify(&pw, Some("not a phc string".into())).await.unwrap());
    }

    #[test]
    fn hashes_in_kept_memory_match_the_crates_own() {
        let pw = b"cross-checked password";
        let ours = hash_argon2(pw).unwrap();
        assert!(Argon2::default().verify_password(pw, &PasswordHash::new(&ours).unwrap()).is_ok());
        let with = |algorithm, version, params| Argon2::new(algorithm, version, params).hash_password(pw).unwrap();
        let small = || Params::new(1024, 1, 1, None).unwrap();
        // Default, smaller, other variants and versions, then default again:
        // the kept memory shrinks and grows between them.
        let theirs = [
            Argon2::default().hash_password(pw).unwrap(),
            with(Algorithm::Argon2id, Version::V0x13, small()),
            with(Algorithm::Argon2i, Version::V0x10, small()),
            with(Algorithm::Argon2d, Version::V0x13, Params::new(2048, 2, 2, Some(64)).unwrap()),
            PasswordHash::new(&ours).unwrap(),
        ];
        for stored in theirs {
            assert!(verify_argon2(pw, &stored), "{stored}");
            assert!(!verify_argon2(b"another password", &stored), "{stored}");
        }
    }

    #[tokio::test]
    async fn work_beyond_the_turns_and_the_queue_is_refused_at_once() {
        let gate = Arc::new(Gate::new(1, 1));
        let (release, wait) = std::sync::mpsc::channel::<()>();
        let wait = Arc::new(Mutex::new(wait));
        let busy = {
            let (gate, wait) = (gate.clone(), wait.clone());
            tokio::spawn(async move { gate.run(move || wait.lock().unwrap().recv().ok()).await })
        };
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        let queued = {
            let gate = gate.clone();
            tokio::spawn(async move { gate.run(|| 2).await })
        };
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        assert!(matches!(gate.run(|| 3).await, Err(HashError::Busy)), "one turn, one waiting: the third is refused");
        release.send(()).unwrap();
        assert!(busy.await.unwrap().is_ok());
        assert_eq!(queued.await.unwrap().unwrap(), 2, "the waiting one gets its turn");
    }

    #[test]
    fn the_dummy_hash_costs_what_a_real_one_costs() {
        // Same parameters as fresh hashes, or unknown accounts would answer faster.
        assert!(!needs_rehash(DUMMY_HASH));
    }

    #[tokio::test]
    async fn legacy_hashes_verify_and_ask_for_a_rehash() {
        let pw = Password::parse("imported password 1".into()).unwrap();
        let wrong = Password::parse("imported password 2".into()).unwrap();
        let bcrypt = bcrypt::hash(pw.expose(), 4).unwrap();
        // Cheap parameters: the verifiers read them from the hash.
        let scrypt = scrypt::Scrypt::new_with_params(scrypt::Params::new(10, 8, 1).unwrap())
            .hash_password(pw.expose().as_bytes())
            .unwrap()
            .to_string();
        let pbkdf2 = pbkdf2::Pbkdf2::new(pbkdf2::Algorithm::Pbkdf2Sha256, pbkdf2::Params::new(1000).unwrap())
            .hash_password(pw.expose().as_bytes())
            .unwrap()
            .to_string();
        for stored in [bcrypt, scrypt, pbkdf2] {
            assert!(Scheme::of(&stored).is_some(), "{stored}");
            assert!(verify(&pw, Some(stored.clone().into())).await.unwrap(), "{stored}");
            assert!(!verify(&wrong, Some(stored.clone().into())).await.unwrap(), "{stored}");
            assert!(needs_rehash(&stored));
        }
        let current = hash(&pw).await.unwrap();
        assert!(!needs_rehash(&current));
        let weaker = Argon2::new(
            argon2::Algorithm::Argon2id,
            argon2::Version::V0x13,
            argon2::Params::new(4096, 1, 1, None).unwrap(),
        )
        .hash_password(pw.expose().as_bytes())
        .unwrap()
        .to_string();
        assert!(verify(&pw, Some(weaker.clone().into())).await.unwrap());
        assert!(needs_rehash(&weaker));
    }
}
