//! A tiny deterministic PRNG (SplitMix64) so that a generated bundle depends only on its seed.
//!
//! SplitMix64 is a handful of integer operations, passes BigCrush for this kind of use, and
//! makes independent sub-streams trivial: [`Prng::derive`] mixes a path of integers into a new
//! seed, so each object (a pod, a log) draws from its own stream and adding one namespace does
//! not shift the content of every other one. Only integer and basic IEEE float operations are
//! used, so the output is the same on every platform.

/// The SplitMix64 increment (the golden ratio in 64-bit fixed point).
const GOLDEN_GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;

/// A SplitMix64 generator.
#[derive(Debug, Clone)]
pub struct Prng {
    state: u64,
}

impl Prng {
    pub fn new(seed: u64) -> Prng {
        Prng { state: seed }
    }

    /// A generator whose stream depends on `seed` and every element of `path`, and on their
    /// order; `derive(s, &[1, 2])` and `derive(s, &[2, 1])` are unrelated streams.
    pub fn derive(seed: u64, path: &[u64]) -> Prng {
        let mut state = mix(seed ^ GOLDEN_GAMMA);
        for &part in path {
            state = mix(state ^ mix(part.wrapping_add(GOLDEN_GAMMA)));
        }
        Prng::new(state)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(GOLDEN_GAMMA);
        mix(self.state)
    }

    /// A value in `0..n` (0 when `n` is 0). Lemire's multiply-shift: the bias is below 2^-32
    /// for the small ranges used here, and it needs no loop.
    pub fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// A value in `low..=high`.
    pub fn between(&mut self, low: u64, high: u64) -> u64 {
        low + self.below(high.saturating_sub(low) + 1)
    }

    /// True with probability `per_million / 1_000_000`.
    pub fn chance(&mut self, per_million: u64) -> bool {
        self.below(1_000_000) < per_million
    }

    /// A uniform float in `[0, 1)` with 53 bits of precision.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// One element of a non-empty slice.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }

    /// `n` characters of `alphabet`, as Kubernetes draws name suffixes.
    pub fn chars(&mut self, alphabet: &[u8], n: usize, out: &mut String) {
        for _ in 0..n {
            out.push(char::from(*self.pick(alphabet)));
        }
    }

    /// A random (version 4 shaped) UUID, as the API server assigns to `metadata.uid`.
    pub fn uuid(&mut self) -> String {
        let high = self.next_u64();
        let low = self.next_u64();
        format!(
            "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
            high >> 32,
            (high >> 16) & 0xffff,
            high & 0x0fff,
            ((low >> 48) & 0x3fff) | 0x8000,
            low & 0xffff_ffff_ffff
        )
    }

    /// `n` lower-case hex digits.
    pub fn hex(&mut self, n: usize) -> String {
        let mut out = String::with_capacity(n);
        self.chars(b"0123456789abcdef", n, &mut out);
        out
    }
}

/// The SplitMix64 output function (Stafford's Mix13).
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_reference_splitmix64_sequence() {
        // Vigna's reference splitmix64.c, seeded with 1234567.
        let mut prng = Prng::new(1_234_567);
        let first: Vec<u64> = (0..5).map(|_| prng.next_u64()).collect();
        assert_eq!(
            first,
            [
                6_457_827_717_110_365_317,
                3_203_168_211_198_807_973,
                9_817_491_932_198_370_423,
                4_593_380_528_125_082_431,
                16_408_922_859_458_223_821
            ]
        );
    }

    #[test]
    fn same_seed_same_stream_and_derived_streams_differ() {
        let a: Vec<u64> = {
            let mut prng = Prng::derive(7, &[1, 2]);
            (0..100).map(|_| prng.next_u64()).collect()
        };
        let b: Vec<u64> = {
            let mut prng = Prng::derive(7, &[1, 2]);
            (0..100).map(|_| prng.next_u64()).collect()
        };
        assert_eq!(a, b);
        let swapped = Prng::derive(7, &[2, 1]).next_u64();
        let other_seed = Prng::derive(8, &[1, 2]).next_u64();
        assert_ne!(a[0], swapped);
        assert_ne!(a[0], other_seed);
    }

    #[test]
    fn below_stays_in_range_and_covers_it() {
        let mut prng = Prng::new(42);
        let mut seen = [0u32; 7];
        for _ in 0..7_000 {
            let value = prng.below(7);
            assert!(value < 7);
            seen[value as usize] += 1;
        }
        // Each bucket expects 1,000; a fair generator stays well inside 800..1,200.
        assert!(seen.iter().all(|&count| (800..1_200).contains(&count)), "{seen:?}");
        assert_eq!(prng.below(0), 0);
    }

    #[test]
    fn uuid_has_the_version_4_shape() {
        let uuid = Prng::new(3).uuid();
        let groups: Vec<&str> = uuid.split('-').collect();
        assert_eq!(groups.iter().map(|g| g.len()).collect::<Vec<_>>(), [8, 4, 4, 4, 12]);
        assert!(groups[2].starts_with('4'));
        assert!(matches!(groups[3].as_bytes()[0], b'8' | b'9' | b'a' | b'b'));
    }
}
